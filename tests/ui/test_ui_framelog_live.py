"""The frame log as an instrument under live traffic: a selected frame stays put (Follow
pauses until the Follow button or End), and the No. and Info columns say what `log show`
says about the same frames of the capture."""

from __future__ import annotations

from PySide6.QtCore import Qt

from inspector.cli import payload_summary
from inspector.store import Capture
from ui.model import COL_INFO, COL_NO, COL_TIME

from test_ui_window import click, start_csms
from ui_helpers import until


def _stream(qtbot, window, url: str, charge_point: str, meter_values: int):
    panel = window.roles.charger
    panel.csms_url.setText(url)
    panel.charge_point.setText(charge_point)
    panel.version.setCurrentText("1.6")
    panel.meter_values.setValue(meter_values)
    panel.interval.setValue(0.02)
    panel.stay.setChecked(False)
    click(qtbot, panel.start_button)
    return panel.runs[charge_point]


def test_selecting_a_row_pauses_follow_until_end(qtbot, window, run):
    log, model = window.log, window.model

    async def scenario():
        url = await start_csms(qtbot, window)
        charger = _stream(qtbot, window, url, "CP-FOLLOW", 400)
        await until(lambda: model.rowCount() > 80, 20, "frames to fill the table")
        assert log.table.following and log.bar.follow.isChecked()
        # a real click on a row that is on screen
        target = log.table.rowAt(log.table.viewport().height() // 2)
        index = model.index(target, COL_TIME)
        qtbot.mouseClick(log.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=log.table.visualRect(index).center())
        selected = log.selected_store_row()
        assert selected == model.store_row(target)
        seen = model.rowCount()
        await until(lambda: model.rowCount() > seen + 10, 20, "more frames to arrive")
        # (Qt may first nudge a half-visible clicked row fully into view)
        where, top = log.table.visualRect(index), log.table.rowAt(0)
        seen = model.rowCount()
        await until(lambda: model.rowCount() > seen + 100, 20, "more frames to arrive")
        # the frame being read has not moved, and Follow says it is paused
        assert log.table.rowAt(0) == top
        assert log.table.visualRect(model.index(target, COL_TIME)) == where
        assert log.table.viewport().rect().contains(where)
        assert not log.table.following and not log.bar.follow.isChecked()
        assert log.selected_store_row() == selected
        qtbot.keyClick(log.table, Qt.Key.Key_End)
        assert log.table.following and log.bar.follow.isChecked()
        seen = model.rowCount()
        await until(lambda: model.rowCount() > seen + 20 or charger.state == "session complete",
                    20, "more frames")
        await until(lambda: not window._pending, 5, "the batch")
        bar = log.table.verticalScrollBar()  # following again: the newest frame comes into view
        await until(lambda: bar.value() == bar.maximum(), 10, "the log to scroll")
        await until(lambda: not charger.running, 30, "the session to end")

    run(scenario(), 90)


def test_no_and_info_columns_match_the_capture_and_log_show(qtbot, window, run, tmp_path):
    model = window.model

    async def scenario():
        url = await start_csms(qtbot, window)
        charger = _stream(qtbot, window, url, "CP-INFO", 3)
        await until(lambda: not charger.running, 30, "the session")
        await until(lambda: not window._pending, 5, "the batch")

    run(scenario())
    shown = {model.data(model.index(r, COL_NO)): model.data(model.index(r, COL_INFO))
             for r in range(model.rowCount())}
    assert "status Available, connector 1" in shown.values()
    assert any(text.startswith("connector 1, tx ") and " E " in f" {text}" for text in shown.values())
    run(window.shutdown())
    stored = {str(item["id"]): payload_summary(item, 100)
              for item in Capture(window.live.path).frames()}
    assert shown == stored  # same numbers, same Info, live and from the capture


def test_filtering_never_moves_the_layout(qtbot, window, run):
    """The count label has its width from the start: a filter never squeezes the Roles dock."""
    import asyncio

    from ui.framestore import FrameFilter

    window.resize(1400, 900)
    run(asyncio.sleep(0.3))
    dock, central = window.roles_dock.width(), window.centralWidget().width()
    window.log.bar.count.setText("")
    window.log.bar.set_filter(FrameFilter(text="something"))
    window.log.bar.show_count(1_234_567, 7_654_321, 0.25)
    window.show_view("connections")
    run(asyncio.sleep(0.3))
    assert (window.roles_dock.width(), window.centralWidget().width()) == (dock, central)
    assert window.log.bar.count.toolTip() == "filtered in 250 ms"
