"""One session model: a capture opened later shows exactly what the live view showed,
row for row and pair for pair, because the capture stores what the live pairing decided
(duplicate unique ids, stray responses and all) instead of pairing again."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from ui.model import COLUMNS

from test_ui_framelog_live import _stream
from test_ui_window import start_csms
from ui_helpers import until


def _shown(window) -> list[tuple]:
    model, store = window.model, window.shown.store
    rows = []
    for r in range(model.rowCount()):
        cells = tuple(model.data(model.index(r, c)) for c in range(len(COLUMNS)))
        pair = store.paired_row(model.store_row(r))
        rows.append(cells + (None if pair is None else pair + 1,))
    return rows


def _late_answer(window) -> None:
    """A CALL that times out, then its answer: live, the answer pairs with nothing (the
    CALL was given up); a capture paired again on reading would pair them."""
    import time as clock

    from inspector.events import ConnectionClosed, ConnectionOpened, FrameLogged
    from inspector.monitor import ConnectionMonitor

    hub = window.hub
    start = clock.time()
    info = hub.new_connection("CP-LATE", "proxy", version="1.6", subprotocol="ocpp1.6",
                              opened_at=start)
    hub.publish(ConnectionOpened(info))
    monitor = ConnectionMonitor(info, hub.next_seq, call_timeout=1.0)
    hub.publish(FrameLogged(monitor.observe("to_charger", '[2,"late","Reset",{"type":"Soft"}]',
                                            start)))
    for event in monitor.expire(start + 2):
        hub.publish(event)
    hub.publish(FrameLogged(monitor.observe("to_csms", '[3,"late",{"status":"Accepted"}]',
                                            start + 3)))
    info.closed_at = start + 4
    hub.publish(ConnectionClosed(info))


def test_an_opened_capture_shows_every_row_and_pair_as_live(qtbot, window, run):
    async def scenario():
        url = await start_csms(qtbot, window)
        _late_answer(window)
        charger = _stream(qtbot, window, url, "CP-LIVE", 3)
        async with connect(url + "CP-ODD", subprotocols=["ocpp1.6"]) as odd:
            # two CALLs with one unique id, a response to nothing, a call answered later
            for frame in ([2, "dup", "Heartbeat", {}], [2, "dup", "Heartbeat", {}],
                          [3, "never-asked", {}], [2, "x1", "Heartbeat", {}]):
                await odd.send(json.dumps(frame))
            for _ in range(3):
                await asyncio.wait_for(odd.recv(), 10)
        await until(lambda: not charger.running, 30, "the charger's session")
        await until(lambda: not window._pending and window.model.rowCount() > 30, 10, "the log")
        live = _shown(window)
        await asyncio.get_running_loop().run_in_executor(None, window.writer.flush)
        await window.open_capture(window.live.path)
        assert window.shown is not window.live
        return live, _shown(window)

    live, offline = run(scenario(), 90)
    # filters, the text search among them, select the same frames in both: the opened
    # capture searches its file (raw texts are not held in memory), live the memory
    from ui.framestore import FrameFilter
    for flt in (FrameFilter(text="heartbeat"), FrameFilter(text='"DUP"'),
                FrameFilter(charge_point="CP-ODD", text="never"), FrameFilter(invalid_only=True),
                FrameFilter(action="MeterValues", text="Energy")):
        assert list(window.shown.store.select(flt)) == list(window.live.store.select(flt)), flt
        assert len(window.live.store.select(flt)) > 0, flt
    assert len(offline) == len(live)
    for a, b in zip(live, offline):
        assert a == b
    # the odd connection's rows are in both, paired as the live monitor decided
    odd = [row for row in live if row[2] == "CP-ODD"]
    assert len(odd) >= 7
    late = [row for row in live if row[2] == "CP-LATE"]
    assert [row[-1] for row in late] == [None, None]  # given up, so never paired


def test_a_capture_from_before_stored_pairing_is_paired_on_reading(window, run, tmp_path):
    from tests.factories import legacy_capture

    old = tmp_path / "old.db"
    legacy_capture(old, [
        (1, 1, "to_csms", "CALL", "x", "Heartbeat", None, 1, "[]", '[2,"x","Heartbeat",{}]'),
        (2, 1.5, "to_charger", "CALLRESULT", "x", "Heartbeat", 500, 1, "[]",
         '[3,"x",{"currentTime":"2026-11-30T10:00:00Z"}]')], connection_closed_at=9)
    run(window.open_capture(old))
    store = window.shown.store
    assert store.count == 2 and store.paired_row(1) == 0 and store.paired_row(0) == 1
    assert store.raw(1) == '[3,"x",{"currentTime":"2026-11-30T10:00:00Z"}]'
    assert store.row(1).unique_id == "x" and store.row(1).latency_ms == 500
