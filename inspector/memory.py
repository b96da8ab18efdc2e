"""Giving memory back when a role has gone idle.

A connection that ends leaves reference cycles (the WebSocket layer's objects, tasks,
exception tracebacks) that only a full collection frees, and glibc keeps freed heap pages
for the process. Measured with a fleet of 300 chargers leaving the fake CSMS (2026-11-30):
RSS stayed at its 72 MB peak, and a second fleet grew it to 78 MB; after `gc.collect()`
and `malloc_trim(0)` it fell to 56 MB, and every later fleet reused that memory (peak
72 MB again). The rest is CPython's small-object pools, which it keeps.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

IDLE_DELAY = 2.0  # seconds with no connection before the collection (a fleet leaves over time)


def _malloc_trim():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim  # glibc only; musl has none
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def _collect_and_trim() -> None:
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


# How the release runs. A process whose cyclic collections must all run on one thread (the
# desktop application: a Qt object freed on the roles' thread deadlocks against the Qt
# thread, see ui/collector.py) installs its own with `release_with`.
_release = _collect_and_trim


def release_with(function=None) -> None:
    """Install how idle memory is released (None: collect and trim here, the default)."""
    global _release
    _release = function or _collect_and_trim


def collect_and_trim() -> None:
    """A full collection, then freed heap back to the system, on the calling thread."""
    _collect_and_trim()


def release_idle_memory() -> None:
    """Collect the cycles departed connections left and return freed heap to the system.

    Call it only when nothing is connected: a full collection takes a few milliseconds
    per ten thousand live objects, time no charger should wait for."""
    _release()


class IdleRelease:
    """Runs `release_idle_memory` once a role has had no connection for IDLE_DELAY s."""

    def __init__(self, delay: float = IDLE_DELAY):
        self.delay = delay
        self._handle = None
        self.releases = 0  # how many times memory was released (tests, diagnostics)

    def connections_now(self, count: int) -> None:
        """Tell how many connections the role has, after each one ends or begins."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if count == 0:
            import asyncio
            self._handle = asyncio.get_running_loop().call_later(self.delay, self._release)

    def _release(self) -> None:
        self._handle = None
        release_idle_memory()
        self.releases += 1

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
