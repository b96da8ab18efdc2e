"""Fixtures for the desktop application tests: offscreen Qt, one qasync loop, a real window.

Tests drive the window from coroutines run on the qasync loop (`run(...)`), so Qt events
and asyncio (websockets, the roles) are processed together, exactly as in the application.
Every wait is bounded.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio  # noqa: E402

import pytest  # noqa: E402

from ui.compat import install_refcount_guard  # noqa: E402

# PySide6 6.12.0 on Python < 3.12 leaks references to None/True (see ui/compat.py); the
# tests make enough Qt calls to hit it, so protect the whole run before any Qt call.
install_refcount_guard()


@pytest.fixture(scope="session")
def qloop(qapp):
    import qasync

    from ui.app import create_application

    create_application([])
    loop = qasync.QEventLoop(qapp)
    yield loop
    if not loop.is_closed():
        loop.close()


@pytest.fixture
def run(qloop):
    """run(coroutine, timeout=30): run a coroutine on the shared qasync loop."""
    def run(coroutine, timeout: float = 30.0):
        return qloop.run_until_complete(asyncio.wait_for(coroutine, timeout))
    return run


@pytest.fixture
def window(qloop, qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from ui.mainwindow import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(qloop, settings=settings, capture_path=tmp_path / "capture.db")
    win.show()
    yield win
    # stop roles and close the capture on the loop, then close the window (not via qtbot,
    # which would close it outside the loop at teardown)
    qloop.run_until_complete(asyncio.wait_for(win.shutdown(), 30))
    win.close()
    win.deleteLater()
