"""A CCCD chip emulator: the card side of PACE (CAN/MRZ), BAC, 3DES and AES
secure messaging, Chip and Active Authentication, with files built from a
JSON person profile and an EF.SOD signed by a test document signer.

Runs in-process (`InProcessConnection`) or as a vpcd client (`vpcd.serve`),
so pcscd + vsmartcard-vpcd show it as a real reader.
"""

from drivers.cccd_emulator.card import CardGone, CccdCard, InProcessConnection
from drivers.cccd_emulator.profile import Profile, load_profile

__all__ = ["CccdCard", "CardGone", "InProcessConnection", "Profile", "load_profile"]
