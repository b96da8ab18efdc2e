"""`run_gui()` end to end in its own process: start a role, quit, clean exit and files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from ui.app import create_application, run_gui

app = create_application([])

def window():
    return next(w for w in app.topLevelWidgets() if w.objectName() == "mainWindow")

def start():
    csms = window().roles.csms
    csms.listen.setText("127.0.0.1:0")
    csms.start_button.click()
    QTimer.singleShot(100, wait_running)

def wait_running():
    if not window().roles.csms.running:
        QTimer.singleShot(50, wait_running)
        return
    print("URL", window().roles.csms.url.text(), flush=True)
    window().close()  # stops the role, closes the capture, then the loop ends

QTimer.singleShot(300, start)
QTimer.singleShot(20000, lambda: (print("TIMEOUT", flush=True), app.exit(3)))
sys.exit(run_gui([]))
"""


def test_run_gui_starts_a_role_and_exits_cleanly(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "URL ws://127.0.0.1:" in result.stdout
    assert "Traceback" not in result.stderr
    captures = list((tmp_path / "data" / "ocpp-inspector" / "captures").glob("capture-*.db"))
    assert len(captures) == 1
    settings = list((tmp_path / "config").rglob("*.conf"))
    assert settings and "127.0.0.1:0" in settings[0].read_text()
