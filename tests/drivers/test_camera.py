"""The camera source on real frames: a generated MJPG video read through cv2.VideoCapture."""

from __future__ import annotations

import queue

import cv2
import numpy as np
import pytest
import segno

from drivers.camera import CameraSource, Presence

A = "040195001234|186543210|Trần Thị Lan Anh|12051995|Nữ|Xóm 3, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An|03062021"
B = "040205004321||Lê Văn Bình|02092005|Nam|Khối 12, Phường Hưng Bình, Thành phố Vinh, Nghệ An|15082022"
FPS = 10


def qr_image(text: str, module_px: int = 5) -> np.ndarray:
    q = segno.make_qr(text, error="m", encoding="utf-8", mode="byte")  # segno may pick Kanji mode for UTF-8 bytes
    m = np.pad(np.array(q.matrix, dtype=np.uint8), 4)
    img = np.where(m == 1, 0, 255).astype(np.uint8)
    return cv2.resize(img, (img.shape[1] * module_px, img.shape[0] * module_px), interpolation=cv2.INTER_NEAREST)


def scene(rng: np.random.Generator, code: np.ndarray | None, dx: int = 0, dy: int = 0) -> np.ndarray:
    frame = np.full((480, 640, 3), (90, 120, 150), np.uint8)
    frame = np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8)  # sensor noise
    if code is not None:
        h, w = code.shape
        y, x = 60 + dy, 150 + dx
        frame[y:y + h, x:x + w] = code[..., None]
    return frame


def write_video(path, segments) -> None:
    """segments: (text or None, frames, occluded frame indexes)."""
    rng = np.random.default_rng(5)
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (640, 480))
    assert out.isOpened()
    for text, n, gaps in segments:
        code = qr_image(text) if text else None
        for i in range(n):
            # Held by hand: drifts a few pixels per frame.
            out.write(scene(rng, None if i in gaps else code, dx=(i * 3) % 40, dy=(i * 2) % 20))
    out.release()


def run_file(path, cooldown=1.0, decoder="default"):
    scans, statuses = queue.Queue(), queue.Queue()
    cam = CameraSource(str(path), cooldown=cooldown, decoder=decoder)
    cam.start(scans.put, statuses.put)
    assert cam.finished.wait(60), "the video was not decoded to its end"
    cam.stop()
    events = []
    while not scans.empty():
        events.append(scans.get_nowait())
    st = statuses.get_nowait()
    return cam, events, st


def test_one_event_per_presented_code(tmp_path):
    video = tmp_path / "desk.avi"
    write_video(video, [
        (None, 5, ()),
        (A, 20, {7, 8}),  # A held 2 s, hand covers it for 0.2 s: still one presentation
        (None, 5, ()),
        (B, 12, ()),  # B presented 0.5 s after A left: a different payload is accepted at once
        (None, 25, ()),  # 2.5 s with nothing in view: more than the cool-down
        (A, 10, ()),  # A again: a new presentation
        (None, 3, ()),
    ])
    cam, events, status = run_file(video)
    assert status.device == "camera" and status.connected
    assert [e.payload.decode() for e in events] == [A, B, A]
    assert all(e.source == "camera" for e in events)
    assert cam.frames == 80 and cam.decoded_frames == 80  # a file is decoded frame by frame, none dropped
    assert cam.preview() is not None and cam.preview().shape[1] == 320


def test_cooldown_suppresses_a_quick_re_presentation(tmp_path):
    video = tmp_path / "again.avi"
    write_video(video, [(A, 8, ()), (None, 5, ()), (A, 8, ())])  # away for 0.5 s only
    _, events, _ = run_file(video, cooldown=1.0)
    assert [e.payload.decode() for e in events] == [A]
    _, events, _ = run_file(video, cooldown=0.2)  # a shorter cool-down accepts it again
    assert [e.payload.decode() for e in events] == [A, A]


@pytest.mark.parametrize("backend", ["zxing", "zbar", "opencv"])
def test_every_backend_reads_the_video(tmp_path, backend):
    video = tmp_path / "b.avi"
    write_video(video, [(None, 2, ()), (B, 6, ()), (None, 2, ())])
    _, events, _ = run_file(video, decoder=backend)
    assert [e.payload.decode() for e in events] == [B]


def test_a_missing_camera_reports_disconnected_and_keeps_trying():
    opened = []

    class Dead:
        def isOpened(self):
            return False

        def release(self):
            pass

    def factory(dev):
        opened.append(dev)
        return Dead()

    statuses = queue.Queue()
    cam = CameraSource(7, capture_factory=factory, reopen_interval=0.05)
    cam.start(lambda e: None, statuses.put)
    st = statuses.get(timeout=3)
    import time
    time.sleep(0.3)
    cam.stop()
    assert st.device == "camera" and not st.connected
    assert len(opened) >= 3 and statuses.empty()  # retried, reported once


def test_live_camera_drops_stale_frames_instead_of_queueing():
    """A slow decoder on a live camera: the capture never waits, stale frames are replaced."""
    import time
    frames = [scene(np.random.default_rng(i), qr_image(A)) for i in range(3)]

    class Live:
        def __init__(self):
            self.n = 0

        def isOpened(self):
            return True

        def read(self):
            self.n += 1
            time.sleep(0.002)
            return (self.n < 400), frames[self.n % 3]

        def get(self, prop):
            return 0.0

        def release(self):
            pass

    class SlowDecoder:
        name = "slow"

        def decode(self, frame):
            time.sleep(0.05)
            return []

    scans, statuses = queue.Queue(), queue.Queue()
    cam = CameraSource(0, capture_factory=lambda d: Live(), reopen_interval=10)
    import drivers.decoders as decs
    orig = decs.get_decoder
    decs.get_decoder = lambda name: SlowDecoder()
    try:
        cam.start(scans.put, statuses.put)
        time.sleep(0.6)
    finally:
        decs.get_decoder = orig
        cam.stop()
    # The capture ran ahead of the decoder, and every frame the decoder did not take was dropped, not queued.
    assert cam.frames > 20 and cam.decoded_frames * 3 < cam.frames
    assert cam._mailbox.dropped >= cam.frames - cam.decoded_frames - 2


def test_presence_logic():
    p = Presence(cooldown=2.0)
    assert p.seen([b"a"], 0.0) == [b"a"]
    assert p.seen([b"a"], 1.0) == []
    assert p.seen([], 2.5) == []
    assert p.seen([b"a"], 2.9) == []  # out of sight 1.9 s < cool-down
    assert p.seen([b"a", b"b"], 5.0) == [b"a", b"b"]  # 2.1 s since last seen


from hypothesis import given, settings, strategies as st  # noqa: E402


@given(st.lists(st.tuples(st.floats(min_value=0.01, max_value=5.0),
                          st.sets(st.integers(min_value=0, max_value=99), max_size=5)), min_size=1, max_size=80),
       st.floats(min_value=0.2, max_value=3.0))
@settings(max_examples=300, deadline=None)
def test_presence_emits_once_per_presentation(steps, cooldown):
    """Payloads seen at increasing times (up to 100 different ones, so the memory bound prunes): an event
    exactly at a payload's first sighting and at every sighting after more than `cooldown` unseen."""
    p = Presence(cooldown)
    now, last_seen, expected, got = 0.0, {}, [], []
    for dt, visible in steps:
        now += dt
        for v in sorted(visible):
            if v not in last_seen or now - last_seen[v] > cooldown:
                expected.append((now, v))
            last_seen[v] = now
        got += [(now, int(x)) for x in p.seen([str(v).encode() for v in sorted(visible)], now)]
    assert got == expected
