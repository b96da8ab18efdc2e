"""Guard against a reference-counting bug of PySide6 6.12.0 on CPython 3.10/3.11.

With that wheel on Python < 3.12, every call of a Qt method returning void hands back
`None` without taking a reference, and `Signal.emit()` does the same with `True`. Each call
costs the singleton one reference; after a few thousand calls (a minute of a busy UI) the
interpreter aborts with "Fatal Python error: none_dealloc" (or bool_dealloc). Python 3.12
made these singletons immortal, so the bug is harmless there, and PySide6 6.11 does not
have it. The real fix is a dependency pin (see the report); until then this module detects
the bug with a short probe and, only if it is present, gives None, True and False so many
extra references that they can never reach zero.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys

log = logging.getLogger(__name__)
_EXTRA = 1 << 48  # ~2.8e14 references: centuries of leaked decrements
_PROBES = 256
_installed = False


def _refcount_leaks() -> bool:
    """True when void Qt calls or Signal.emit() drop references to None/True."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    probe.ping.connect(probe.deleteLater)  # any C++ slot; emit() returns a bool
    probe.ping.disconnect()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(_PROBES):
        probe.setObjectName("probe")  # void
        probe.ping.emit()  # bool
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    return lost_none >= _PROBES // 2 or lost_true >= _PROBES // 2


def install_refcount_guard() -> bool:
    """Protect None/True/False if this PySide6 build leaks their references; idempotent.

    Returns True when the guard is (or already was) active.
    """
    global _installed
    if _installed:
        return True
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False  # immortal singletons: nothing can go wrong
    if hasattr(sys, "gettotalrefcount"):
        return False  # debug build: the object header differs, leave it alone
    if not _refcount_leaks():
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += _EXTRA
    _installed = True
    import PySide6
    log.warning("PySide6 %s leaks references to None/True on Python %s; guard installed "
                "(use PySide6 < 6.12 or Python >= 3.12 to avoid it)", PySide6.__version__,
                platform.python_version())
    return True
