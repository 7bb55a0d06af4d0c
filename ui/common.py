"""What every screen shares: translations (Qt .qm files), sizing for touch, and self-translating widgets.

Strings are written in English inside `tr("...")` (a marker `pyside6-lupdate`
extracts into ui/i18n/*.ts) and translated when shown, per window, so the
patient's language toggle does not change the receptionist's console.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTranslator
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QWidget

I18N_DIR = Path(__file__).parent / "i18n"
LANGS = ("vi", "en")
# Every source string looked up without a translation, by language: the i18n test fails on any.
MISSING: dict[str, set[str]] = {lang: set() for lang in LANGS}


def tr(text: str) -> str:
    """Marks a string for translation (lupdate finds `tr("...")`); translation happens on display."""
    return text


class Translations:
    _translators: dict[str, QTranslator] = {}

    @classmethod
    def get(cls, lang: str) -> QTranslator:
        t = cls._translators.get(lang)
        if t is None:
            t = QTranslator()
            if not t.load(str(I18N_DIR / f"{lang}.qm")):
                raise FileNotFoundError(f"missing compiled translations {I18N_DIR / (lang + '.qm')} "
                                        "(run: python -m ui.i18n build)")
            cls._translators[lang] = t
        return t


def T(lang: str, source: str, **params: object) -> str:
    """`source` (English, marked with tr) in `lang`, with {params} filled in."""
    text = Translations.get(lang).translate("", source)
    if not text:
        MISSING[lang].add(source)
        text = source
    return text.format(**params) if params else text


@dataclass(frozen=True)
class Metrics:
    """Sizes for one screen: touch targets ≥ 9 mm on the physical panel, text scaled to the window."""

    width: int
    height: int
    diagonal_in: float
    portrait_boost: bool = True  # larger text on a portrait panel (the patient window; the console has tab rows)

    @property
    def px_per_mm(self) -> float:
        return math.hypot(self.width, self.height) / (self.diagonal_in * 25.4)

    @property
    def touch(self) -> int:
        """The smallest side of a touch target, in pixels (9 mm)."""
        return math.ceil(9 * self.px_per_mm)

    @property
    def scale(self) -> float:
        if self.portrait_boost and self.height > self.width:  # portrait: width is what limits text, and there is height to spare
            return max(0.6, min(self.width / 600, self.height / 1000))
        return max(0.6, min(self.width / 800, self.height / 480))

    def font(self, role: str) -> int:
        base = {"small": 15, "body": 19, "button": 20, "heading": 26, "title": 34, "number": 110,
                "name": 26, "keypad": 28}[role]
        # Text readable at arm's length: never below ~2.8 mm cap height on the panel.
        floor = {"small": 2.6, "body": 3.0, "button": 3.0}.get(role, 3.4) * self.px_per_mm
        return max(int(base * self.scale), int(floor))


def stylesheet(m: Metrics) -> str:
    """High contrast: near-black on white, white on dark blue for actions."""
    f = m.font
    return f"""
    QWidget {{ background: #ffffff; color: #111111; font-size: {f('body')}px; }}
    QLabel[role="small"] {{ font-size: {f('small')}px; color: #333333; }}
    QLabel[role="heading"] {{ font-size: {f('heading')}px; font-weight: bold; }}
    QLabel[role="title"] {{ font-size: {f('title')}px; font-weight: bold; color: #0b3d91; }}
    QLabel[role="name"] {{ font-size: {f('name')}px; font-weight: bold; }}
    QLabel[role="number"] {{ font-size: {f('number')}px; font-weight: bold; color: #0b3d91; }}
    QLabel[role="error"] {{ font-size: {f('heading')}px; font-weight: bold; color: #a30000; }}
    QLabel[role="banner"] {{ font-size: {f('small')}px; background: #fff1c2; color: #4a3500; padding: 4px; }}
    QPushButton {{ font-size: {f('button')}px; min-height: {max(m.touch, int(44 * m.scale))}px;
                   min-width: {m.touch}px;
                   background: #0b3d91; color: #ffffff; border: 2px solid #0b3d91; border-radius: 6px;
                   padding: 4px 12px; }}
    QPushButton:pressed {{ background: #072a66; }}
    QPushButton:disabled {{ background: #9aa7bd; border-color: #9aa7bd; }}
    QPushButton[role="secondary"] {{ background: #ffffff; color: #0b3d91; }}
    QPushButton[role="danger"] {{ background: #a30000; border-color: #a30000; }}
    QPushButton[role="keypad"] {{ font-size: {f('keypad')}px; }}
    QPushButton[role="tab"] {{ background: #e6ecf5; color: #0b3d91; }}
    QPushButton[role="tab"]:checked {{ background: #0b3d91; color: #ffffff; }}
    QLineEdit, QComboBox {{ min-height: {m.touch}px; font-size: {f('body')}px; border: 2px solid #555555;
                            padding: 2px 6px; }}
    QCheckBox {{ min-height: {m.touch}px; font-size: {f('body')}px; }}
    QCheckBox::indicator {{ width: {m.touch * 2 // 3}px; height: {m.touch * 2 // 3}px; }}
    QTableWidget {{ font-size: {f('small')}px; gridline-color: #999999; }}
    QHeaderView::section {{ font-size: {f('small')}px; background: #e6ecf5; }}
    QProgressBar {{ min-height: {m.touch // 2}px; border: 2px solid #0b3d91; }}
    QProgressBar::chunk {{ background: #0b3d91; }}
    """


class TLabel(QLabel):
    """A label whose text is a marked source string, re-rendered when the language changes."""

    def __init__(self, source: str = "", role: str = "body", *, name: str = "", wrap: bool = True,
                 align=Qt.AlignmentFlag.AlignCenter):
        super().__init__()
        self.source, self.params = source, {}
        self.setProperty("role", role)
        self.setWordWrap(wrap)
        self.setAlignment(align)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        if name:
            self.setObjectName(name)

    def set(self, source: str, lang: str, **params: object) -> None:
        self.source, self.params = source, params
        self.retranslate(lang)

    def retranslate(self, lang: str) -> None:
        self.setText(T(lang, self.source, **self.params) if self.source else "")
        if self.property("role") == "banner" and self.objectName() != "status":
            self.setVisible(bool(self.source))  # an empty banner would still paint its colour


class Label(QLabel):
    """A label for data (names, numbers): never translated."""

    def __init__(self, role: str = "body", *, name: str = "", wrap: bool = True,
                 align=Qt.AlignmentFlag.AlignCenter):
        super().__init__()
        self.setProperty("role", role)
        self.setWordWrap(wrap)
        self.setAlignment(align)
        if name:
            self.setObjectName(name)


class TButton(QPushButton):
    def __init__(self, source: str = "", role: str = "primary", *, name: str = ""):
        super().__init__()
        self.source, self.params, self.raw = source, {}, None
        self.setProperty("role", role)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        if name:
            self.setObjectName(name)

    def set(self, source: str, lang: str, **params: object) -> None:
        self.source, self.params, self.raw = source, params, None
        self.retranslate(lang)

    def set_raw(self, text: str) -> None:
        """Data from configuration (a service name) shown as-is."""
        self.raw = text
        self.setText(text)

    def retranslate(self, lang: str) -> None:
        if self.raw is None:
            self.setText(T(lang, self.source, **self.params) if self.source else "")


def retranslate_tree(root: QWidget, lang: str) -> None:
    for w in root.findChildren(QWidget):
        if isinstance(w, (TLabel, TButton)):
            w.retranslate(lang)


def restyle(widget: QWidget) -> None:
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class ActivityFilter(QObject):
    """Any touch or key on the window calls `on_activity` (restarts an idle or lock timer)."""

    def __init__(self, on_activity):
        super().__init__()
        self.on_activity = on_activity

    def eventFilter(self, obj, ev):
        if ev.type() in (QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress):
            self.on_activity()
        return False
