"""No name, ID number, card number or address in the logs, at the most verbose level."""

import subprocess

from kiosk.simulated import demo
from tests.conftest import kiosk_cmd

SECRETS = ["040195001234", "186543210", "Trần Thị Lan Anh", "Xóm 3", "Nghi Phong", "HS4400195001234", "4400195001234"]


def test_checkin_logs_carry_no_personal_data(kiosk_env):
    logs = ""
    for payload in (demo.ELIGIBLE_CCCD, demo.ELIGIBLE_CCCD, demo.ELIGIBLE_CCCD.replace("|Nữ|", "|X|")):
        out = subprocess.run(kiosk_cmd("--log-level", "DEBUG", "checkin", "--payload", payload, "--json"),
                             env=kiosk_env, capture_output=True, text=True, timeout=60)
        logs += out.stderr
    assert "event=checkin_new" in logs and "event=checkin_existing" in logs and "event=scan_refused" in logs
    for secret in SECRETS:
        assert secret not in logs, f"{secret!r} leaked into the log"


def test_redact_filter_masks_numbers_that_slip_through():
    from kiosk.logs import redact
    assert redact("id 040195001234 card HS4400195001234") == "id ********1234 card ***********1234"
