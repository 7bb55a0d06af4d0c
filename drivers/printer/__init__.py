"""Queue tickets on ESC/POS thermal printers, with Vietnamese rendered as a raster image.

Printer code pages for Vietnamese (CP1258, TCVN-3) are unreliable across
cheap thermal printers, so the whole ticket is drawn with a TrueType font
into a 1-bit image as wide as the paper and sent with ESC/POS raster
commands (python-escpos). `SimulatedPrinter` writes the same image as a PNG,
for the demo and tests. Printing is slow I/O: never call it on the GUI thread.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from drivers.protocols import Probe
from kiosk.config import Config
from kiosk.domain import Ticket
from kiosk.errors import UnavailableError
from kiosk.logs import event

if TYPE_CHECKING:  # Pillow is the optional `print` extra: imported where a ticket is drawn
    from PIL import Image as PilImage, ImageDraw as PilDraw, ImageFont as PilFont

Font = Union["PilFont.FreeTypeFont", "PilFont.ImageFont"]
EscposDevice = Any  # a python-escpos printer (Usb or Serial): the library has no type hints

log = logging.getLogger(__name__)

__all__ = ["EscposPrinter", "PrinterError", "SimulatedPrinter", "Ticket", "printer_from_config", "render_ticket"]

FONT_PATHS = (
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
BOLD_FONT_PATHS = (
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


class PrinterError(UnavailableError):
    """The printer cannot print now (exit status 3); `reason`: "offline" (unplugged/not found), "paper_out", "error"."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _font(paths: tuple[str, ...], size: int) -> Font:
    from PIL import ImageFont  # Pillow: the optional `print` extra
    for p in paths:
        if os.path.exists(p):
            return ImageFont.truetype(p, size)
    return ImageFont.load_default(size)


def _wrap(draw: PilDraw.ImageDraw, text: str, font: Font, width: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for w in words:
        trial = f"{line} {w}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = w
    if line:
        lines.append(line)
    return lines


def render_ticket(ticket: Ticket, width_px: int = 384) -> PilImage.Image:
    """The ticket as a 1-bit PIL image `width_px` wide (384 dots = 58 mm paper at 203 dpi)."""
    from PIL import Image, ImageDraw  # Pillow: the optional `print` extra
    scale = width_px / 384
    margin = int(12 * scale)
    inner = width_px - 2 * margin
    blocks = [
        (ticket.facility, _font(BOLD_FONT_PATHS, int(24 * scale))),
        (ticket.heading, _font(FONT_PATHS, int(26 * scale))),
        (str(ticket.queue_number), _font(BOLD_FONT_PATHS, int(150 * scale))),
        (ticket.service, _font(BOLD_FONT_PATHS, int(30 * scale))),
        (ticket.issued_at, _font(FONT_PATHS, int(22 * scale))),
    ]
    if ticket.footer:
        blocks.append((ticket.footer, _font(FONT_PATHS, int(20 * scale))))
    probe = ImageDraw.Draw(Image.new("1", (1, 1)))
    laid: list[tuple[str, Font, int]] = []
    height = margin
    for text, font in blocks:
        for line in _wrap(probe, text, font, inner):
            box = font.getbbox(line)
            top, bottom = int(box[1]), int(box[3])  # whole dots (FreeType answers ints already)
            laid.append((line, font, height - top))
            height += (bottom - top) + int(10 * scale)
        height += int(8 * scale)
    height += margin + int(40 * scale)  # room before the cutter
    img = Image.new("1", (width_px, height), 1)
    draw = ImageDraw.Draw(img)
    for line, font, y in laid:
        w = draw.textlength(line, font=font)
        draw.text(((width_px - w) / 2, y), line, font=font, fill=0)
    return img


class SimulatedPrinter:
    """Writes each ticket as `ticket-<n>.png`; `paper_out`/`connected` let tests make it fail."""

    name = "simulated printer"

    def __init__(self, out_dir: Path | str, width_px: int = 384):
        self.out_dir = Path(out_dir)
        self.width_px = width_px
        self.paper_out = False
        self.connected = True
        self.printed: list[Path] = []
        self._lock = threading.Lock()

    def status(self) -> tuple[bool, str]:
        if not self.connected:
            return False, "offline"
        return True, "paper_out" if self.paper_out else "ok"

    def probe(self) -> Probe:
        ok, state = self.status()
        return Probe("printer", ok, ok and state != "paper_out", "" if state == "ok" else state, simulated=True,
                     details={"out_dir": str(self.out_dir)})

    def print_ticket(self, ticket: Ticket) -> Path:
        with self._lock:
            if not self.connected:
                raise PrinterError("offline", "simulated printer unplugged")
            if self.paper_out:
                raise PrinterError("paper_out", "simulated printer out of paper")
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir / f"ticket-{ticket.queue_number}-{len(self.printed) + 1}.png"
            render_ticket(ticket, self.width_px).save(path)
            self.printed.append(path)
        event(log, "ticket_printed", printer="simulated", queue_number=ticket.queue_number)
        return path


class EscposPrinter:
    """A USB or serial ESC/POS printer through python-escpos; opened per ticket (survives replugging)."""

    def __init__(self, kind: str, *, usb_vendor_id: int = 0x0416, usb_product_id: int = 0x5011,
                 port: str = "/dev/kiosk-printer", baud: int = 9600, width_px: int = 384):
        self.kind = kind
        self.name = f"{kind} printer"
        self.usb_ids = (usb_vendor_id, usb_product_id)
        self.port, self.baud, self.width_px = port, baud, width_px
        self._lock = threading.Lock()

    def _open(self) -> EscposDevice:
        try:
            from escpos import printer as escpos_printer  # python-escpos: the optional `print` extra
        except ImportError as e:
            raise PrinterError("offline", f"python-escpos is not installed ({e.name})") from None
        try:
            if self.kind == "usb":
                p = escpos_printer.Usb(*self.usb_ids, profile="default")
            else:
                p = escpos_printer.Serial(devfile=self.port, baudrate=self.baud, timeout=2, profile="default")
            p.open()  # python-escpos 3 opens lazily; open now so "unplugged" is told apart
            return p
        except Exception as e:  # escpos raises USBNotFoundError, SerialException, usb.core errors...
            raise PrinterError("offline", type(e).__name__) from None

    def status(self) -> tuple[bool, str]:
        with self._lock:
            try:
                p = self._open()
            except PrinterError:
                return False, "offline"
            try:
                paper = p.paper_status()  # 2 ok, 1 near end, 0 out; not every printer answers
                return True, {0: "paper_out", 1: "paper_low"}.get(paper, "ok")
            except Exception:
                return True, "unknown"
            finally:
                _close(p)

    def probe(self) -> Probe:
        """Opens the printer and asks for its paper state, as the kiosk does before each ticket."""
        details: dict[str, str | int | bool | list[str]] = {"kind": self.kind}
        if self.kind == "usb":
            details["usb_id"] = f"{self.usb_ids[0]:04x}:{self.usb_ids[1]:04x}"
        else:
            details["port"] = self.port
        present, state = self.status()
        if not present:
            return Probe("printer", False, False, "offline", details=details)
        details["paper"] = state
        return Probe("printer", True, state != "paper_out", "" if state in ("ok", "unknown") else state,
                     details=details)

    def print_ticket(self, ticket: Ticket) -> None:
        img = render_ticket(ticket, self.width_px)
        with self._lock:
            p = self._open()
            try:
                try:
                    if p.paper_status() == 0:
                        raise PrinterError("paper_out")
                except PrinterError:
                    raise
                except Exception:
                    pass  # no status answer: print anyway
                p.image(img, impl="bitImageRaster")
                p.cut()
            except PrinterError:
                raise
            except Exception as e:
                raise PrinterError("error", type(e).__name__) from None
            finally:
                _close(p)
        event(log, "ticket_printed", printer=self.kind, queue_number=ticket.queue_number)


def _close(p: EscposDevice) -> None:
    try:
        p.close()
    except Exception:
        pass


def printer_from_config(cfg: Config) -> SimulatedPrinter | EscposPrinter | None:
    kind = cfg["printer.kind"]
    if kind == "simulated":
        return SimulatedPrinter(cfg.data_dir / "tickets", cfg["printer.paper_width_px"])
    if kind in ("usb", "serial"):
        return EscposPrinter(kind, usb_vendor_id=cfg["printer.usb_vendor_id"],
                             usb_product_id=cfg["printer.usb_product_id"], port=cfg["printer.port"],
                             baud=cfg["printer.baud"], width_px=cfg["printer.paper_width_px"])
    return None
