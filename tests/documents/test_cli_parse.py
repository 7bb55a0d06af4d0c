"""`kiosk parse` through the real console script: JSON contract, masking, stdin bytes, exit 2 with one line."""

from __future__ import annotations

import json
import subprocess

import pytest

from kiosk.simulated import demo
from tests.conftest import kiosk_cmd
from tests.documents.payloads import CCCD_1, MRZ_REFERENCE, bhyt


def run(env, *args, input: bytes | None = None):
    return subprocess.run(kiosk_cmd("parse", *args), env=env, capture_output=True, input=input, timeout=60)


CCCD_KEYS = ["kind", "id_number", "old_id_number", "full_name", "date_of_birth", "sex", "address", "issue_date",
             "extra_fields", "warnings"]
BHYT_KEYS = ["kind", "card_number", "beneficiary_group", "benefit_level", "province_code", "social_insurance_number",
             "full_name", "date_of_birth", "sex", "address", "facility_code", "valid_from", "valid_to", "issue_date",
             "management_code", "guardian_name", "living_area", "five_year_date", "check_string", "issuing_place",
             "warnings"]
MRZ_KEYS = ["kind", "document_number", "id_number", "date_of_birth", "sex", "expiry_date", "surname", "given_names",
            "check_digits_ok"]


@pytest.mark.parametrize("payload, keys, kind", [(CCCD_1, CCCD_KEYS, "cccd_qr"), (demo.BHYT_QR, BHYT_KEYS, "bhyt_qr"),
                                                 (bhyt("old"), BHYT_KEYS, "bhyt_qr"),
                                                 (MRZ_REFERENCE, MRZ_KEYS, "mrz_td1")])
def test_json_has_exactly_the_contract_fields(kiosk_env, payload, keys, kind):
    out = run(kiosk_env, "--json", payload)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert list(data) == keys and data["kind"] == kind


def test_readable_output_masks_numbers_and_json_gives_them(kiosk_env):
    text = run(kiosk_env, CCCD_1).stdout.decode()
    assert "********1234" in text and "040195001234" not in text and "186543210" not in text
    assert "Trần Thị Lan Anh" in text
    text = run(kiosk_env, bhyt("old")).stdout.decode()
    assert "HS4401234567890" not in text and "1234567890" not in text and "7890" in text
    assert "not verifiable" in text
    full = json.loads(run(kiosk_env, "--json", CCCD_1).stdout)
    assert full["id_number"] == "040195001234"


def test_stdin_raw_bytes_with_scanner_crlf(kiosk_env):
    out = run(kiosk_env, "--json", "-", input=(demo.BHYT_QR + "\r\n").encode())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["social_insurance_number"] == "4012345678"


@pytest.mark.parametrize("args, stdin, reason", [
    (["-"], b"\xff\xfe garbage", "payload: expected UTF-8 text"),
    (["-"], CCCD_1.encode("utf-16"), "payload: expected UTF-8 text"),
    (["-"], b"", "payload: empty"),
    (["-"], b"7" * 70_000, "at most 65536 bytes"),
    ([CCCD_1.replace("12051995", "12/05/1995")], None, "date_of_birth: expected a date as ddmmyyyy"),
    ([MRZ_REFERENCE.replace("VNM<<<<<<<<<<<2", "VNM<<<<<<<<<<<7")], None,
     "composite check digit"),
    ([bhyt(facility="4O - 123")], None, "facility_code: expected"),
    (["https://example.invalid/x"], None, "URL"),
    (["--json", "x" * 10_000 + "|" * 6], None, "id_number: expected 12 digits"),
    ([CCCD_1.replace("Trần Thị Lan Anh", "A" * 10_000)], None, "full_name: expected at most 100 characters"),
])
def test_errors_are_one_line_exit_2(kiosk_env, args, stdin, reason):
    out = run(kiosk_env, *args, input=stdin)
    assert out.returncode == 2
    assert out.stdout == b""
    lines = out.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and reason in lines[0], lines
    assert "Traceback" not in out.stderr.decode()


def test_invalid_utf8_in_argv_is_not_guessed(kiosk_env):
    out = subprocess.run([*kiosk_cmd("parse"), b"040195001234|\xe2n"], env=kiosk_env, capture_output=True, timeout=60)
    assert out.returncode == 2 and b"expected UTF-8 text" in out.stderr
