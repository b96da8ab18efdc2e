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


def _isolated_env(tmp_path) -> dict:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_DATA_HOME=str(tmp_path / "data"),
                XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))


def test_smoke_test_prints_the_title_and_leaves_nothing_behind(tmp_path):
    import inspector

    result = subprocess.run([sys.executable, "-m", "ui", "gui", "--smoke-test"], cwd=ROOT,
                            env=_isolated_env(tmp_path), capture_output=True, text=True,
                            encoding="utf-8", timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f'GUI started: OCPP Inspector {inspector.__version__}, window '
        f'"live session — version {inspector.__version__}"']
    assert "Traceback" not in result.stderr
    # settings and the capture went to a temporary folder, removed afterwards
    assert not list(tmp_path.rglob("*.db")) and not list(tmp_path.rglob("*.conf"))


SMOKE_FAILS = r"""
import errno, sys
from inspector.roles.csms import FakeCsms
from ui.app import run_gui

async def refuse(self):
    raise OSError(errno.EADDRINUSE, "Address already in use")
FakeCsms.start = refuse
sys.exit(run_gui([], smoke_test=True))
"""


def test_smoke_test_failure_is_one_line_and_non_zero(tmp_path):
    result = subprocess.run([sys.executable, "-c", SMOKE_FAILS], cwd=ROOT, env=_isolated_env(tmp_path),
                            capture_output=True, text=True, encoding="utf-8", timeout=60)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "GUI started" not in result.stdout
    assert ("GUI smoke test failed: Cannot listen on 127.0.0.1:0: address already in use"
            in result.stderr), result.stderr
    assert "Traceback" not in result.stderr


def test_icon_is_found_from_source_and_inside_a_bundle(qapp, tmp_path, monkeypatch):
    from ui import app

    source = ROOT / "ui" / "icon.png"
    assert app.icon_path() == source
    bundled = tmp_path / "bundle" / "ui" / "icon.png"
    bundled.parent.mkdir(parents=True)
    bundled.write_bytes(source.read_bytes())
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "bundle"), raising=False)
    assert app.icon_path() == bundled
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "empty"), raising=False)
    assert app.icon_path() == source  # a bundle without the file: the checkout's, if any
    monkeypatch.setattr(app, "ICON_RELATIVE", Path("ui") / "missing.png")
    assert app.icon_path() is None  # silently no icon
    assert app.app_icon().isNull()


def test_window_and_about_box_show_the_icon(window):
    import inspector

    assert not window.windowIcon().isNull()
    box = window.show_about()
    assert f"Version {inspector.__version__}" in box.text()
    assert not box.iconPixmap().isNull()
    box.close()
