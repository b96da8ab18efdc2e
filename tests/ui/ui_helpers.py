"""Helpers shared by the UI tests."""

from __future__ import annotations

import asyncio
import time


async def until(condition, timeout: float = 10.0, what: str = "condition", interval: float = 0.02):
    """Await until condition() is truthy (returns its value); fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def make_records(hub, count: int, *, charge_point: str = "CP1", start: float = 1_700_000_000.0):
    """`count` logged frames (CALL/CALLRESULT pairs, some invalid) as the monitor makes them."""
    from inspector.monitor import ConnectionMonitor

    info = hub.new_connection(charge_point, "proxy", version="1.6", subprotocol="ocpp1.6",
                              opened_at=start)
    monitor = ConnectionMonitor(info, hub.next_seq)
    records = []
    for i in range(count // 2):
        moment = start + i * 0.01
        if i % 10 == 3:  # invalid: connectorId must be an integer
            call = f'[2,"m{i}","StatusNotification",{{"connectorId":"x","errorCode":"NoError","status":"Faulted"}}]'
        else:
            call = f'[2,"m{i}","Heartbeat",{{}}]'
        records.append(monitor.observe("to_csms", call, moment))
        records.append(monitor.observe(
            "to_charger", f'[3,"m{i}",{{"currentTime":"2026-11-25T10:00:00Z"}}]', moment + 0.002))
    return info, monitor, records


def click(qtbot, widget) -> None:
    """A real mouse click on an enabled button."""
    from PySide6.QtCore import Qt

    assert widget.isEnabled(), f"{widget.objectName() or widget.text()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
