"""The geometry checker itself finds clipped text, overlaps and small touch targets (so test_layout can fail)."""

import pytest

pytest.importorskip("PySide6")

from PySide6.QtWidgets import QLabel, QPushButton, QWidget  # noqa: E402

from tests.ui.layout_check import problems  # noqa: E402


def _root(qtbot):
    root = QWidget()
    qtbot.addWidget(root)
    root.resize(400, 300)
    root.show()
    return root


def test_finds_clipped_wrapped_label(qtbot):
    root = _root(qtbot)
    lab = QLabel("Đưa mã QR ở mặt trước thẻ CCCD vào dưới máy quét và giữ yên thật lâu " * 3, root)
    lab.setWordWrap(True)
    lab.setGeometry(0, 0, 200, 30)
    lab.show()
    assert any("text clipped" in p for p in problems(root, 10, "t"))


def test_finds_clipped_button_and_small_target(qtbot):
    root = _root(qtbot)
    b = QPushButton("Tiếp nhận và in phiếu", root)
    b.setGeometry(0, 0, 60, 20)
    b.show()
    found = problems(root, 47, "t")
    assert any("text clipped" in p for p in found) and any("touch target" in p for p in found)


def test_finds_overlap_and_outside(qtbot):
    root = _root(qtbot)
    a, b = QPushButton("A", root), QPushButton("B", root)
    a.setGeometry(0, 0, 100, 60)
    b.setGeometry(50, 30, 100, 60)
    c = QPushButton("C", root)
    c.setGeometry(350, 250, 100, 60)
    for w in (a, b, c):
        w.show()
    found = problems(root, 10, "t")
    assert any("overlaps" in p for p in found) and any("outside the window" in p for p in found)


def test_clean_layout_passes(qtbot):
    root = _root(qtbot)
    a, b = QPushButton("A", root), QPushButton("B", root)
    a.setGeometry(0, 0, 100, 60)
    b.setGeometry(0, 70, 100, 60)
    a.show()
    b.show()
    assert problems(root, 50, "t") == []
