"""Build the desktop bundle and smoke-test it: `python packaging/build.py`.

Produces dist/ocpp-inspector/ (onedir) with the app icon and, on Linux, a .desktop entry
beside it; then runs `--version`, `--help` and an offscreen GUI start from the bundle.
Needs `pip install '.[package]'`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def build(dist: Path, work: Path) -> Path:
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(work), str(HERE / "ocpp-inspector.spec")],
                   check=True, cwd=ROOT)
    bundle = dist / "ocpp-inspector"
    if sys.platform.startswith("linux"):
        shutil.copy(HERE / "ocpp-inspector.desktop", bundle / "ocpp-inspector.desktop")
        shutil.copy(ROOT / "ui" / "icon.png", bundle / "ocpp-inspector.png")
    return bundle


def smoke_test(bundle: Path) -> None:
    exe = bundle / ("ocpp-inspector.exe" if sys.platform == "win32" else "ocpp-inspector")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True, env=env)
    print("bundle --version:", version.stdout.strip())
    helptext = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True, env=env)
    assert "proxy" in helptext.stdout and "csms" in helptext.stdout, helptext.stdout
    suites = subprocess.run([str(exe), "suite", "list"], capture_output=True, text=True, env=env)
    # the suites are found through our metadata's entry point: it must be in the bundle
    assert suites.returncode == 0 and "TC_001_CS" in suites.stdout, suites.stdout + suites.stderr
    roles_smoke_test(exe, env)
    gui = subprocess.run([str(exe), "gui", "--smoke-test"], capture_output=True, text=True, env=env,
                         timeout=120)
    if gui.returncode != 0:
        raise SystemExit(f"GUI smoke test failed ({gui.returncode}):\n{gui.stdout}\n{gui.stderr}")
    print("bundle GUI start:", gui.stdout.strip().splitlines()[-1] if gui.stdout.strip() else "ok")


def roles_smoke_test(exe: Path, env: dict) -> None:
    """A fake charger session against a fake CSMS, both from the bundle, on 127.0.0.1: the
    headless event loop (uvloop where bundled), schemas and validation all work frozen."""
    csms = subprocess.Popen([str(exe), "csms", "--listen", "127.0.0.1:0", "--no-log", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = None
        for _ in range(20):
            match = re.search(r"listening on (ws://127\.0\.0\.1:\d+/)", csms.stdout.readline())
            if match:
                url = match.group(1)
                break
        assert url, "the bundled fake CSMS did not start"
        charger = subprocess.run([str(exe), "charger", "--url", url + "SMOKE", "--meter-values", "1",
                                  "--interval", "0.05", "--no-log"], capture_output=True,
                                 text=True, env=env, timeout=60)
        assert charger.returncode == 0 and "CALLRESULT MeterValues" in charger.stdout, \
            charger.stdout[-2000:] + charger.stderr[-2000:]
        print("bundle roles: charger session against the fake CSMS ok")
    finally:
        csms.terminate()
        csms.wait(10)


def main(argv: list[str] | None = None) -> int:
    import argparse
    parser = argparse.ArgumentParser(prog="python packaging/build.py", description=__doc__)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the bundle goes")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    args = parser.parse_args(argv)
    bundle = build(args.dist, args.work)
    smoke_test(bundle)
    print(f"bundle ready: {bundle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
