"""`kiosk eligibility` end to end: roster, gateway fallback, pending visits rechecked online."""

from __future__ import annotations

import json
import subprocess

import pytest

from kiosk.simulated import synthetic
from kiosk.simulated.fake_gateway import FakeGateway
from tests.conftest import kiosk_cmd

FIELDS = {"result_code", "benefit_percent", "reason", "source", "as_of", "card"}


def run(env, *args):
    return subprocess.run(kiosk_cmd(*args), env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def roster_env(tmp_path, kiosk_env):
    recs = list(synthetic.cards(200))
    synthetic.write(tmp_path / "s.jsonl", recs, {"roster": "snapshot", "version": 1, "as_of": "2026-05-30"})
    assert run(kiosk_env, "roster", "import", str(tmp_path / "s.jsonl")).returncode == 0
    return kiosk_env, recs


def test_by_id_card_code_and_10_digit_number(roster_env):
    env, recs = roster_env
    r = next(r for r in recs if r["id_number"] and r["status"] == "active" and r["valid_to"])
    answers = []
    for args in (["--id-number", r["id_number"]], ["--card", r["card_number"]],
                 ["--card", r["card_number"][-10:]], ["--card", r["card_number"].lower()]):
        out = run(env, "eligibility", *args, "--date", r["valid_from"], "--json")
        assert out.returncode == 0, out.stderr
        data = json.loads(out.stdout)
        assert FIELDS <= set(data)
        assert (data["source"], data["as_of"]) == ("roster", "2026-05-30")
        assert data["card"]["valid_to"] == r["valid_to"] and data["card"]["beneficiary_group"] == r["beneficiary_group"]
        assert r["id_number"] not in out.stdout and r["card_number"] not in out.stdout  # masked
        answers.append((data["result_code"], data["benefit_percent"]))
    assert len(set(answers)) == 1 and answers[0][0] in ("000", "K03")
    expired = run(env, "eligibility", "--id-number", r["id_number"], "--date", "2030-01-01", "--json")
    assert json.loads(expired.stdout)["result_code"] == "010"
    human = run(env, "eligibility", "--card", r["card_number"], "--date", r["valid_from"])
    assert "theo danh sách ngày 30/05/2026" in human.stdout


def test_name_mismatch_from_the_command_line(roster_env):
    env, recs = roster_env
    r = next(r for r in recs if r["id_number"] and r["status"] == "active")
    out = run(env, "eligibility", "--id-number", r["id_number"], "--date", r["valid_from"], "--name", "Ai Khác",
              "--json")
    assert json.loads(out.stdout)["result_code"] == "060"


@pytest.mark.parametrize("args", [["--card", "12345"], ["--id-number", "12"], ["--id-number", "040000000001",
                                  "--date", "2026-02-30"], []])
def test_bad_input_exits_2(kiosk_env, args):
    out = run(kiosk_env, "eligibility", *args)
    assert out.returncode == 2


def test_unknown_card_offline_is_cannot_verify(roster_env):
    env, _ = roster_env
    data = json.loads(run(env, "eligibility", "--id-number", "999999999999", "--json").stdout)
    assert (data["result_code"], data["source"], data["benefit_percent"]) == ("K02", "none", None)


@pytest.fixture
def gateway_env(tmp_path, roster_env):
    env, recs = roster_env
    with FakeGateway() as gw:
        (tmp_path / "pw").write_text(gw.password)
        (tmp_path / "kiosk.toml").write_text(
            f'[facility]\ncode = "40123"\n[gateway]\nurl = "{gw.url}"\nusername = "{gw.username}"\n'
            f'password_file = "{tmp_path / "pw"}"\nstaff_name = "Nguyễn Thị Tiếp Đón"\n'
            f'staff_id_number = "001090000001"\ntimeout_seconds = 2\n')
        yield dict(env, KIOSK_CONFIG=str(tmp_path / "kiosk.toml")), gw


def test_gateway_answers_when_the_roster_does_not_know_the_card(gateway_env):
    env, gw = gateway_env
    gw.add_card("040088007777", answer={"maKetQua": "000", "maThe": "GD4404088007777", "maDKBD": "40123",
                                        "gtTheTu": "01/01/2026", "gtTheDen": "31/12/2026"})
    data = json.loads(run(env, "eligibility", "--id-number", "040088007777", "--date", "2026-06-01",
                          "--json").stdout)
    assert (data["result_code"], data["source"], data["benefit_percent"]) == ("000", "gateway", 100)
    assert data["provenance"].startswith("tra cứu trực tuyến lúc ")
    gw.drop_next = 10  # gateway down: honest "cannot verify now", exit 0
    out = run(env, "eligibility", "--id-number", "040088007777", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["result_code"] == "K02"


def test_pending_visit_is_updated_by_a_later_online_check(gateway_env, data_dir):
    env, gw = gateway_env
    payload = "040088007777||Nguyễn Văn Cường|17031988|Nam|Xóm 5, Xã Hưng Đông, Nghệ An|20042021"
    gw.drop_next = 100  # offline at check-in
    first = json.loads(run(env, "checkin", "--payload", payload, "--json").stdout)
    assert first["eligibility"]["result_code"] == "K02"
    gw.drop_next = 0
    gw.add_card("040088007777", answer={"maKetQua": "000", "maThe": "GD4404088007777", "maDKBD": "40001",
                                        "gtTheTu": "01/01/2020", "gtTheDen": ""})
    out = run(env, "eligibility", "--recheck-pending", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rechecked"] == [{"visit_id": first["visit_id"], "result_code": "000",
                                                     "source": "gateway"}]
    visits = json.loads(run(env, "visits", "--date", first["visit_date"], "--json").stdout)
    assert visits[0]["eligibility"]["source"] == "gateway" and visits[0]["eligibility"]["benefit_percent"] == 100
    assert gw.checks[-1]["hoTen"] == "Nguyễn Văn Cường"
