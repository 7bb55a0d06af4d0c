"""The reader against the in-process emulator: access methods, files, authenticity, failures."""

from __future__ import annotations

from datetime import date

import pytest

from drivers.cccd_emulator import CccdCard, InProcessConnection
from drivers.chip.errors import AccessDenied, CardRemoved, WrongNumber
from drivers.chip.reader import ChipReader, Credentials, expiry_candidates
from tests.chip.conftest import profile

PACE_ID = "001085012345"
BAC_ID, BAC_DOB = "040058001234", date(1958, 7, 2)


def read(card, creds, trust, **kw):
    return ChipReader(InProcessConnection(card), extended=kw.pop("extended", "auto"), today=date(2026, 11, 26)
                      ).read_identity(creds, trust=trust, **kw)


def test_pace_can_reads_every_field_of_the_profile(pki):
    p = profile("pace-card")
    r = read(CccdCard(p, pki), Credentials(id_number=PACE_ID), [pki.csca_cert])
    assert r.access_method == "pace-can" and r.secure_messaging == "aes"
    for k, v in p.person.items():
        assert r.fields[k] == v, k
    assert r.passive_authentication == "verified", r.passive_authentication_reason
    assert r.chip_authentication == "genuine" and r.chip_authentication_method == "chip_authentication"
    assert r.dg13["raw"] == {"16": "0123456789ABCDEF"}
    ident = r.identity()
    assert (ident.id_number, ident.sex, ident.date_of_birth) == (PACE_ID, "female", "1985-03-14")
    assert r.warnings == []


def test_pace_with_mrz_and_bac_with_mrz(pki):
    card = CccdCard(profile("pace-card"), pki)
    mrz = ("085012345", "850314", "250314")
    assert read(card, Credentials(mrz=mrz), [pki.csca_cert]).access_method == "pace-mrz"
    bac_card = CccdCard(profile("pace-card", access="bac", anti_cloning="aa"), pki)
    r = read(bac_card, Credentials(mrz=mrz), [pki.csca_cert])
    assert r.access_method == "bac" and r.secure_messaging == "3des"
    assert r.passive_authentication == "verified"
    # with a DG14 key, Chip Authentication after BAC restarts secure messaging with AES
    r = read(CccdCard(profile("pace-card", access="bac"), pki), Credentials(mrz=mrz), [pki.csca_cert])
    assert (r.access_method, r.secure_messaging, r.chip_authentication) == ("bac", "aes", "genuine")


def test_bac_only_lifetime_card_with_id_and_birth_date(pki):
    p = profile("bac-only-lifetime")
    r = read(CccdCard(p, pki), Credentials(id_number=BAC_ID, date_of_birth=BAC_DOB), [pki.csca_cert])
    assert r.access_method == "bac"
    assert r.fields["expiry_date"] is None and r.mrz["date_of_expiry"] == "991231"
    assert r.fields["full_name"] == "Võ Đức Thủy"
    assert r.chip_authentication == "genuine" and r.chip_authentication_method == "active_authentication"


def test_bac_candidate_expiry_found_after_refusals(pki):
    # a 30-year-old: the card expires at 40; candidates are tried in order and refusals recorded
    p = profile("pace-card", access="bac")
    p.person.update(date_of_birth="1996-05-01", expiry_date="2036-05-01")
    r = read(CccdCard(p, pki), Credentials(id_number=PACE_ID, date_of_birth=date(1996, 5, 1)), [pki.csca_cert])
    assert r.access_method == "bac"
    assert [a["result"] for a in r.access_attempts] == ["ok"]  # 2036 is the first future birthday
    p.person.update(expiry_date="2056-05-01")  # issued after 40 — not the first guess
    r = read(CccdCard(p, pki), Credentials(id_number=PACE_ID, date_of_birth=date(1996, 5, 1)), [pki.csca_cert])
    assert [a["result"] for a in r.access_attempts] == ["refused", "ok"]


def test_expiry_candidates_order():
    assert expiry_candidates(date(1996, 5, 1), date(2026, 11, 26)) == ["360501", "560501", "991231", "210501",
                                                                       "100501"]


def test_short_and_extended_apdu_budgets(pki):
    card = CccdCard(profile("pace-card"), pki)
    short = read(card, Credentials(can=PACE_ID[-6:]), [pki.csca_cert], extended="no")
    ext = read(card, Credentials(can=PACE_ID[-6:]), [pki.csca_cert], extended="yes")
    assert short.apdus_after_access <= 24 and ext.apdus_after_access <= 12
    assert not short.extended_length and ext.extended_length


def test_extended_auto_falls_back_when_refused(pki):
    card = CccdCard(profile("pace-card", extended_length=False), pki)
    r = read(card, Credentials(can=PACE_ID[-6:]), [pki.csca_cert], extended="auto")
    assert not r.extended_length and r.passive_authentication == "verified"


@pytest.mark.parametrize("status", ["6700", "6Cxx"])
@pytest.mark.parametrize("extended", ["no", "auto"])
def test_wrong_length_answers_mean_read_smaller(pki, status, extended):
    card = CccdCard(profile("pace-card", max_read=100, max_read_status=status), pki)
    r = read(card, Credentials(can=PACE_ID[-6:]), [pki.csca_cert], extended=extended)
    assert r.passive_authentication == "verified" and r.chip_authentication == "genuine"
    assert r.file_sizes["SOD"] > 1000


def test_tampered_data_group_fails_passive_authentication(pki):
    r = read(CccdCard(profile("pace-card", tamper_dg=13), pki), Credentials(id_number=PACE_ID), [pki.csca_cert])
    assert r.passive_authentication == "failed" and "DG13" in r.passive_authentication_reason
    assert "chip_failed" in r.warnings and r.alarm


def test_unknown_csca_is_no_trust_anchor(pki, other_pki):
    r = read(CccdCard(profile("pace-card"), pki), Credentials(id_number=PACE_ID), [other_pki.csca_cert])
    assert r.passive_authentication == "no_trust_anchor" and not r.alarm
    r = read(CccdCard(profile("pace-card"), pki), Credentials(id_number=PACE_ID), [])
    assert r.passive_authentication == "no_trust_anchor"


def test_csca_with_the_same_name_but_another_key_fails(pki):
    from drivers.cccd_emulator.pki import TestPki
    impostor = TestPki.generate()  # same subject name, other key
    r = read(CccdCard(profile("pace-card"), pki), Credentials(id_number=PACE_ID), [impostor.csca_cert])
    assert r.passive_authentication == "failed"


def test_clone_is_suspected_by_chip_authentication(pki):
    r = read(CccdCard(profile("clone"), pki), Credentials(id_number=PACE_ID), [pki.csca_cert])
    assert r.chip_authentication == "clone_suspected" and "clone_suspected" in r.warnings
    assert r.passive_authentication == "verified"  # the copied data is genuinely signed


def test_clone_is_suspected_by_active_authentication(pki):
    card = CccdCard(profile("bac-only-lifetime", clone=True), pki)
    r = read(card, Credentials(id_number=BAC_ID, date_of_birth=BAC_DOB), [pki.csca_cert])
    assert (r.chip_authentication, r.chip_authentication_method) == ("clone_suspected", "active_authentication")


@pytest.mark.parametrize("clone", [False, True])
def test_active_authentication_with_an_rsa_key(pki, clone):
    card = CccdCard(profile("bac-only-lifetime", aa_key="rsa", clone=clone), pki)
    r = read(card, Credentials(id_number=BAC_ID, date_of_birth=BAC_DOB), [pki.csca_cert])
    assert r.chip_authentication_method == "active_authentication"
    assert r.chip_authentication == ("clone_suspected" if clone else "genuine")


def test_no_anti_cloning_keys_is_not_supported(pki):
    r = read(CccdCard(profile("pace-card", anti_cloning="none"), pki), Credentials(id_number=PACE_ID),
             [pki.csca_cert])
    assert r.chip_authentication == "not_supported"


def test_wrong_can_is_access_denied(pki):
    card = CccdCard(profile("pace-card"), pki)
    with pytest.raises(WrongNumber, match="does not open this card"):
        read(card, Credentials(id_number="001085999999"), [pki.csca_cert])
    with pytest.raises(AccessDenied):
        read(CccdCard(profile("bac-only-lifetime"), pki), Credentials(can="123456"), [])


def test_card_removed_mid_read_raises_card_removed(pki):
    card = CccdCard(profile("pace-card", drop_after_commands=12), pki)
    with pytest.raises(CardRemoved):
        read(card, Credentials(id_number=PACE_ID), [pki.csca_cert])
    # placed again: the next session works (drop_repeat is false)
    assert read(card, Credentials(id_number=PACE_ID), [pki.csca_cert]).chip_authentication == "genuine"


def test_photo_only_on_request_and_in_memory(pki):
    card = CccdCard(profile("pace-card"), pki)
    r = read(card, Credentials(id_number=PACE_ID), [pki.csca_cert])
    assert r.photo is None and r.to_json()["photo"] is None
    r = read(card, Credentials(id_number=PACE_ID), [pki.csca_cert], photo=True)
    assert r.photo_format == "jpeg" and len(r.photo) > 15000
    assert r.to_json()["photo"] == {"format": "jpeg", "size": len(r.photo)}
    assert r.passive_authentication == "verified"  # DG2 hash checked too
    assert "photo" not in repr(r) or "b'" not in repr(r)


def test_checkin_records_chip_flags(service, pki):
    from kiosk.domain import ScanEvent
    r = read(CccdCard(profile("clone"), pki), Credentials(id_number=PACE_ID), [pki.csca_cert])
    out = service.handle(ScanEvent(b"", source="chip", document=r))
    assert out.ok and "clone_suspected" in out.flags
