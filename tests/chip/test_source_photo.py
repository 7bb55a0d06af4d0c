"""The chip scan source reads the face photo into memory only when configured to (console face check)."""

from drivers import sources
from kiosk import config


def test_chip_source_photo_follows_configuration(tmp_path):
    cfg_file = tmp_path / "k.toml"
    cfg_file.write_text(f'[reader]\nenabled = true\ncsca_dir = "{tmp_path}"\nread_photo = false\n')
    off = sources.make_chip(config.load(str(cfg_file), str(tmp_path), env={}))
    cfg_file.write_text(f'[reader]\nenabled = true\ncsca_dir = "{tmp_path}"\n')
    on = sources.make_chip(config.load(str(cfg_file), str(tmp_path), env={}))
    assert (off.photo, on.photo) == (False, True)


# --- the result does not wait for the photo (issue 13 item 9) -------------------------------------------------

import queue  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

from drivers.chip.errors import ParseError  # noqa: E402
from drivers.chip.reader import ChipReader, Credentials  # noqa: E402
from drivers.chip.source import ChipSource, read_photo_after  # noqa: E402
from tests.chip.conftest import profile  # noqa: E402
from tests.chip.test_pcsc import READER, pcsc, pki_dir, sim, vpcd_lock  # noqa: E402,F401  (fixtures)


def _card(pki):
    from drivers.cccd_emulator import CccdCard
    return CccdCard(profile("pace-card"), pki)


def test_identity_read_leaves_dg2_for_later_and_the_photo_matches_the_sod(pki):
    from drivers.cccd_emulator import InProcessConnection
    from drivers.chip import lds
    card = _card(pki)
    reader = ChipReader(InProcessConnection(card), extended="no")
    doc = reader.read_identity(Credentials(can="012345"), trust=[pki.csca_cert])
    assert doc.passive_authentication == "verified" and doc.chip_authentication == "genuine"
    assert doc.photo is None and "DG2" not in doc.file_sizes  # the result is ready without the photo
    before = reader.conn.apdus
    fmt, image = reader.read_photo()
    assert (fmt, image) == lds.photo_of(card.files["DG2"]) and len(image) > 5000
    assert reader.conn.apdus - before >= len(card.files["DG2"]) // 223  # short APDUs: the photo is most of the read


def test_a_photo_that_does_not_match_the_sod_is_not_handed_on(pki, caplog):
    from drivers.cccd_emulator import InProcessConnection
    card = _card(pki)
    dg2 = bytearray(card.files["DG2"])
    dg2[-10] ^= 0xFF  # another face, same length: only the SOD hash tells
    card.files["DG2"] = bytes(dg2)
    reader = ChipReader(InProcessConnection(card))
    doc = reader.read_identity(Credentials(can="012345"), trust=[pki.csca_cert])
    assert doc.passive_authentication == "verified"  # DG2 was not part of the result's check
    with pytest.raises(ParseError):
        reader.read_photo()
    got = []
    read_photo_after(reader, doc, lambda d, p: got.append(p))
    assert got == [] and "chip_photo_not_read reason=ParseError" in caplog.text


@pytest.mark.pcsc
def test_chip_source_hands_on_the_result_before_reading_the_photo(sim, pki_dir):
    """Through pcscd: the scan event (identity, PA, CA) comes first, with no photo in it; the verified photo
    follows on on_photo for the same document, read on the same session while the card is still there."""
    from drivers.chip.passive import load_trust_store
    events = queue.Queue()
    src = ChipSource(READER, trust=load_trust_store(pki_dir / "csca"), poll_seconds=0.1, photo=True,
                     extended="no")
    src.on_photo = lambda doc, photo: events.put(("photo", time.monotonic(), doc, photo))
    src.start(lambda scan: events.put(("scan", time.monotonic(), scan.document, None)))
    try:
        sim("pace-card")
        src.expect("001085012345")
        kind, t_scan, doc, _ = events.get(timeout=15)
        assert kind == "scan" and doc.passive_authentication == "verified" and doc.chip_authentication == "genuine"
        assert doc.photo is None and "DG2" not in doc.file_sizes
        kind, t_photo, photo_doc, (fmt, image) = events.get(timeout=15)
        assert kind == "photo" and photo_doc is doc and fmt in ("jpeg", "jpeg2000") and len(image) > 5000
        assert t_photo > t_scan
    finally:
        src.stop()
