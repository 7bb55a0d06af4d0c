"""The installed PySide6 must not leak references to None (6.12.0 on Python < 3.12 does: the kiosk would
abort with "none_dealloc" after a few thousand Qt calls — minutes of the idle animation)."""

import sys

import pytest

pytest.importorskip("PySide6")


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_void_qt_calls_keep_none_alive(qapp):
    from PySide6.QtWidgets import QLabel
    label = QLabel()
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
        qapp.processEvents()
    assert sys.getrefcount(None) - before > -100, "PySide6 drops a None reference per call: pin another version"
