"""A generated QR corpus in the categories of BoofCV's public QR dataset.

BoofCV's 536 images are not on a registry reachable here, so this builds
frames of the same kinds, deterministically from a seed, with payloads that
are CCCD / Căn cước / BHYT strings full of Vietnamese names and addresses:

nominal, blurred, noisy, low_contrast, glare, perspective (and rotation),
small, inverted, phone (a dim, glossy phone screen with moiré, as VssID and
VNeID show the BHYT QR), high_version (a long Căn cước payload), several
(2–4 codes per frame) — at 640×480 and 1280×720, as single frames and as
short sequences of a code held in view while it moves slightly.

Frames are made in memory, one sample at a time; `python bench/qr_corpus.py
--out DIR` writes them as PNG for a look (keep DIR out of git).
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np
import segno

CATEGORIES = ("nominal", "blurred", "noisy", "low_contrast", "glare", "perspective", "small", "inverted",
              "phone", "high_version", "several")
RESOLUTIONS = ((640, 480), (1280, 720))

# Invented people: common Vietnamese family, middle and given names (with every tone mark).
SURNAMES = "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Trịnh Đoàn Lương Mạc Tạ Khổng".split()
MIDDLES = "Văn Thị Hữu Đức Minh Thanh Ngọc Quốc Xuân Thu Hồng Kim Bảo Thùy Mỹ Gia Khánh Trọng Phương Như".split()
GIVENS = ("Anh Bình Cường Dũng Đạt Giang Hà Hải Hạnh Hiếu Hòa Hùng Hương Khoa Lan Linh Long Mai Nam Nga Ngân Nhung "
          "Phúc Quang Quỳnh Sơn Tâm Thảo Thắng Thủy Thúy Trâm Trang Tuấn Tùng Uyên Việt Vy Yến Ánh Ẩn Ổn Ửng Ỷ "
          "Đông Ước Ứng Nhạn Lưỡng Khuê Huệ Diễm Nguyệt Loan Tường Vĩnh Hưởng Luỹ Dịu").split()
PLACES = [("Nghệ An", ["Vinh", "Nghi Lộc", "Diễn Châu", "Quỳnh Lưu"]), ("Hà Tĩnh", ["Kỳ Anh", "Hương Sơn"]),
          ("Thừa Thiên Huế", ["Phú Vang", "Hương Thủy"]), ("Đắk Lắk", ["Buôn Ma Thuột", "Ea H'leo"]),
          ("Hà Nội", ["Hoàn Kiếm", "Đống Đa", "Sóc Sơn"]), ("Thành phố Hồ Chí Minh", ["Củ Chi", "Thủ Đức"]),
          ("Quảng Ngãi", ["Đức Phổ", "Mộ Đức"]), ("Bà Rịa - Vũng Tàu", ["Xuyên Mộc", "Châu Đức"])]
COMMUNES = "Nghi Phong Hưng Đông Diễn Kỷ Quỳnh Thạch Phú Mỹ Ea Tiêu Xuân Phổ Tân Thới Nhì Lộc Hòa".split()


def random_name(rng: random.Random) -> str:
    parts = [rng.choice(SURNAMES)] + [rng.choice(MIDDLES) for _ in range(rng.choice((1, 1, 2)))] + [rng.choice(GIVENS)]
    return " ".join(parts)


def _address(rng: random.Random) -> str:
    province, districts = rng.choice(PLACES)
    return (f"{rng.choice(['Xóm', 'Thôn', 'Khối', 'Tổ'])} {rng.randint(1, 25)}, Xã {rng.choice(COMMUNES)} "
            f"{rng.choice(COMMUNES)}, Huyện {rng.choice(districts)}, {province}")


def _date(rng: random.Random, y0: int, y1: int) -> str:
    return f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{rng.randint(y0, y1)}"


def cccd_payload(rng: random.Random, long: bool = False) -> str:
    sex = rng.choice(["Nam", "Nữ"])
    yob = rng.randint(1940, 2008)
    century_digit = (0 if yob < 2000 else 2) + (1 if sex == "Nữ" else 0)
    idn = f"0{rng.randint(1, 96):02d}{century_digit}{yob % 100:02d}{rng.randint(0, 999999):06d}"
    old = f"{rng.randint(0, 999999999):09d}" if rng.random() < 0.5 else ""
    fields = [idn, old, random_name(rng), f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{yob}", sex,
              _address(rng), _date(rng, 2021, 2025)]
    if long:  # Căn cước (2024+) codes carry more: parents' names, origin, extra fields
        fields += [random_name(rng), random_name(rng), _address(rng), _address(rng), _date(rng, 2031, 2045),
                   rng.choice(["Kinh", "Thái", "Mường", "Ê Đê", "Khơ Me"]), rng.choice(["Không", "Phật giáo", "Công giáo"]),
                   "Việt Nam", _address(rng), _address(rng), random_name(rng), f"0{rng.randint(100000000, 999999999)}"]
    return "|".join(fields)


def bhyt_payload(rng: random.Random) -> str:
    """Old layout (names in clear UTF-8) or new layout (names as hex UTF-8)."""
    name = random_name(rng)
    sin = f"{rng.randint(0, 9999999999):010d}"
    if rng.random() < 0.5:
        return "|".join([f"{rng.choice(['HS', 'GD', 'HT', 'CN', 'TE'])}4{rng.randint(10, 99)}{sin}"[:15], name,
                         f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1940, 2020)}",
                         rng.choice(["1", "2"]), _address(rng), f"{rng.randint(10, 99)} - {rng.randint(100, 999)}",
                         "01/01/2026", "31/12/2026", "01/01/2026", "-", "$"])
    return "|".join([sin, name.encode().hex(), f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/1960",
                     rng.choice(["1", "2"]), "-", f"{rng.randint(10, 99)} - {rng.randint(100, 999)}", "01/01/2026",
                     "-", "15/12/2025", f"0101{sin}", "-", "4", " 01/01/2021", "a1b2c3d4e5f6a7b8-7102", "3",
                     _address(rng).encode().hex(), "$"])


def payload(rng: random.Random, long: bool = False) -> str:
    return cccd_payload(rng, long) if long or rng.random() < 0.7 else bhyt_payload(rng)


def qr_modules(text: str, error: str = "m") -> np.ndarray:
    """The code's modules with a 4-module quiet zone: 0 dark, 255 light."""
    # UTF-8 byte mode without ECI, as on CCCD cards (segno would pick Latin-1 for "Lê Khánh Tâm").
    # Byte mode always: segno picks Kanji mode when the UTF-8 bytes happen to be valid Shift-JIS pairs
    # ("ể0" → e1bb 8330), which reads back as other text.
    q = segno.make_qr(text, error=error, boost_error=False, encoding="utf-8", mode="byte")
    m = np.array(q.matrix, dtype=np.uint8)
    m = np.pad(m, 4, constant_values=0)
    return np.where(m == 1, 0, 255).astype(np.uint8)


@dataclass
class Sample:
    category: str
    size: tuple[int, int]
    kind: str  # "single" | "sequence"
    frames: list[np.ndarray]
    truths: list[bytes]  # every code in the frames (a sequence shows the same codes in every frame)
    index: int = 0
    meta: dict = field(default_factory=dict)


def _background(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A desk/hand-like scene: smooth colour gradient, some shapes and texture, never flat."""
    base = np.empty((h, w, 3), np.float32)
    c0, c1 = rng.uniform(60, 200, 3), rng.uniform(60, 200, 3)
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    base[:] = c0 * (1 - t) + c1 * t
    img = base.astype(np.uint8)
    for _ in range(int(rng.integers(3, 9))):
        color = tuple(int(v) for v in rng.uniform(30, 230, 3))
        if rng.random() < 0.5:
            cv2.rectangle(img, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                          (int(rng.integers(0, w)), int(rng.integers(0, h))), color, -1)
        else:
            cv2.putText(img, "CAN CUOC CONG DAN" if rng.random() < 0.5 else "BAO HIEM Y TE",
                        (int(rng.integers(0, w // 2)), int(rng.integers(20, h))), cv2.FONT_HERSHEY_SIMPLEX,
                        float(rng.uniform(0.5, 1.5)), color, 2)
    # Texture (cloth, wood grain, a hand): band-limited noise at a few scales.
    tex = np.zeros((h, w), np.float32)
    for cell, amp in ((64, 18), (16, 10), (4, 6)):
        small = rng.normal(0, amp, (h // cell + 2, w // cell + 2)).astype(np.float32)
        tex += cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(img + tex[..., None], 0, 255).astype(np.uint8)


def _place(frame: np.ndarray, code: np.ndarray, module_px: float, center: tuple[float, float], angle: float,
           tilt: tuple[float, float] = (0.0, 0.0), dark: int = 20, light: int = 235, inverted: bool = False) -> None:
    """Draw `code` (modules) into `frame` scaled, rotated and tilted (a homography), in place."""
    n = code.shape[0]
    src = np.float32([[0, 0], [n, 0], [n, n], [0, n]])
    half = n * module_px / 2
    sq = np.float32([[-half, -half], [half, -half], [half, half], [-half, half]])
    tx, ty = tilt  # foreshortening: one side shorter than the other
    sq[:, 0] *= 1 + tx * np.sign(sq[:, 1]) / 2
    sq[:, 1] *= 1 + ty * np.sign(sq[:, 0]) / 2
    a = np.deg2rad(angle)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = sq @ rot.T + np.float32(center)
    H = cv2.getPerspectiveTransform(src, dst)
    h, w = frame.shape[:2]
    # Supersample modules so edges anti-alias like a lens would.
    up = 4
    big = cv2.resize(code, (n * up, n * up), interpolation=cv2.INTER_NEAREST)
    Hs = H @ np.diag([1 / up, 1 / up, 1]).astype(np.float64)
    vals = big.astype(np.float32) / 255.0
    if inverted:
        vals = 1 - vals
    tone = dark + (light - dark) * vals
    warped = cv2.warpPerspective(tone, Hs, (w, h), flags=cv2.INTER_AREA if module_px < up else cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(np.ones_like(tone), Hs, (w, h), flags=cv2.INTER_LINEAR)
    m3 = mask[..., None]
    frame[:] = np.clip(frame * (1 - m3) + warped[..., None] * m3, 0, 255).astype(np.uint8)


def _phone(frame: np.ndarray, code: np.ndarray, module_px: float, center, angle, rng: np.random.Generator) -> None:
    """A QR on a phone screen: a dark bezel, a dim backlit screen, an RGB sub-pixel grid
    (moiré when resampled by the camera), a glossy reflection."""
    n = code.shape[0]
    screen_w = int(n * module_px * 1.5)
    screen_h = int(screen_w * 1.9)
    cx, cy = center
    h, w = frame.shape[:2]
    # Screen pixels: the QR as the app draws it, on the screen's own pixel grid (~3 screen px per camera px).
    sp = 3
    scr = np.full((screen_h * sp, screen_w * sp), 0.85, np.float32)
    qr = cv2.resize(code, (int(n * module_px * sp),) * 2, interpolation=cv2.INTER_NEAREST).astype(np.float32) / 255
    oy = (scr.shape[0] - qr.shape[0]) // 2
    ox = (scr.shape[1] - qr.shape[1]) // 2
    scr[oy:oy + qr.shape[0], ox:ox + qr.shape[1]] = qr
    rgb = np.stack([scr] * 3, axis=-1)
    stripes = np.zeros_like(rgb)
    for c in range(3):
        stripes[:, c::3, c] = 1.0
    rgb = rgb * (0.35 + 0.65 * stripes)  # sub-pixel structure
    brightness = float(rng.uniform(0.45, 0.75))  # dim screen
    img = np.clip(rgb * 255 * brightness + 15, 0, 255).astype(np.uint8)
    bezel = cv2.copyMakeBorder(img, 12 * sp, 12 * sp, 6 * sp, 6 * sp, cv2.BORDER_CONSTANT, value=(15, 15, 18))
    bh, bw = bezel.shape[:2]
    src = np.float32([[0, 0], [bw, 0], [bw, bh], [0, bh]])
    hw_, hh_ = bw / sp / 2, bh / sp / 2
    sq = np.float32([[-hw_, -hh_], [hw_, -hh_], [hw_, hh_], [-hw_, hh_]])
    sq[:, 0] *= 1 + float(rng.uniform(-0.12, 0.12)) * np.sign(sq[:, 1]) / 2
    a = np.deg2rad(angle)
    rot = np.float32([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = sq @ rot.T + np.float32([cx, cy])
    H = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(bezel, H, (w, h), flags=cv2.INTER_LINEAR)  # LINEAR, not AREA: aliasing = moiré
    mask = cv2.warpPerspective(np.ones((bh, bw), np.float32), H, (w, h))[..., None]
    out = frame * (1 - mask) + warped * mask
    # Glossy reflection: a soft diagonal band of light over the screen.
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d = ((xx - cx) * 0.6 + (yy - cy) * 0.8 - float(rng.uniform(-0.3, 0.3)) * screen_w) / (screen_w * 0.35)
    out = out + mask * 55 * np.exp(-d * d)[..., None]
    frame[:] = np.clip(out, 0, 255).astype(np.uint8)


def _degrade(frame: np.ndarray, category: str, rng: np.random.Generator, module_px: float) -> np.ndarray:
    if category == "blurred":
        if rng.random() < 0.5:
            s = float(rng.uniform(0.35, 0.55)) * module_px
            frame = cv2.GaussianBlur(frame, (0, 0), s)
        else:  # motion blur along a random direction
            k = max(3, int(module_px * rng.uniform(0.9, 1.4)))
            kern = np.zeros((k, k), np.float32)
            kern[k // 2, :] = 1.0 / k
            M = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
            kern = cv2.warpAffine(kern, M, (k, k))
            frame = cv2.filter2D(frame, -1, kern / max(kern.sum(), 1e-6))
    elif category == "noisy":
        noise = rng.normal(0, float(rng.uniform(20, 35)), frame.shape)
        frame = np.clip(frame + noise, 0, 255).astype(np.uint8)
        sp = rng.random(frame.shape[:2])
        frame[sp < 0.01] = 0
        frame[sp > 0.99] = 255
    elif category == "glare":
        h, w = frame.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        gx, gy = (rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h)
        r = float(rng.uniform(0.05, 0.09)) * w
        spot = 255 * np.exp(-(((xx - gx) ** 2 + (yy - gy) ** 2) / (2 * r * r)))
        frame = np.clip(frame + spot[..., None] * 0.9, 0, 255).astype(np.uint8)
    # Every frame: a little sensor noise and JPEG-like camera compression.
    if category != "noisy":
        frame = np.clip(frame + rng.normal(0, 3, frame.shape), 0, 255).astype(np.uint8)
    ok, enc = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return cv2.imdecode(enc, cv2.IMREAD_COLOR)


def _layout(category: str, w: int, h: int, rng: np.random.Generator, n: int) -> dict:
    short = min(w, h)
    if category == "small":
        # 1.6–2.2 camera pixels per module at 1280×720; a bit more at 640×480 (a wide-angle kiosk camera).
        mpx = float(rng.uniform(1.6, 2.2)) * (1.0 if w >= 1280 else 1.15)
    elif category == "several":
        mpx = short * float(rng.uniform(0.22, 0.30)) / n
    else:
        mpx = short * float(rng.uniform(0.45, 0.7)) / n
    angle = float(rng.uniform(0, 360)) if category == "perspective" else float(rng.uniform(-8, 8))
    tilt = (float(rng.uniform(-0.35, 0.35)), float(rng.uniform(-0.35, 0.35))) if category == "perspective" else (0, 0)
    return {"module_px": mpx, "angle": angle, "tilt": tilt}


def render(category: str, size: tuple[int, int], texts: list[str], rng: np.random.Generator,
           motion: list[tuple[float, float, float]] | None = None) -> list[np.ndarray]:
    """Frames showing `texts`; with `motion`, one frame per (dx, dy, dangle) step of a held code."""
    w, h = size
    codes = [qr_modules(t, "m") for t in texts]
    n = max(c.shape[0] for c in codes)
    lay = _layout(category, w, h, rng, n)
    bg = _background(rng, w, h)
    # Centres: one code near the middle; several codes spread over the frame.
    if len(codes) == 1:
        span = n * lay["module_px"]
        mx, my = max(0.0, w / 2 - span * 0.8), max(0.0, h / 2 - span * 0.8)
        centres = [(w / 2 + float(rng.uniform(-mx, mx) * 0.5), h / 2 + float(rng.uniform(-my, my) * 0.5))]
    else:
        cols = len(codes)
        centres = [((i + 0.5) * w / cols + float(rng.uniform(-10, 10)), h / 2 + float(rng.uniform(-h / 8, h / 8)))
                   for i in range(cols)]
    low = category == "low_contrast"
    dark, light = (int(rng.integers(90, 120)), int(rng.integers(150, 175))) if low else (20, 235)
    frames = []
    for dx, dy, da in (motion or [(0.0, 0.0, 0.0)]):
        frame = bg.copy()
        for code, (cx, cy) in zip(codes, centres):
            if category == "phone":
                _phone(frame, code, lay["module_px"], (cx + dx, cy + dy), lay["angle"] + da, rng)
            else:
                _place(frame, code, lay["module_px"], (cx + dx, cy + dy), lay["angle"] + da, lay["tilt"],
                       dark, light, inverted=category == "inverted")
        frames.append(_degrade(frame, category, rng, lay["module_px"]))
    return frames


def samples(seed: int = 1, singles: int = 10, sequences: int = 2, seq_len: int = 8,
            categories=CATEGORIES, resolutions=RESOLUTIONS) -> Iterator[Sample]:
    """Every sample of the corpus, one at a time (deterministic for a seed)."""
    for category in categories:
        # Seeds depend on the category and size, not on which ones this run asked for.
        ci = CATEGORIES.index(category)
        for size in resolutions:
            ri = [r for r, _ in enumerate(RESOLUTIONS) if RESOLUTIONS[r] == tuple(size)][0] if tuple(size) in RESOLUTIONS else 9
            for k in range(singles + sequences):
                s = seed * 1_000_003 + ci * 10_007 + ri * 1_009 + k
                prng, nrng = random.Random(s), np.random.default_rng(s)
                count = int(nrng.integers(2, 5)) if category == "several" else 1
                texts = [payload(prng, long=category == "high_version") for _ in range(count)]
                if k < singles:
                    frames, kind = render(category, size, texts, nrng), "single"
                else:
                    # A hand holding a card: a slow drift with tremor, a degree or two of wobble.
                    vx, vy = nrng.uniform(-4, 4, 2)
                    steps, x, y, a = [], 0.0, 0.0, 0.0
                    for _ in range(seq_len):
                        steps.append((x, y, a))
                        x += vx + float(nrng.normal(0, 1.5))
                        y += vy + float(nrng.normal(0, 1.5))
                        a += float(nrng.normal(0, 0.6))
                    frames, kind = render(category, size, texts, nrng, steps), "sequence"
                yield Sample(category, size, kind, frames, [t.encode("utf-8") for t in texts], k)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="directory for the PNG frames (keep it out of git)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--singles", type=int, default=2)
    ap.add_argument("--sequences", type=int, default=0)
    ap.add_argument("--category", action="append", choices=CATEGORIES)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for s in samples(args.seed, args.singles, args.sequences, categories=args.category or CATEGORIES):
        for i, f in enumerate(s.frames):
            name = f"{s.category}-{s.size[0]}x{s.size[1]}-{s.kind}{s.index:02d}-{i:02d}.png"
            cv2.imwrite(str(out / name), f)
            (out / (name + ".txt")).write_bytes(b"\n".join(s.truths))
            n += 1
    print(f"wrote {n} frames to {out}")


if __name__ == "__main__":
    main()
