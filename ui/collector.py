"""Python's cyclic garbage collector runs on the Qt thread only.

CPython collects on whichever thread happens to allocate when a threshold is crossed. In
the window that is often the roles' thread (every frame allocates), and a collection there
can free the last reference to a Qt object's Python wrapper: its C++ destructor then runs
on the roles' thread, takes Qt's object mutex and waits for the interpreter lock, while the
Qt thread, holding the lock, waits for that mutex to delete another object. Seen in CI: the
window froze for good (py-spy: QObject::~QObject under gc_collect_main on "ocpp-roles",
QBasicMutex::lockInternal under runDeletionInMainThread on the main thread).

So the window turns automatic collection off and collects from a timer on its own thread:
the youngest generation every tick, the middle one every 10, a full collection every 120
(and when a role asks for one: inspector.memory.release_idle_memory). The window's start-up
objects are frozen (ui/app.py), so full collections stay short.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from inspector import memory

TICK_MS = 500
_MIDDLE_EVERY, _FULL_EVERY = 10, 120


class QtThreadCollector(QObject):
    def __init__(self, parent=None, tick_ms: int = TICK_MS):
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self._ticks = 0
        self._full_wanted = False
        self.collections = {0: 0, 1: 0, 2: 0}  # by generation (tests, diagnostics)
        self._timer = QTimer(self)
        self._timer.setInterval(tick_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        memory.release_with(self._want_full)  # a role gone idle: a full one, here

    def _want_full(self) -> None:
        self._full_wanted = True  # read by the next tick (a plain flag: any thread may set it)

    def _tick(self) -> None:
        self._ticks += 1
        if self._full_wanted or self._ticks % _FULL_EVERY == 0:
            self._full_wanted = False
            memory.collect_and_trim()
            self.collections[2] += 1
        elif self._ticks % _MIDDLE_EVERY == 0:
            gc.collect(1)
            self.collections[1] += 1
        else:
            gc.collect(0)
            self.collections[0] += 1

    def stop(self) -> None:
        """Back to Python's own collection (the window closes; tests make many windows)."""
        self._timer.stop()
        memory.release_with(None)
        if self._was_enabled:
            gc.enable()
