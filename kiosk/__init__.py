"""Clinic ID kiosk core: documents, identity, eligibility, store, check-in.

Nothing in this package imports Qt or touches hardware; drivers/, ui/ and
sync/ plug into the seams defined here.
"""

__version__ = "0.1.0"
