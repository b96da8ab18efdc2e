"""Batching, colours, auto-scroll and large-table behaviour of the frame log."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from inspector.events import CallUnanswered, FrameLogged
from ui.framelog import FOLLOW_MS
from ui.framestore import FrameFilter, FrameStore, RowInput
from ui.model import COL_CP, COL_NOTES, COL_VALID, INVALID_BG, UNANSWERED_BG, FrameTableModel
from ui_helpers import make_records


def publish(window, records) -> None:
    for record in records:
        window.hub.publish(FrameLogged(record))


def test_a_batch_is_one_insert_and_colours_follow_validity(window):
    inserts = []
    window.model.rowsInserted.connect(lambda _parent, first, last: inserts.append((first, last)))
    _info, monitor, records = make_records(window.hub, 600)
    publish(window, records)
    assert window.model.rowCount() == 0  # the subscriber only buffers
    window.drain()
    assert inserts == [(0, 599)]
    model = window.model
    invalid = next(i for i, r in enumerate(records) if r.valid is False)
    assert model.data(model.index(invalid, 0), Qt.ItemDataRole.BackgroundRole).color() == INVALID_BG
    assert model.data(model.index(invalid, COL_VALID)) == "✗"
    assert "$.connectorId" in model.data(model.index(invalid, COL_NOTES))
    assert model.data(model.index(0, COL_VALID)) == "✓"

    # a CALL flagged later (unanswered) is repainted in place
    call = records[0]
    call.flags.append("unanswered after 30 s")
    window.hub.publish(CallUnanswered(call, "unanswered after 30 s"))
    window.drain()
    assert model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole).color() == UNANSWERED_BG
    assert "unanswered" in model.data(model.index(0, COL_NOTES))
    window.log.bar.set_filter(FrameFilter(invalid_only=True))
    assert model.rowCount() == sum(1 for r in records if r.valid is False or r.flags)


def test_filtered_view_grows_incrementally(window):
    window.log.bar.set_filter(FrameFilter(action="StatusNotification"))
    _info, _monitor, records = make_records(window.hub, 200)
    publish(window, records[:100])
    window.drain()
    first = window.model.rowCount()
    publish(window, records[100:])
    window.drain()
    expected = sum(1 for r in records if r.action == "StatusNotification")
    assert 0 < first < window.model.rowCount() == expected
    assert window.log.bar.count.text() == f"{expected:,} of {len(records):,} frames"


def test_auto_scroll_pauses_while_scrolled_up(window, qapp, qtbot):
    """While following, the log scrolls to new frames within FOLLOW_MS (a busy log is not
    scrolled once per batch); scrolled up, it stays where the user is."""
    table = window.log.table
    bar = table.verticalScrollBar()
    _info, _monitor, records = make_records(window.hub, 2000)
    publish(window, records[:1000])
    window.drain()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=10_000)
    bar.setValue(10)  # the user scrolls up
    assert not table.following and not window.log.bar.follow.isChecked()
    publish(window, records[1000:1500])
    window.drain()
    qtbot.wait(FOLLOW_MS * 2)
    assert bar.value() == 10
    window.log.bar.follow.click()  # resume
    assert table.following and bar.value() == bar.maximum()
    publish(window, records[1500:])
    window.drain()
    qtbot.waitUntil(lambda: bar.value() == bar.maximum(), timeout=10_000)


def test_large_store_filters_fast_and_paints(qtbot):
    from ui.framelog import FrameTable

    store = FrameStore()
    count = 300_000
    rows = [RowInput(i + 1, 1_700_000_000 + i / 100, 1, f"CP{i % 50}",
                     ("MeterValues", "Heartbeat", "StatusNotification")[i % 3],
                     ("to_csms", "to_charger")[i % 2], ("CALL", "CALLRESULT")[i % 2],
                     i % 97 != 0, None, None, f"u{i}",
                     f'[2,"u{i}","MeterValues",{{"connectorId":{i % 4},"v":"{i}"}}]')
            for i in range(count)]
    store.append(rows)
    model = FrameTableModel(store)
    table = FrameTable(model)
    qtbot.addWidget(table)
    table.resize(900, 500)
    table.show()
    for flt in (FrameFilter(charge_point="CP7"), FrameFilter(invalid_only=True),
                FrameFilter(text='"v":"123'), FrameFilter(action="Heartbeat", text="connectorid\":3")):
        started = time.perf_counter()
        model.set_filter(flt)
        assert time.perf_counter() - started < 1.0, flt
        assert model.rowCount() == len(store.select(flt)) > 0
    model.set_filter(FrameFilter())
    table.scrollToBottom()
    table.grab()  # paints the last rows
    assert model.data(model.index(count - 1, COL_CP)) == f"CP{(count - 1) % 50}"


def test_selection_and_detail_survive_filter_changes(window):
    _info, _monitor, records = make_records(window.hub, 400)
    publish(window, records)
    window.drain()
    target = next(i for i, r in enumerate(records) if r.action == "StatusNotification"
                  and r.type.value == "CALL")
    assert window.log.select_store_row(target)
    assert "Faulted" in window.detail.frame.text.toPlainText()
    assert not window.log.table.following  # selecting from elsewhere pauses auto-scroll
    window.log.bar.set_filter(FrameFilter(action="StatusNotification"))
    current = window.log.table.currentIndex()
    assert current.isValid() and window.model.store_row(current.row()) == target
    assert window.detail.store_row == target
    window.log.bar.set_filter(FrameFilter(action="Heartbeat"))  # filtered out: detail stays
    assert window.detail.store_row == target
    assert "Faulted" in window.detail.frame.text.toPlainText()
