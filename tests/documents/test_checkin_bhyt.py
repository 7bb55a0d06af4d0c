"""The check-in service takes a BHYT QR as it takes a CCCD QR: the patient is keyed by the BHXH number."""

from __future__ import annotations

from kiosk.privacy import datakey
from kiosk.simulated import demo
from kiosk.domain import ScanEvent
from tests.documents.payloads import CCCD_1, MRZ_REFERENCE, bhyt


def scan(service, payload: str):
    return service.handle(ScanEvent(payload.encode("utf-8"), "camera"))


def test_bhyt_qr_becomes_a_visit(service):
    visit = scan(service, demo.BHYT_QR)
    assert visit.ok, visit.to_json()
    assert visit.queue_number == 1 and visit.patient["document_kind"] == "bhyt_qr"
    assert visit.patient["full_name"] == "Phạm Thị Hoa" and visit.patient["masked_id"] == "******5678"
    key, sin, card, id_number = service.db.execute(
        "SELECT identity_key, social_insurance_number, card_number, id_number FROM patients").fetchone()
    assert key == datakey.patient_identity_key(None, "4012345678", service.data_key)
    assert datakey.is_sealed(sin) and datakey.is_sealed(card)  # at rest under the device key, as in production
    assert (datakey.reveal("patients.social_insurance_number", sin, service.data_key),
            datakey.reveal("patients.card_number", card, service.data_key), id_number) == \
        ("4012345678", "4012345678", None)


def test_old_bhyt_card_and_rescan_with_hash_terminator_is_the_same_visit(service):
    first = scan(service, bhyt("old"))
    again = scan(service, bhyt("old", term="#", facility="40 – 123"))
    assert first.ok and again.ok and again.existing and again.visit_id == first.visit_id
    (key,) = service.db.execute("SELECT identity_key FROM patients").fetchone()
    assert key == datakey.patient_identity_key(None, "1234567890", service.data_key)


def test_document_warnings_become_visit_flags(service):
    visit = scan(service, bhyt(management="01019999999999"))
    assert "bhyt_management_code_mismatch" in visit.flags
    visit = scan(service, CCCD_1.replace("040195001234", "040095001234"))
    assert "id_sex_mismatch" in visit.flags


def test_mrz_with_id_becomes_a_visit_and_broken_bhyt_is_refused(service):
    assert scan(service, MRZ_REFERENCE).ok
    refused = scan(service, bhyt(name="zz"))
    assert not refused.ok and refused.reason == "unreadable" and "full_name" in refused.detail
