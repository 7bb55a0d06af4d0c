import json
import os
import subprocess

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.simulated import demo
from tests.conftest import kiosk_cmd


def run(env, *args, input=None):
    return subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True, input=input, timeout=60)


def test_checkin_twice_prints_the_same_visit_and_visits_lists_it_once(kiosk_env):
    a = run(kiosk_env, "checkin", "--payload", demo.ELIGIBLE_CCCD, "--json")
    b = run(kiosk_env, "checkin", "--payload", demo.ELIGIBLE_CCCD, "--json")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    va, vb = json.loads(a.stdout), json.loads(b.stdout)
    assert va["visit_id"] == vb["visit_id"] and va["queue_number"] == vb["queue_number"] == 1
    assert (va["existing"], vb["existing"]) == (False, True)
    for key in ("visit_id", "queue_number", "visit_date", "source", "existing", "patient", "eligibility"):
        assert key in va
    assert {"masked_id", "full_name"} <= set(va["patient"])
    assert {"result_code", "benefit_percent", "reason", "source", "as_of"} <= set(va["eligibility"])
    listed = run(kiosk_env, "visits", "--json", "--date", va["visit_date"])
    assert listed.returncode == 0
    rows = json.loads(listed.stdout)
    assert [r["visit_id"] for r in rows] == [va["visit_id"]]


def test_readable_output_is_masked(kiosk_env):
    out = run(kiosk_env, "checkin", "--payload", demo.ELIGIBLE_CCCD)
    assert out.returncode == 0
    assert "********1234" in out.stdout and "040195001234" not in out.stdout
    listed = run(kiosk_env, "visits")
    assert "040195001234" not in listed.stdout and "********1234" in listed.stdout


def test_bad_payload_exits_2_with_one_line(kiosk_env):
    out = run(kiosk_env, "checkin", "--payload", "not a card")
    assert out.returncode == 2
    errors = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in out.stderr


def test_bad_configuration_exits_2_naming_the_key(kiosk_env, tmp_path):
    cfg = tmp_path / "k.toml"
    cfg.write_text('[scanner]\nbaud = "fast"\n')
    out = run(kiosk_env, "--config", str(cfg), "visits")
    assert out.returncode == 2 and "scanner.baud" in out.stderr


def test_bad_date_exits_2(kiosk_env):
    out = run(kiosk_env, "visits", "--date", "26/11/2026")
    assert out.returncode == 2 and "YYYY-MM-DD" in out.stderr


def test_db_migrate(kiosk_env):
    out = run(kiosk_env, "db", "migrate", "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout)["to_version"] >= 1


def test_help_lists_the_commands(kiosk_env):
    out = run(kiosk_env, "--help")
    for cmd in ("demo", "run", "db", "checkin", "visits"):
        assert cmd in out.stdout


def test_unusable_data_dir_exits_3(kiosk_env, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    env = dict(kiosk_env, KIOSK_DATA_DIR=str(blocker / "sub"))
    out = run(env, "checkin", "--payload", demo.ELIGIBLE_CCCD)
    assert out.returncode == 3 and out.stderr.startswith("error:")


# --- input that is not UTF-8, output that must not drive the terminal (issue 13, item 7) ---------------------

def run_bytes(env, *args: bytes | str):
    argv = [os.fsencode(a) for a in kiosk_cmd(*(a if isinstance(a, str) else os.fsdecode(a) for a in args))]
    return subprocess.run(argv, env=env, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


NOT_UTF8 = b"\xff\xfe0401"


@pytest.mark.parametrize("args", [
    ("checkin", "--payload", NOT_UTF8),
    ("checkin", "--payload", demo.ELIGIBLE_CCCD.encode().replace("Lan Anh".encode(), b"Lan \xc3")),
    ("visits", "--date", NOT_UTF8),
    ("eligibility", "--id-number", "040195001234", "--name", NOT_UTF8, "--offline"),
    ("stay", "start", "1", "--reason", NOT_UTF8),
    ("stay", "receipt", "1", NOT_UTF8),
    ("staff", "add", "--name", NOT_UTF8, "--id-number", "040190000111", "--birth-date", "02/03/1990", "--admin"),
    ("read-card", "--can", NOT_UTF8),
], ids=lambda a: " ".join(os.fsdecode(x) for x in a[:2]))
def test_text_arguments_that_are_not_utf8_exit_2_with_one_clear_line(kiosk_env, tmp_path, args):
    out = run_bytes({**kiosk_env, "KIOSK_NEW_PIN": "739146"}, *args)
    err = out.stderr.decode("utf-8")  # the message itself is UTF-8, whatever was given
    assert out.returncode == 2, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert "Traceback" not in err and len(errors) == 1 and "UTF-8" in errors[0]


def test_checkin_payload_not_utf8_says_where_as_parse_does(kiosk_env):
    checkin = run_bytes(kiosk_env, "checkin", "--payload", b"0401\xff95")
    parse = run_bytes(kiosk_env, "parse", b"0401\xff95")
    assert checkin.returncode == parse.returncode == 2
    errors = [[line for line in p.stderr.decode().splitlines() if line.startswith("error:")] for p in (checkin, parse)]
    assert errors[0] == errors[1] and len(errors[0]) == 1 and "offset 4" in errors[0][0]
    assert run(kiosk_env, "visits", "--json").stdout.strip() == "[]"  # nothing recorded


EVIL = "Trần\x1b]0;pwned\x07 Thị\x1b[2J Lan\u202e Anh\x9b31m\x1bP1$r\x1b\\"


def test_readable_outputs_strip_terminal_control_from_stored_text(kiosk_env, data_key):
    from kiosk import store
    from kiosk.privacy import datakey
    v = json.loads(run(kiosk_env, "checkin", "--payload", demo.ELIGIBLE_CCCD, "--json").stdout)
    db = store.connect(kiosk_env["KIOSK_DATA_DIR"] + "/kiosk.db")
    with db.conn:  # a name as a hostile chip or an old database could hold it
        db.execute("UPDATE patients SET full_name = ?", [datakey.conceal("patients.full_name", EVIL, data_key)])
    assert run(kiosk_env, "stay", "start", str(v["visit_id"]), "--reason",
               "sốt\x1b[2J cao\x1b]0;pwned\x07").returncode == 0
    assert run({**kiosk_env, "KIOSK_NEW_PIN": "739146"}, "staff", "add", "--name", "Nguyễn Thị Mai",
               "--id-number", "040190000111", "--birth-date", "02/03/1990", "--admin").returncode == 0
    with db.conn:
        db.execute("UPDATE staff SET full_name = ?", [EVIL])
    outputs = {
        "visits": run(kiosk_env, "visits", "--date", v["visit_date"]),
        "checkin": run(kiosk_env, "checkin", "--payload", demo.ELIGIBLE_CCCD),  # the existing visit, described
        "stay list": run(kiosk_env, "stay", "list"),
        "staff list": run(kiosk_env, "staff", "list"),
    }
    for name, out in outputs.items():
        assert out.returncode == 0, (name, out.stderr)
        for bad in ("\x1b", "\x07", "\x9b", "\u202e", "pwned", "[2J"):
            assert bad not in out.stdout, (name, bad, out.stdout)
        assert "Trần Thị Lan Anh" in out.stdout, (name, out.stdout)
    assert "sốt cao" in outputs["stay list"].stdout
    assert "identity_mismatch" in outputs["checkin"].stdout  # the stored name is not the card's
    # JSON keeps the stored text exactly (escaped by JSON itself), for machines
    (row,) = json.loads(run(kiosk_env, "visits", "--json", "--date", v["visit_date"]).stdout)
    assert row["patient"]["full_name"] == EVIL


_UNSAFE = {chr(c) for c in [*range(0x00, 0x09), *range(0x0b, 0x20), *range(0x7f, 0xa0), *range(0x202a, 0x202f),
                            *range(0x2066, 0x206a)]}


@given(st.text(alphabet=st.sampled_from(["\x1b", "[", "]", "P", "\\", "\x07", "\x9b", "\x9d", "\x9c", "\u202e",
                                         "\u2067", "\n", "\t", "\r", ";", "0", "m", "J", "ầ", "Đ", " ", "a"])))
@settings(max_examples=300, deadline=None)
def test_readable_never_lets_a_control_character_through(text):
    from kiosk.cli import readable
    out = readable(text)
    assert not (_UNSAFE & set(out))
    assert not (_UNSAFE & set(readable(text, one_line=True))) and "\n" not in readable(text, one_line=True)
    assert readable(out) == out  # nothing left to strip


def test_readable_keeps_text_and_layout_and_drops_whole_sequences():
    from kiosk.cli import readable
    assert readable("Số thứ tự 1\n\tĐặng Văn Đức") == "Số thứ tự 1\n\tĐặng Văn Đức"
    assert readable("a\x1b]0;pwned\x07b\x1b[2Jc\x1b]8;;http://x\x1b\\d\u202ee\x9b1mf") == "abcdef"
    assert readable("x\x1b]0;never ends\nnext line") == "x\nnext line"  # an open OSC ends at the line
    assert readable("\udcff name") == "\ufffd name"  # undecodable argv bytes print instead of crashing
