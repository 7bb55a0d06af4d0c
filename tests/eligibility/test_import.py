"""Roster import: snapshot, delta, gzip, headers, bad lines, resume, and the privacy of the file on disk."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk import eligibility
from kiosk.store.roster import cards as roster_cards
from kiosk.services import roster_import as ri
from kiosk.domain import PersonIdentity
from kiosk.simulated import synthetic
from kiosk.eligibility.cards import FIELDS, BadCard, minimise
from kiosk.errors import UsageError
from tests.conftest import kiosk_cmd


def table(db) -> list[tuple]:
    return db.execute("SELECT sin_key, card_prefix, id_key, name_key, birth_key, beneficiary_group, benefit_level, "
                      "province_code, facility_code, valid_from, valid_to, five_year_date, living_area, status, "
                      "replaced_by_key, replaced_by_prefix FROM roster_cards ORDER BY sin_key, card_prefix").fetchall()


def lookup(db, key, day="2026-06-01", **who):
    ident = PersonIdentity("test", who.pop("full_name", ""), who.pop("date_of_birth", None), **who)
    return eligibility.check(roster_cards(db), key, ident, date.fromisoformat(day), "40123")


def test_snapshot_then_lookup_by_each_identifier(db, key, tmp_path):
    recs = list(synthetic.cards(300))
    path = synthetic.write(tmp_path / "s.jsonl", recs, {"roster": "snapshot", "version": 3, "as_of": "2026-05-30"})
    rep = ri.import_file(db, key, path, batch_size=64)
    assert (rep.kind, rep.version, rep.cards, rep.bad_count, rep.rows) == ("snapshot", 3, 300, 0, 300)
    r = recs[17]
    for who in ({"id_number": r["id_number"]}, {"card_number": r["card_number"]},
                {"social_insurance_number": r["social_insurance_number"]}):
        e = lookup(db, key, **who)
        assert e.source == "roster" and e.as_of == "2026-05-30" and e.result_code != "K02"
    st = ri.status(db.conn)
    assert (st["version"], st["rows"], st["as_of"]) == (3, 300, "2026-05-30")


def test_database_bytes_hold_no_name_id_or_card_number(db, key, tmp_path, data_dir):
    recs = list(synthetic.cards(2000, seed=11))
    path = synthetic.write(tmp_path / "s.jsonl", recs, {"roster": "snapshot", "version": 1})
    ri.import_file(db, key, path, batch_size=300)
    delta = [dict(synthetic.card(5000 + i, __import__("random").Random(i))) for i in range(50)]
    synthetic.write(tmp_path / "d.jsonl", delta, {"roster": "delta", "since": 1, "until": 2})
    ri.import_file(db, key, tmp_path / "d.jsonl")
    blob = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("kiosk.db"))
    assert len(blob) > 100_000
    # Every substring of every long digit/letter run in the file, so each needle is one set lookup.
    import re
    seen = set()
    for run in re.findall(rb"[A-Z0-9]{10,}", blob):
        for n in (10, 12, 15):
            seen.update(run[i:i + n] for i in range(len(run) - n + 1))
    for r in recs + delta:
        for f in ("id_number", "card_number", "social_insurance_number"):
            if r[f]:
                assert r[f].encode() not in seen, f"a {f} is readable in the database file"
    for r in recs + delta:  # every name, as stored text would hold it
        assert r["full_name"].encode("utf-8") not in blob, "a name is readable in the database file"
    for r in recs[:300] + delta:  # and other forms, for a sample
        name = r["full_name"]
        for form in {name.encode("utf-16-le"), name.upper().encode("utf-8"), " ".join(name.split()[1:3]).encode()}:
            assert form not in blob, "a name is readable in the database file"
    assert lookup(db, key, id_number=recs[5]["id_number"]).source == "roster"  # and it still works
    # Control: the same search does find a value that is stored in clear.
    with __import__("kiosk.store", fromlist=["transaction"]).transaction(db) as conn:
        conn.execute("INSERT INTO meta(key, value) VALUES ('control', ?)", [recs[0]["full_name"]])
    blob = b"".join(p.read_bytes() for p in data_dir.iterdir() if p.name.startswith("kiosk.db"))
    assert recs[0]["full_name"].encode() in blob


def test_gzip_and_no_header(db, key, tmp_path):
    recs = list(synthetic.cards(120))
    path = synthetic.write(tmp_path / "s.jsonl.gz", recs, None, gz=True)
    rep = ri.import_file(db, key, path, batch_size=50)
    assert (rep.kind, rep.version, rep.cards) == ("snapshot", 0, 120)
    assert ri.current_version(db.conn) == 0


def test_bad_lines_are_counted_with_line_numbers_and_do_not_stop_good_ones(db, key, tmp_path):
    good = list(synthetic.cards(10))
    lines = [b'{"roster": "snapshot", "version": 1}']
    lines += [orjson.dumps(r) for r in good[:4]]
    lines += [b'{"card_number": "ZZ99", "status": "active"}',            # line 6: bad card number
              b'not json at all',                                           # line 7
              b'',                                                          # line 8: blank, skipped
              orjson.dumps({**good[4], "status": "lost"}),                  # line 9: bad status
              orjson.dumps({**good[5], "valid_from": "2026-13-01"}),        # line 10: bad date
              b'[1, 2, 3]']                                                 # line 11: not an object
    lines += [orjson.dumps(r) for r in good[6:]]
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    rep = ri.import_file(db, key, tmp_path / "b.jsonl", batch_size=3)
    assert rep.cards == 8 and rep.bad_count == 5
    assert [b["line"] for b in rep.bad_lines] == [6, 7, 9, 10, 11]
    assert "card_number" in rep.bad_lines[0]["error"] and "status" in rep.bad_lines[2]["error"]
    for b in rep.bad_lines:  # the reason never quotes the value
        assert "ZZ99" not in b["error"] and "lost" not in b["error"]


def test_delta_upserts_and_deletes_and_checks_the_version(db, key, tmp_path):
    recs = list(synthetic.cards(50))
    synthetic.write(tmp_path / "s.jsonl", recs, {"roster": "snapshot", "version": 7})
    ri.import_file(db, key, tmp_path / "s.jsonl")
    changed = {**recs[1], "status": "revoked"}
    new = synthetic.card(999, __import__("random").Random(1))
    synthetic.write(tmp_path / "d.jsonl", [changed, new, {"delete": recs[2]["card_number"]}],
                    {"roster": "delta", "since": 7, "until": 9})
    wrong = synthetic.write(tmp_path / "w.jsonl", [new], {"roster": "delta", "since": 6, "until": 7})
    with pytest.raises(UsageError, match="starts at version 6"):
        ri.import_file(db, key, wrong)
    rep = ri.import_file(db, key, tmp_path / "d.jsonl")
    assert (rep.cards, rep.deleted, rep.rows, ri.current_version(db.conn)) == (2, 1, 50, 9)
    assert lookup(db, key, card_number=recs[1]["card_number"]).result_code == "110"
    assert lookup(db, key, card_number=recs[2]["card_number"]).result_code == "K02"
    assert lookup(db, key, card_number=new["card_number"]).source == "roster"
    # the same delta again is a no-op, not an error
    assert ri.import_file(db, key, tmp_path / "d.jsonl").already_applied


def test_delta_without_a_roster_and_older_snapshot_are_refused(db, key, tmp_path):
    d = synthetic.write(tmp_path / "d.jsonl", [], {"roster": "delta", "since": 0, "until": 1})
    with pytest.raises(UsageError, match="snapshot first"):
        ri.import_file(db, key, d)
    synthetic.snapshot(tmp_path / "s5.jsonl", 5, version=5)
    synthetic.snapshot(tmp_path / "s4.jsonl", 5, version=4, seed=9)
    ri.import_file(db, key, tmp_path / "s5.jsonl")
    with pytest.raises(UsageError, match="older"):
        ri.import_file(db, key, tmp_path / "s4.jsonl")
    assert ri.import_file(db, key, tmp_path / "s4.jsonl", force=True).version == 4


def test_duplicate_card_in_a_snapshot_last_line_wins(db, key, tmp_path):
    r = next(synthetic.cards(1))
    synthetic.write(tmp_path / "s.jsonl", [r, {**r, "status": "revoked"}], {"roster": "snapshot", "version": 1})
    assert ri.import_file(db, key, tmp_path / "s.jsonl").rows == 1
    assert lookup(db, key, card_number=r["card_number"]).result_code == "110"


@pytest.mark.parametrize("header,match", [
    ({"roster": "delta", "since": 3, "until": 3}, "greater"),
    ({"roster": "snapshot", "version": -1}, "non-negative"),
    ({"roster": "snapshot", "version": "2"}, "non-negative"),
    ({"roster": "full"}, "snapshot"),
    ({"roster": "snapshot", "version": 1, "as_of": "yesterday"}, "as_of"),
])
def test_bad_headers(db, key, tmp_path, header, match):
    path = synthetic.write(tmp_path / "h.jsonl", [], header)
    with pytest.raises(UsageError, match=match):
        ri.import_file(db, key, path)


def test_interrupted_import_resumes_without_duplicates(db, key, tmp_path, monkeypatch):
    path = synthetic.snapshot(tmp_path / "s.jsonl", 1000, version=2)
    calls = {"n": 0}
    real = ri._commit_batch

    def dying(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # stands in for a power cut between batches
        return real(*a, **kw)
    monkeypatch.setattr(ri, "_commit_batch", dying)
    with pytest.raises(KeyboardInterrupt):
        ri.import_file(db, key, path, batch_size=100)
    monkeypatch.setattr(ri, "_commit_batch", real)
    assert ri.status(db.conn)["import"]["line"] == 301 and ri.status(db.conn)["import"]["state"] == "loading"
    rep = ri.import_file(db, key, path, batch_size=100)
    assert rep.resumed_from_line == 301 and rep.rows == 1000
    clean = __import__("kiosk.store", fromlist=["connect"]).connect(tmp_path / "clean.db")
    ri.import_file(clean, key, path, batch_size=1000)
    assert table(db) == table(clean)


# --- the line parser (property-based) ---

_values = st.one_of(st.none(), st.text(max_size=20), st.integers(-10, 10), st.booleans(),
                    st.lists(st.integers(), max_size=2))


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(FIELDS + ("extra",)), _values, max_size=12))
def test_minimise_accepts_or_names_the_field(rec):
    try:
        card = minimise(b"k" * 32, rec)
    except BadCard as e:
        assert str(e).split(":")[0] in FIELDS or str(e).startswith("expected")
    else:
        assert isinstance(card.sin_key, int) and card.status


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_any_bytes_as_a_line_is_counted_never_raised(line):
    parsed = ri._parse_batch(b"k" * 32, [(2, line)], delta=True)
    assert parsed.upserts + parsed.removals + len(parsed.bad) == (1 if line.strip() else 0)


def test_cli_import_status_and_exit_codes(tmp_path, kiosk_env):
    synthetic.snapshot(tmp_path / "s.jsonl", 40, version=2)
    out = subprocess.run(kiosk_cmd("roster", "import", str(tmp_path / "s.jsonl"), "--json"), env=kiosk_env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["cards"] == 40
    assert "\r[" not in out.stderr  # no progress bar without a terminal
    st_ = subprocess.run(kiosk_cmd("roster", "status", "--json"), env=kiosk_env, capture_output=True, text=True)
    data = json.loads(st_.stdout)
    assert (data["version"], data["rows"], data["age_days"]) == (2, 40, 0)
    synthetic.write(tmp_path / "d.jsonl", [], {"roster": "delta", "since": 5, "until": 6})
    bad = subprocess.run(kiosk_cmd("roster", "import", str(tmp_path / "d.jsonl")), env=kiosk_env,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "version 5" in bad.stderr
    missing = subprocess.run(kiosk_cmd("roster", "import", str(tmp_path / "nope.jsonl")), env=kiosk_env,
                             capture_output=True, text=True)
    assert missing.returncode == 2


def test_worker_processes_give_the_same_roster(key, tmp_path):
    from kiosk import store
    path = synthetic.snapshot(tmp_path / "s.jsonl", 3000, version=1)
    dbs = []
    for w in (0, 2):
        db = store.connect(tmp_path / f"w{w}.db")
        rep = ri.import_file(db, key, path, batch_size=200, workers=w)
        assert rep.cards == 3000
        dbs.append(table(db))
    assert dbs[0] == dbs[1]


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["roster", "version", "since", "until", "as_of", "x"]),
                       st.one_of(st.none(), st.integers(-3, 5), st.sampled_from(["snapshot", "delta", "2026-01-01"]),
                                 st.text(max_size=5), st.booleans()), max_size=6))
def test_header_parser_gives_a_header_or_a_usage_error(obj):
    try:
        h = ri.parse_header(obj)
    except UsageError as e:
        assert str(e).startswith("header")
    else:
        assert h.kind in ("snapshot", "delta") and h.version >= 0
        assert h.kind == "snapshot" or h.version > h.since


def test_no_roster_yet_says_so_and_answers_carry_the_roster_age(db, key, tmp_path):
    e = lookup(db, key, id_number="040000000001")
    assert e.result_code == "K02" and "chưa có danh sách" in e.reason and e.as_of is None
    recs = list(synthetic.cards(20))
    synthetic.write(tmp_path / "s.jsonl", recs, {"roster": "snapshot", "version": 1, "as_of": "2026-05-25"})
    ri.import_file(db, key, tmp_path / "s.jsonl")
    r = next(r for r in recs if r["id_number"])
    assert lookup(db, key, id_number=r["id_number"]).details["roster_age_days"] == 7


def test_old_and_new_card_of_one_person(db, key, tmp_path):
    base = {"id_number": "040095001234", "full_name": "Trần Thị Lan Anh", "date_of_birth": "1995-05-12",
            "facility_code": "40123"}
    old = {**base, "card_number": "HS4404012345678", "valid_from": "2025-01-01", "valid_to": "2025-12-31",
           "status": "replaced", "replaced_by": "SV4404012345678"}
    new = {**base, "card_number": "SV4404012345678", "valid_from": "2026-01-01", "valid_to": None,
           "status": "active"}
    synthetic.write(tmp_path / "s.jsonl", [new, old], {"roster": "snapshot", "version": 1})
    ri.import_file(db, key, tmp_path / "s.jsonl")
    by_id = lookup(db, key, "2026-06-01", id_number="040095001234")
    assert (by_id.result_code, by_id.benefit_percent) == ("000", 100)
    by_old = lookup(db, key, "2026-06-01", card_number="HS4404012345678")
    assert by_old.result_code == "003" and by_old.details["new_valid_from"] == "2026-01-01"
    assert lookup(db, key, "2025-06-01", card_number="hs4404012345678").result_code == "004"
    by_number = lookup(db, key, "2026-06-01", card_number="4012345678")  # the 10-digit number: the card in force
    assert by_number.result_code == "000"


def test_delta_lines_act_in_file_order_within_a_batch(db, key, tmp_path):
    recs = list(synthetic.cards(10))
    synthetic.write(tmp_path / "s.jsonl", recs, {"roster": "snapshot", "version": 1})
    ri.import_file(db, key, tmp_path / "s.jsonl")
    a, b = recs[1], recs[2]
    lines = [{**a, "status": "revoked"}, {"delete": a["card_number"]},        # upsert then delete: gone
             {"delete": b["card_number"]}, {**b, "status": "revoked"},        # delete then upsert: there
             {**b, "status": "decreased_stopped"}]                            # twice: the last wins
    synthetic.write(tmp_path / "d.jsonl", lines, {"roster": "delta", "since": 1, "until": 2})
    rep = ri.import_file(db, key, tmp_path / "d.jsonl", batch_size=100)
    assert (rep.cards, rep.deleted, rep.rows) == (3, 2, 9)
    assert lookup(db, key, card_number=a["card_number"]).result_code == "K02"
    assert lookup(db, key, card_number=b["card_number"]).result_code == "124"
    assert db.execute("SELECT count(*) FROM roster_cards").fetchone()[0] == 9
