import json
import subprocess

from kiosk import demo
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
