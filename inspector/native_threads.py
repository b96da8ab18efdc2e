"""The operating system's threads, locks and events, also inside a gevent-patched process.

Locust patches `threading` with gevent as it is imported, so there a `threading.Thread` is a
greenlet and a `threading.Lock` a greenlet lock. Its workers run our asyncio chargers on a
native thread (inspector.locustfile), and the capture writer beside them needs native
primitives too. Outside a patched process these are plain `threading` objects; inside one,
small equivalents built on the original `_thread` module (what gevent keeps aside).
"""

from __future__ import annotations

import sys
import threading


def _patched():
    monkey = sys.modules.get("gevent.monkey")
    return monkey if monkey is not None and monkey.is_module_patched("threading") else None


def _original(name: str):
    return _patched().get_original("_thread", name)


class _Event:
    """threading.Event's set / is_set / clear / wait on one native lock (held while unset)."""

    def __init__(self):
        self._lock = _original("allocate_lock")()
        self._lock.acquire()
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        if not self._flag:
            self._flag = True
            self._lock.release()

    def clear(self) -> None:
        if self._flag:
            self._lock.acquire()
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        if self._lock.acquire(True, -1 if timeout is None else max(0.0, timeout)):
            self._lock.release()
        return self._flag


class _Thread:
    """threading.Thread's start / join / ident on a native thread."""

    def __init__(self, target, name: str = "", daemon: bool = True):
        self._target, self.name = target, name
        self.ident: int | None = None
        self._done = _Event()

    def start(self) -> None:
        started = _Event()

        def main():
            self.ident = _original("get_ident")()
            started.set()
            try:
                self._target()
            finally:
                self._done.set()
        _original("start_new_thread")(main, ())
        started.wait(10)

    def join(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def is_alive(self) -> bool:
        return self.ident is not None and not self._done.is_set()


def Thread(target, name: str = "", daemon: bool = True):  # noqa: N802 - stands in for a class
    if _patched():
        return _Thread(target, name, daemon)
    return threading.Thread(target=target, name=name, daemon=daemon)


def Lock():  # noqa: N802
    return _original("allocate_lock")() if _patched() else threading.Lock()


def Event():  # noqa: N802
    return _Event() if _patched() else threading.Event()


def get_ident() -> int:
    return _original("get_ident")() if _patched() else threading.get_ident()
