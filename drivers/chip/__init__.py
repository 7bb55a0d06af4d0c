"""Reading the CCCD chip (ICAO Doc 9303 eMRTD) over PC/SC.

Layers, bottom up (after yubikit's smartcard design, no code copied):
`connection` only sends and receives bytes; `apdu` formats commands and
handles response chaining / wrong-length retries; `sm` wraps and unwraps
secure messaging; `reader.ChipReader` is the protocol object (PACE, BAC,
file reading, chip/active authentication) and raises the typed errors in
`errors`. `lds` parses the files and `passive` checks EF.SOD.
"""
