"""Helpers: the text a person can see on a window."""

from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QTableWidget, QWidget


def visible_text(root: QWidget, include_hidden_pages: bool = False) -> str:
    """Every label, button, field and table cell text (of every stacked page if asked)."""
    out = []
    for w in [root, *root.findChildren(QWidget)]:
        if not include_hidden_pages and not w.isVisibleTo(root):
            continue
        if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
            out.append(w.text())
        elif isinstance(w, QTableWidget):
            for r in range(w.rowCount()):
                for c in range(w.columnCount()):
                    item = w.item(r, c)
                    if item:
                        out.append(item.text())
    return "\n".join(t for t in out if t)
