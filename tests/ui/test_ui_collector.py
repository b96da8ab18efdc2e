"""The window's cyclic garbage collections all run on the Qt thread: one on the roles'
thread can free a Qt object there and deadlock the window (ui/collector.py)."""

from __future__ import annotations

import gc
import threading

from inspector import memory
from ui_helpers import until


def test_collections_run_on_the_qt_thread_only(qtbot, window, run):
    threads: list[str] = []

    def seen(phase, info):
        if phase == "start":
            threads.append(threading.current_thread().name)
    gc.callbacks.append(seen)
    try:
        assert not gc.isenabled()  # no collection wherever an allocation crosses a threshold

        async def garbage_on_the_roles_thread():
            for _ in range(200_000):  # far past every automatic threshold
                a, b = [], []
                a.append(b)
                b.append(a)

        async def scenario():
            await window.on_roles(garbage_on_the_roles_thread())
            memory.release_idle_memory()  # what a role gone idle asks for: a full one, later
            full = window.collector.collections[2]
            await until(lambda: window.collector.collections[2] > full, 10, "the full collection")

        run(scenario(), 60)
    finally:
        gc.callbacks.remove(seen)
    assert threads and set(threads) == {threading.main_thread().name}, set(threads)


def test_closing_the_window_gives_collection_back_to_python(qtbot, window, run):
    run(window.shutdown())
    assert gc.isenabled()
    assert memory._release is memory._collect_and_trim
