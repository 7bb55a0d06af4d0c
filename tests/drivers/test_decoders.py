"""Decoders on real rendered frames: raw bytes as strict UTF-8, inverted codes, symbologies, the pipeline."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from drivers.decoders import Decoded, get_decoder
from drivers.decoders.pipeline import Pipeline
from drivers.decoders.zxing import ZxingDecoder
from tests.drivers.test_camera import A, B, qr_image

BACKENDS = ["default", "zxing", "zbar", "opencv"]
# Latin-1-only names: the trap where ZBar's encoding guess goes wrong without binary mode, and
# where a generator that picks ISO-8859-1 would hide it (we always encode UTF-8, as CCCD cards do).
NAMES = ["Võ Đức Thủy", "Bùi Bảo Ổn", "Lê Khánh Tâm", "Nguyễn Thị Ánh Tuyết", "Phạm Hữu Lưỡng"]


def frame_with(code: np.ndarray, size=(640, 480), at=(40, 40), background=170) -> np.ndarray:
    w, h = size
    f = np.full((h, w), background, np.uint8)
    y, x = at
    f[y:y + code.shape[0], x:x + code.shape[1]] = code
    return cv2.cvtColor(f, cv2.COLOR_GRAY2BGR)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", NAMES)
def test_vietnamese_names_come_back_byte_exact(backend, name):
    got = get_decoder(backend).decode(frame_with(qr_image(name, 6)))
    assert [r.raw for r in got] == [name.encode("utf-8")]
    assert got[0].text == name and got[0].format == "QRCode"


def test_zbar_text_mode_garbles_what_binary_mode_reads():
    """The reason for binary mode: pyzbar.decode() guesses Shift-JIS for some UTF-8 names."""
    frames = [frame_with(qr_image(n, 6)) for n in NAMES]
    text_mode = [get_decoder("zbar-text").decode(f)[0].raw for f in frames]
    binary = [get_decoder("zbar").decode(f)[0].raw for f in frames]
    assert binary == [n.encode() for n in NAMES]
    assert any(t != n.encode() for t, n in zip(text_mode, NAMES))


@pytest.mark.parametrize("backend", ["default", "zxing", "zbar"])
def test_inverted_codes(backend):
    got = get_decoder(backend).decode(frame_with(255 - qr_image(A, 4), background=60))
    assert [r.text for r in got] == [A]


def test_opencv_does_not_read_inverted_codes():
    # Measured, and the reason it is not the default: it misses every light-on-dark code.
    assert get_decoder("opencv").decode(frame_with(255 - qr_image(A, 4), background=60)) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_only_qr_is_enabled(backend):
    """A Code 128 and a DataMatrix in frame are not reported; the QR next to them is."""
    import zxingcpp
    f = np.full((480, 900), 200, np.uint8)
    bar = np.array(zxingcpp.create_barcode("0401950012", zxingcpp.BarcodeFormat.Code128).to_image(scale=3))
    dm = np.array(zxingcpp.create_barcode("040195001234", zxingcpp.BarcodeFormat.DataMatrix).to_image(scale=6))
    f[20:20 + bar.shape[0], 20:20 + bar.shape[1]] = bar[..., 0] if bar.ndim == 3 else bar
    f[250:250 + dm.shape[0], 20:20 + dm.shape[1]] = dm[..., 0] if dm.ndim == 3 else dm
    q = qr_image(B, 3)
    f[20:20 + q.shape[0], 480:480 + q.shape[1]] = q
    assert len(zxingcpp.read_barcodes(f)) == 3  # an engine with every format on reports all three
    got = get_decoder(backend).decode(cv2.cvtColor(f, cv2.COLOR_GRAY2BGR))
    assert [(r.format, r.text) for r in got] == [("QRCode", B)]


def test_non_utf8_payload_is_reported_not_guessed():
    import segno
    q = segno.make_qr("Nguyễn".encode("utf-16-le").decode("latin-1"), encoding="latin-1", error="m")
    m = np.pad(np.array(q.matrix, dtype=np.uint8), 4)
    img = cv2.resize(np.where(m == 1, 0, 255).astype(np.uint8), None, fx=6, fy=6, interpolation=cv2.INTER_NEAREST)
    for backend in ("zxing", "zbar"):
        (r,) = get_decoder(backend).decode(frame_with(img))
        assert r.raw == "Nguyễn".encode("utf-16-le") and r.text is None


def test_decoded_geometry_helpers():
    d = Decoded(b"x", corners=((10.0, 20.0), (50.0, 20.0), (50.0, 60.0), (10.0, 60.0)))
    assert d.bbox() == (10, 20, 51, 61)
    assert d.shifted(5, 5, 2.0).bbox() == (25, 45, 106, 126)
    assert Decoded(b"x").bbox() is None


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown decoder"):
        get_decoder("quirc")


# --- the pipeline -------------------------------------------------------------------------------

def test_pipeline_region_of_interest_and_unchanged_frames():
    p = get_decoder("default")
    assert isinstance(p, Pipeline)
    code = qr_image(A, 4)
    f1 = frame_with(code, (1280, 720), (100, 300))
    assert [r.text for r in p.decode(f1)] == [A]
    assert p.stats["fast"] == 1
    assert [r.text for r in p.decode(f1.copy())] == [A]  # identical frame: not decoded again
    assert p.stats["unchanged"] == 1
    f2 = frame_with(code, (1280, 720), (112, 306))  # moved a little: found in the region of interest
    got = p.decode(f2)
    assert [r.text for r in got] == [A] and p.stats["roi"] == 1
    x0, y0, x1, y1 = got[0].bbox()
    quiet = 4 * 4  # qr_image() draws a 4-module quiet zone at 4 px a module
    assert abs(x0 - (306 + quiet)) <= 3 and abs(y0 - (112 + quiet)) <= 3  # full-frame coordinates


def test_pipeline_never_returns_the_old_code_for_a_new_one_in_the_same_place():
    """A phone app refreshing its QR in place: the unchanged-frame check must see the change."""
    p = get_decoder("default")
    assert [r.text for r in p.decode(frame_with(qr_image(A, 4), (1280, 720), (100, 300)))] == [A]
    a2 = A.replace("Trần", "Trân")  # one letter differs
    assert [r.text for r in p.decode(frame_with(qr_image(a2, 4), (1280, 720), (100, 300)))] == [a2]


class _Blind:
    name = "blind"

    def decode(self, frame):
        return []


def test_pipeline_later_passes_find_what_earlier_ones_miss():
    f = frame_with(qr_image(B, 2), (1280, 720), (300, 600))
    assert [r.text for r in get_decoder("default").decode(f)] == [B]
    # With the half-resolution pass blind, the full-resolution pass finds it, in frame coordinates.
    p = get_decoder("default")
    p.half_engine = _Blind()
    got = p.decode(f)
    assert [r.text for r in got] == [B] and p.stats["full"] == 1
    assert abs(got[0].bbox()[0] - (600 + 8)) <= 3
    # With every fast pass blind, the thorough engine still does.
    p = Pipeline(ZxingDecoder(), fast_engine=_Blind())
    p.half_engine = _Blind()
    assert [r.text for r in p.decode(f)] == [B] and p.stats["thorough"] == 1


def test_pipeline_several_codes():
    p = get_decoder("default")
    f = np.full((720, 1280), 180, np.uint8)
    for i, text in enumerate([A, B, "040088007777||Nguyễn Văn Cường|17031988|Nam|Xóm 5|20042021"]):
        q = qr_image(text, 3)
        f[100:100 + q.shape[0], 20 + i * 420:20 + i * 420 + q.shape[1]] = q
    assert len(p.decode(f)) == 3


def test_pipeline_empty_frame_and_noise():
    p = get_decoder("default")
    rng = np.random.default_rng(1)
    assert p.decode(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)) == []
    assert p.decode(np.zeros((480, 640), np.uint8)) == []


@given(st.text(alphabet=st.sampled_from(list("aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ ĐÂ0123456789|")),
               min_size=1, max_size=120).filter(lambda s: s.strip() == s and s))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_pipeline_round_trips_any_vietnamese_text(text):
    got = get_decoder("default").decode(frame_with(qr_image(text, 3), (640, 480), (20, 20)))
    assert [r.raw for r in got] == [text.encode("utf-8")]


def test_pipeline_budgets_slow_passes_on_consecutive_empty_frames():
    calls = []
    p = get_decoder("default")
    for name in ("_sharpened", "_upscaled", "_thorough"):
        orig = getattr(p, name)
        setattr(p, name, (lambda n, f: lambda g: (calls.append(n), f(g))[1])(name, orig))
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 255, (480, 640), dtype=np.uint8) for _ in range(7)]
    p.decode(frames[0])
    assert calls == ["_sharpened", "_upscaled", "_thorough"]  # first frame: every pass
    calls.clear()
    for f in frames[1:]:
        p.decode(f)
    assert len(calls) == 6 and set(calls) == {"_sharpened", "_upscaled", "_thorough"}  # one per frame, in turn
    calls.clear()
    p.reset()
    p.decode(frames[0])
    assert len(calls) == 3
    # A code appearing after empty frames is still found (by the fast passes).
    assert [r.text for r in p.decode(frame_with(qr_image(A, 4)))] == [A]
