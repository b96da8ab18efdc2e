"""Shared fixtures: a hub with a capture writer, and role factories on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
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
