"""The real main window driven through its widgets: fake CSMS + fake charger on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import socket

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from inspector.store import Capture
from ui.framestore import FrameFilter

from ui_helpers import until


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), f"{widget.objectName() or widget.text()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


async def start_csms(qtbot, window) -> str:
    csms = window.roles.csms
    csms.listen.setText("127.0.0.1:0")
    click(qtbot, csms.start_button)
    await until(lambda: csms.running, 10, "the fake CSMS to listen")
    assert csms.url.text().startswith("ws://127.0.0.1:")
    assert csms.url.edit.isReadOnly() and csms.url.copy.isEnabled()
    return csms.url.text()


async def start_charger(qtbot, window, charge_point="CP-UI", version="1.6", meter_values=4,
                        stay=True):
    panel = window.roles.charger
    panel.charge_point.setText(charge_point)
    panel.version.setCurrentText(version)
    panel.meter_values.setValue(meter_values)
    panel.interval.setValue(0.02)
    panel.stay.setChecked(stay)
    click(qtbot, panel.start_button)
    run = panel.runs[charge_point]
    done = "connected (session complete)" if stay else "session complete"
    await until(lambda: run.state in (done, "failed"), 20, f"{charge_point}'s session")
    assert run.state == done, window.messages.toPlainText()
    await until(lambda: not window._pending and window.model.rowCount() > 0, 5, "the log")
    return run


def frames(window, **conditions) -> list:
    store = window.live.store
    out = []
    for i in range(store.count):
        row = store.row(i)
        if all(getattr(row, k) == v for k, v in conditions.items()):
            out.append(row)
    return out


def test_session_filter_detail_plot_connections_and_send(qtbot, window, run):
    async def scenario():
        url = await start_csms(qtbot, window)
        click(qtbot, window.roles.csms.use_for_charger)
        assert window.roles.charger.csms_url.text() == url
        await start_charger(qtbot, window, "CP-UI", "1.6", meter_values=4)
        model, bar = window.model, window.log.bar

        # the table shows every frame, both sides (charger and CSMS connections)
        total = window.live.store.count
        assert model.rowCount() == total >= 40
        assert "BootNotification" in window.live.store.actions.values()
        assert bar.count.text() == f"{total:,} frames"

        # filters, checked against a plain loop over the rows
        bar.set_filter(FrameFilter(action="MeterValues"))
        assert model.rowCount() == len(frames(window, action="MeterValues")) == 16
        bar.set_filter(FrameFilter(action="MeterValues", type="CALL", direction="to_csms"))
        assert model.rowCount() == 8
        bar.charge_point.setCurrentText("nobody")
        await until(lambda: model.rowCount() == 0, 3, "the debounced text filter")
        bar.set_filter(FrameFilter(text="energy.active.IMPORT.register"))
        expected = [r for r in range(window.live.store.count)
                    if "energy.active.import.register" in window.live.store.raw(r).lower()]
        assert model.rowCount() == len(expected) > 8
        assert "of" in bar.count.text()
        bar.reset()
        assert model.rowCount() == window.live.store.count

        # select the CSMS side's BootNotification CALL: detail shows it and its answer
        boot = next(r for r in frames(window, action="BootNotification", type="CALL")
                    if r.role == "csms")
        assert window.log.select_store_row(boot.index)
        detail = window.detail
        assert "chargePointVendor" in detail.frame.text.toPlainText()
        answer = json.loads(detail.pair.text.toPlainText())
        assert answer[0] == 3 and answer[2]["status"] == "Accepted"
        assert "Response" in detail.pair.header.text() and "latency" in detail.pair.header.text()
        assert detail.resend.isEnabled()
        assert detail.findings_text() == ["✓ no findings, no flags"]
        assert not detail.findings.isVisible()  # the JSON panes get the height

        # connections panel: one row per (charge point, role), with the last status
        stations = window.connections.stations_model
        assert stations.rowCount() == 2
        texts = [[stations.data(stations.index(r, c)) for c in range(stations.columnCount())]
                 for r in range(2)]
        assert {t[1] for t in texts} == {"charger", "csms"}
        assert all(t[2] == "connected" and t[3] == "ocpp1.6" for t in texts)
        assert all(t[4] == "Available (connector 1)" for t in texts)
        assert all(int(t[5].replace(",", "")) == total // 2 for t in texts)

        # the plot: one curve per charge point/connector (duplicates from both sides dropped)
        plot = window.plot
        assert plot.point_count() == 0  # hidden: not redrawn
        window.tabs.setCurrentWidget(plot)  # shown: catches up at once
        assert plot.selected == "Power.Active.Import"
        assert len(plot.curves) == 1 and plot.point_count() >= 4
        assert plot.select("Energy.Active.Import.Register")
        assert plot.point_count() >= 4
        assert "kWh" in plot.plot.getPlotItem().getAxis("left").labelText

        # send a GetConfiguration from the fake CSMS: its CALLRESULT lands in the table
        csms_panel = window.roles.csms
        await until(lambda: csms_panel.stations.count() == 1, 5, "the station list")
        csms_panel.stations.setCurrentRow(0)
        click(qtbot, csms_panel.send_button)
        dialog = window.send_dialog
        assert dialog.current_target().key == ("csms", "CP-UI")
        dialog.action.setCurrentText("GetConfiguration")
        assert json.loads(dialog.editor.toPlainText()) == {"key": ["HeartbeatInterval"]}
        assert dialog.revalidate() == []
        click(qtbot, dialog.send_button)
        await until(lambda: "Answered with CALLRESULT" in dialog.result.text(), 10, "the answer")
        await until(lambda: frames(window, action="GetConfiguration", type="CALLRESULT",
                                   role="csms"), 5, "the CALLRESULT in the log")
        bar.set_filter(FrameFilter(action="GetConfiguration"))
        assert model.rowCount() == 4  # CALL + CALLRESULT, seen by both roles

        # an invalid payload needs a confirmation; the strict fake charger answers CALLERROR
        dialog.editor.setPlainText('{"key": 5}')
        problems = dialog.revalidate()
        assert problems and "$.key" in problems[0]
        click(qtbot, dialog.send_button)
        await until(lambda: dialog.confirm_box is not None and dialog.confirm_box.isVisible(), 3,
                    "the confirmation")
        dialog.confirm_box.button(QMessageBox.StandardButton.Yes).click()
        await until(lambda: "CALLERROR" in dialog.result.text(), 10, "the CALLERROR")
        await until(lambda: model.rowCount() == 8, 5, "the invalid CALL and its CALLERROR")
        bar.set_filter(FrameFilter(action="GetConfiguration", invalid_only=True))
        assert model.rowCount() >= 2  # the invalid CALL on both sides
        bar.reset()

        # resend/edit from a logged CALL, from the charger side this time
        heartbeat = next(r for r in frames(window, action="Heartbeat", type="CALL")
                         if r.role == "charger")
        window.log.select_store_row(heartbeat.index)
        click(qtbot, window.detail.resend)
        dialog = window.send_dialog
        assert dialog.current_target().key == ("charger", "CP-UI")
        assert dialog.action.currentText() == "Heartbeat"
        before = len(frames(window, action="Heartbeat", type="CALLRESULT"))
        click(qtbot, dialog.send_button)
        await until(lambda: len(frames(window, action="Heartbeat", type="CALLRESULT")) == before + 2,
                    10, "the resent Heartbeat's answer")

    run(scenario(), 60)


def test_version_2_charger_plot_and_capture_roundtrip(qtbot, window, run, tmp_path):
    async def scenario():
        url = await start_csms(qtbot, window)
        window.roles.charger.csms_url.setText(url)
        window.tabs.setCurrentWidget(window.plot)
        await start_charger(qtbot, window, "CP-201", "2.0.1", meter_values=3, stay=False)
        await asyncio.sleep(0.3)  # live refreshes of a visible plot are throttled (250 ms)
        assert window.plot.selected == "Power.Active.Import"
        assert window.plot.point_count() >= 3
        assert window.connections.stations_model.rowCount() == 2

        # status bar: the capture file and totals
        assert str(tmp_path / "capture.db") in window.status_capture.text()
        window._update_stats()
        assert f"{window.live.store.count:,} frames" in window.status_frames.text()

        # save as (SQLite backup, consistent under WAL), export, then browse offline
        copy = tmp_path / "copy.db"
        assert window.save_capture_as(copy)
        capture = Capture(copy)
        assert capture.count() == window.live.store.count
        capture.close()
        out = tmp_path / "frames.jsonl"
        assert window.export_jsonl(out) == window.live.store.count
        lines = [json.loads(line) for line in out.read_text().splitlines()]
        assert {item["action"] for item in lines} >= {"BootNotification", "TransactionEvent"}
        window.log.bar.set_filter(FrameFilter(action="TransactionEvent", type="CALL"))
        assert window.export_jsonl(out) == window.model.rowCount() == 2 * 5  # started/3/ended

        window.log.bar.reset()
        live_total = window.live.store.count
        task = window.open_capture(copy)
        await until(task.done, 10, "the capture to load")
        assert window.shown is not window.live and window.shown.title == "copy.db"
        assert window.model.rowCount() == live_total
        assert "copy.db" in window.windowTitle()
        boot = window.shown.store.select(FrameFilter(action="BootNotification", type="CALL"))[0]
        window.log.select_store_row(int(boot))
        assert "Response" in window.detail.pair.header.text()  # pairing rebuilt offline
        assert window.plot.point_count() >= 3
        assert window.connections.stations_model.rowCount() == 2
        window.show_live()
        assert window.shown is window.live and window.model.rowCount() == live_total

    run(scenario(), 60)


def test_errors_are_readable_messages(qtbot, window, run):
    async def scenario():
        # port in use
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        try:
            csms = window.roles.csms
            csms.listen.setText(f"127.0.0.1:{port}")
            click(qtbot, csms.start_button)
            await until(lambda: not csms.error.isHidden(), 5, "the port-in-use error")
            assert f"Cannot listen on 127.0.0.1:{port}" in csms.error.text()
            assert "in use" in csms.error.text().lower()
            assert window.error_box is not None and "Cannot listen" in window.error_box.text()
            assert csms.start_button.isEnabled() and not csms.running
        finally:
            blocker.close()

        # bad listen address and bad URLs: refused before anything starts
        csms.listen.setText("localhost:http")
        click(qtbot, csms.start_button)
        assert "bad listen address" in csms.error.text()
        charger = window.roles.charger
        charger.csms_url.setText("http//nowhere")
        click(qtbot, charger.start_button)
        assert "bad URL" in charger.error.text()

        # a charger against a closed port: ChargerError, one line
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
        closed.close()
        charger.csms_url.setText(f"ws://127.0.0.1:{dead_port}/")
        charger.charge_point.setText("CP-DEAD")
        click(qtbot, charger.start_button)
        await until(lambda: charger.runs["CP-DEAD"].state == "failed", 15, "the charger to fail")
        assert f"cannot connect to ws://127.0.0.1:{dead_port}/CP-DEAD" in charger.error.text()
        assert "Traceback" not in window.messages.toPlainText()

        # the proxy with its upstream down: the charger is refused, the proxy says why
        proxy = window.roles.proxy
        proxy.listen.setText("127.0.0.1:0")
        proxy.upstream.setText(f"ws://127.0.0.1:{dead_port}/ocpp")
        click(qtbot, proxy.start_button)
        await until(lambda: proxy.running, 10, "the proxy")
        click(qtbot, proxy.use_for_charger)
        charger.charge_point.setText("CP-VIA-PROXY")
        click(qtbot, charger.start_button)
        await until(lambda: charger.runs["CP-VIA-PROXY"].state == "failed", 15, "the refusal")
        assert "HTTP 502" in charger.error.text()
        await until(lambda: not proxy.error.isHidden(), 5, "the proxy's notice")
        assert "unavailable" in proxy.error.text()
        stations = window.connections.stations_model
        await until(lambda: stations.rowCount() == 1, 5, "the refused connection")
        assert stations.data(stations.index(0, 2)) == "refused"

        # settings are remembered
        window.save_settings()
        assert window.settings.value("proxy/upstream") == f"ws://127.0.0.1:{dead_port}/ocpp"
        assert window.settings.value("charger/charge_point") == "CP-VIA-PROXY"

    run(scenario(), 60)


def test_about_shows_the_version(window):
    import inspector

    box = window.show_about()
    assert inspector.__version__ in box.text()
    box.close()
