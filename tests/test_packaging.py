"""The Linux desktop bundle builds and starts: `--version`, `--help`, an offscreen GUI start."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(importlib.util.find_spec("PyInstaller") is None,
                    reason="PyInstaller not installed (pip install '.[package]')")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the CI bundle is the Linux one")
def test_linux_bundle_builds_and_starts(tmp_path):
    """packaging/build.py builds the onedir bundle and its smoke test passes."""
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"),
                             "--dist", str(tmp_path / "dist"), "--work", str(tmp_path / "work")],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    bundle = tmp_path / "dist" / "ocpp-inspector"
    assert (bundle / "ocpp-inspector").is_file()
    assert (bundle / "ocpp-inspector.desktop").is_file() and (bundle / "ocpp-inspector.png").is_file()
    assert "bundle --version: ocpp-inspector 0." in result.stdout
    assert "bundle roles: charger session against the fake CSMS ok" in result.stdout
