"""The core stays Qt-free, and so do the UI's pure helpers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qasync")
QT_FREE_UI = ("framestore.py", "metering.py", "session.py")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_inspector_has_no_qt_import():
    files = sorted((ROOT / "inspector").rglob("*.py"))
    assert files
    offenders = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        imports = _imports(path)
        found = [name for name in FORBIDDEN if name in text or name in imports]
        if found:
            offenders.append(f"{path.relative_to(ROOT)}: {', '.join(found)}")
    assert not offenders, "Qt in the core:\n" + "\n".join(offenders)


def test_inspector_never_imports_the_ui():
    """Dependencies point one way: ui/ uses inspector/, never the reverse."""
    offenders = [str(path.relative_to(ROOT)) for path in sorted((ROOT / "inspector").rglob("*.py"))
                 if "ui" in _imports(path) or "testsuites" in _imports(path)]
    assert not offenders, "the core imports the UI or the suites:\n" + "\n".join(offenders)


def test_ui_helpers_are_qt_free():
    for name in QT_FREE_UI:
        assert not _imports(ROOT / "ui" / name) & set(FORBIDDEN), name


def test_importing_the_core_and_helpers_loads_no_qt():
    code = ("import sys, inspector.cli, inspector.roles.proxy, inspector.roles.csms, "
            "inspector.roles.charger, inspector.store, ui.framestore, ui.metering, ui.session; "
            f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
