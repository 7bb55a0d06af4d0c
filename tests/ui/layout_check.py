"""Geometry checks for a rendered window: clipped text, overlapping controls, small touch targets."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (QAbstractButton, QCheckBox, QComboBox, QLabel, QLineEdit, QProgressBar, QTableWidget,
                               QWidget)

CONTROLS = (QLabel, QAbstractButton, QLineEdit, QComboBox, QTableWidget, QProgressBar)
TOUCH = (QAbstractButton, QLineEdit, QComboBox)


def _visible(root: QWidget, w: QWidget) -> bool:
    return w.isVisibleTo(root) and w.width() > 0 and w.height() > 0


def _rect(root: QWidget, w: QWidget) -> QRect:
    return QRect(w.mapTo(root, w.rect().topLeft()), w.size())


def _inside_other_control(w: QWidget) -> bool:
    p = w.parentWidget()
    while p is not None:
        if isinstance(p, (QComboBox, QTableWidget, QLineEdit)):
            return True
        p = p.parentWidget()
    return False


def problems(root: QWidget, touch_px: int, where: str) -> list[str]:
    out: list[str] = []
    controls = [w for w in root.findChildren(QWidget) if isinstance(w, CONTROLS) and _visible(root, w)
                and not _inside_other_control(w)]
    controls = [w for w in controls if not (isinstance(w, QLabel) and not w.text() and w.pixmap().isNull())]
    window = root.rect()
    for w in controls:
        name = f"{where}: {type(w).__name__} '{w.objectName()}'"
        r = _rect(root, w)
        if not window.contains(r):
            out.append(f"{name} extends outside the window ({r.getRect()} in {window.getRect()})")
        if isinstance(w, QLabel) and w.text():
            cr = w.contentsRect()
            fm = w.fontMetrics()
            if w.wordWrap():
                need = w.heightForWidth(w.width())
                if need > w.height() + 1:
                    out.append(f"{name} text clipped: needs {need}px height, has {w.height()}px: {w.text()[:50]!r}")
                longest = max((fm.horizontalAdvance(word) for word in w.text().split()), default=0)
                if longest > cr.width() + 1:
                    out.append(f"{name} a word wider than the label: {w.text()[:50]!r}")
            else:
                if fm.horizontalAdvance(w.text()) > cr.width() + 1 or fm.height() > cr.height() + 1:
                    out.append(f"{name} text clipped ({fm.horizontalAdvance(w.text())}x{fm.height()} in "
                               f"{cr.width()}x{cr.height()}): {w.text()[:50]!r}")
        if isinstance(w, QAbstractButton) and w.text() and not isinstance(w, QCheckBox):
            need = w.fontMetrics().horizontalAdvance(w.text()) + 12
            if need > w.width():
                out.append(f"{name} text clipped: needs {need}px, has {w.width()}px: {w.text()!r}")
        if isinstance(w, QComboBox) and w.currentText():
            need = w.fontMetrics().horizontalAdvance(w.currentText()) + w.height() // 2 + 8  # text + arrow
            if need > w.width():
                out.append(f"{name} choice clipped: needs {need}px, has {w.width()}px: {w.currentText()!r}")
        if isinstance(w, TOUCH) and min(w.width(), w.height()) < touch_px and not isinstance(w, QCheckBox):
            out.append(f"{name} touch target {w.width()}x{w.height()} < {touch_px}px (9 mm)")
        if isinstance(w, QCheckBox) and w.height() < touch_px:
            out.append(f"{name} touch target height {w.height()} < {touch_px}px (9 mm)")
    for i, a in enumerate(controls):
        ra = _rect(root, a)
        for b in controls[i + 1:]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            inter = ra.intersected(_rect(root, b))
            if inter.width() > 0 and inter.height() > 0:
                out.append(f"{where}: '{a.objectName() or type(a).__name__}' overlaps "
                           f"'{b.objectName() or type(b).__name__}' by {inter.width()}x{inter.height()}")
    return out
