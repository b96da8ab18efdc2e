"""Shared fixtures: a hub with a capture writer, and role factories on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from inspector.events import FrameLogged, Hub  # noqa: E402
from inspector.roles.common import Listen  # noqa: E402
from inspector.store import Capture, CaptureWriter  # noqa: E402

LOOPBACK = Listen("127.0.0.1", 0)


def pytest_asyncio_loop_factories(config, item):
    """Tests marked `both_loops` run on asyncio's own loop (the GUI's qasync stands in for
    it) and on uvloop, which the headless CLI runs on where it is installed."""
    factories = {"asyncio": asyncio.new_event_loop}
    if item.get_closest_marker("both_loops") is None:
        return factories
    try:
        import uvloop
    except ImportError:  # Windows: the CLI uses asyncio's loop there too
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories


# No test may hang the suite: an async test still running after this long is cancelled and
# fails with the stack of every task on its loop (what it was waiting for), instead of CI
# waiting for its own timeout with nothing to show.
ASYNC_TEST_LIMIT_S = float(os.environ.get("OCPP_INSPECTOR_TEST_LIMIT", 300))


def pytest_collection_modifyitems(items):
    for item in items:
        function = getattr(item, "obj", None)
        if inspect.iscoroutinefunction(function) and not hasattr(function, "limited_to"):
            item.obj = _time_limited(function)


def _time_limited(test):
    @functools.wraps(test)
    async def limited(*args, **kwargs):
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        stacks: list[str] = []

        def expired() -> None:
            for other in asyncio.all_tasks(loop):
                stacks.append(f"{other.get_name()}:\n" + _awaiting(other.get_coro()))
            task.cancel()
        alarm = loop.call_later(ASYNC_TEST_LIMIT_S, expired)
        try:
            return await test(*args, **kwargs)
        except asyncio.CancelledError:
            if stacks:
                raise AssertionError(f"the test was still running after {ASYNC_TEST_LIMIT_S} s; "
                                     "its loop's tasks:\n" + "\n".join(stacks)) from None
            raise
        finally:
            alarm.cancel()
    limited.limited_to = ASYNC_TEST_LIMIT_S
    return limited


def _awaiting(coroutine) -> str:
    """Where a suspended coroutine waits, down its chain of awaits (a task's own stack
    shows only its outermost frame)."""
    lines = []
    while coroutine is not None and len(lines) < 40:
        frame = getattr(coroutine, "cr_frame", None) or getattr(coroutine, "gi_frame", None)
        if frame is not None:
            lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}")
        coroutine = getattr(coroutine, "cr_await", None) or getattr(coroutine, "gi_yieldfrom", None)
    return "\n".join(lines)


class Recorder:
    """Collects every FrameRecord a hub publishes, for direct assertions."""

    def __init__(self, hub: Hub):
        self.records = []
        self.events = []
        hub.subscribe(self._on_event)

    def _on_event(self, event):
        self.events.append(event)
        if isinstance(event, FrameLogged):
            self.records.append(event.record)


@pytest.fixture
def hub():
    return Hub()


@pytest.fixture
def recorder(hub):
    return Recorder(hub)


@pytest.fixture
def capture_path(tmp_path, hub):
    """A capture file the hub writes to; read it back with `exported(capture_path)`."""
    path = tmp_path / "capture.db"
    writer = CaptureWriter(path)
    writer.attach(hub)
    yield path
    writer.close()


def exported(path) -> list[dict]:
    """The frames of a capture as the JSONL export writes them."""
    capture = Capture(path)
    try:
        return list(capture.frames())
    finally:
        capture.close()


def raw_json(item) -> object:
    return json.loads(item["raw"])
