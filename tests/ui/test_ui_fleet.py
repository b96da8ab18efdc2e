"""The Fleet tab: a fleet of fake chargers against the window's own fake CSMS."""

from __future__ import annotations

import json
import socket

from ui.fleet import charge_point_ids

from ui_helpers import click, until


def figure(panel, key: str) -> str:
    return panel.figures[key].text()


def test_fleet_runs_with_live_figures_and_sampled_frames_in_the_log(qtbot, window, run, tmp_path):
    overrides = tmp_path / "overrides.json"
    overrides.write_text(json.dumps({"BootNotification": {"interval": 1}}))

    async def scenario():
        csms = window.roles.csms
        csms.listen.setText("127.0.0.1:0")
        csms.overrides.setText(str(overrides))
        click(qtbot, csms.start_button)
        await until(lambda: csms.running, 10, "the fake CSMS")

        panel = window.roles.fleet
        assert window.roles.indexOf(panel) == 3 and window.roles.tabText(3) == "Fleet"
        panel.csms_url.setText(csms.url.text())
        panel.count.setValue(10)
        panel.version.setCurrentText("1.6")
        panel.prefix.setText("FL")
        panel.ramp_up.setValue(0.0)
        panel.duration.setValue(3.0)
        panel.scenario.setCurrentText("mixed")
        panel.meter_interval.setValue(0.5)
        panel.heartbeat.setText("")  # as granted: 1 s
        panel.log_every.setValue(5)
        assert panel.logged_hint.text() == "logs FL0001, FL0006 (2 of 10)"
        click(qtbot, panel.start_button)
        assert panel.running and not panel.start_button.isEnabled()

        # live figures, refreshed every second while it runs
        await until(lambda: figure(panel, "booted") == "10", 5, "10 booted chargers")
        await until(lambda: figure(panel, "frames_per_s") not in ("–", "0.0"), 4, "a frame rate")
        assert float(figure(panel, "frames_per_s").replace(",", "")) > 0
        assert figure(panel, "connected") == "10"
        assert figure(panel, "errors") == "0"
        assert "ms" in figure(panel, "latency")
        assert panel.state.text().startswith("running:")

        # the sampled chargers' frames reach the frame log (role "fleet"), the others do not;
        # FL0001 charges (mixed: every other charger), so its meter values reach the plot
        store = window.live.store

        def fleet_rows():
            return [store.row(i) for i in range(store.count) if store.row(i).role == "fleet"]
        await until(lambda: any(r.action == "MeterValues" for r in fleet_rows()), 4,
                    "FL0001's MeterValues in the log")
        rows = fleet_rows()
        assert {r.charge_point_id for r in rows} == {"FL0001", "FL0006"}
        assert {"BootNotification", "StatusNotification", "StartTransaction"} <= {r.action for r in rows}
        await until(lambda: figure(panel, "in_transaction") != "0", 2, "a transaction")
        window.tabs.setCurrentWidget(window.plot)
        assert window.plot.point_count() >= 1
        seqs = [store.seq(i) for i in range(store.count)]
        assert len(seqs) == len(set(seqs))  # numbered with the other roles' frames, no clashes
        assert window.writer.error is None
        stations = window.connections.stations_model
        assert {(stations.station(r).charge_point_id, stations.station(r).role)
                for r in range(stations.rowCount())} >= {("FL0001", "fleet"), ("FL0006", "fleet")}

        # Stop (the fleet would also end by itself after the duration and a last pause)
        click(qtbot, panel.stop_button)
        await until(lambda: not panel.running, 10, "the fleet to stop")
        summary = panel.last_summary
        assert summary["booted"] == 10 and summary["errors"] == 0 and summary["frames"] > 100
        assert "10 of 10 chargers booted" in panel.summary_view.toPlainText()
        assert panel.state.text().startswith("stopped after")
        assert "avg" in figure(panel, "frames_per_s")
        assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
        assert panel.error.isHidden()
        assert "fleet stopped" in window.messages.toPlainText()

        # a fleet that runs to its end by itself: "finished", no error
        panel.scenario.setCurrentText("idle")
        panel.count.setValue(2)
        panel.duration.setValue(1.0)
        click(qtbot, panel.start_button)
        await until(lambda: not panel.running, 8, "the idle fleet to finish")
        assert panel.state.text().startswith("finished after"), panel.state.text()
        assert panel.last_summary["booted"] == 2 and panel.error.isHidden()

        # settings remembered, never the password
        window.save_settings()
        assert window.settings.value("fleet/prefix") == "FL"
        assert int(window.settings.value("fleet/log_every")) == 5

    run(scenario(), 30)


def test_fleet_errors_are_readable_and_stop_works(qtbot, window, run):
    async def scenario():
        panel = window.roles.fleet
        panel.csms_url.setText("http://nowhere")
        click(qtbot, panel.start_button)
        assert "bad URL 'http://nowhere'" in panel.error.text()
        assert not panel.running

        panel.csms_url.setText("ws://127.0.0.1:9/")
        panel.heartbeat.setText("soon")
        click(qtbot, panel.start_button)
        assert "heartbeat interval 'soon'" in panel.error.text()
        panel.heartbeat.setText("")

        # the CSMS is down: every charger fails, the count and the last error are shown
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        panel.csms_url.setText(f"ws://127.0.0.1:{port}/")
        panel.prefix.setText("DN")
        panel.count.setValue(3)
        panel.duration.setValue(2.0)
        click(qtbot, panel.start_button)
        await until(lambda: not panel.running, 15, "the fleet to give up")
        assert figure(panel, "errors") == "3"
        assert panel.last_summary["booted"] == 0
        assert "only 0 of 3 chargers booted" in panel.error.text()
        assert f"cannot connect to ws://127.0.0.1:{port}/DN000" in panel.error.text()
        assert "last error: DN000" in panel.last_error.text()
        assert window.error_box is not None and "only 0 of 3" in window.error_box.text()

        # Stop ends a running fleet early, without an error
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()  # accepts TCP, never answers the handshake: chargers stay connecting
        try:
            panel.clear_error()
            panel.csms_url.setText(f"ws://127.0.0.1:{listener.getsockname()[1]}/")
            panel.duration.setValue(60.0)
            click(qtbot, panel.start_button)
            await until(lambda: panel.stop_button.isEnabled(), 3, "Stop")
            click(qtbot, panel.stop_button)
            await until(lambda: not panel.running, 10, "the fleet to stop")
            assert panel.state.text().startswith("stopped after")
            assert panel.error.isHidden()

            # closing the window stops a running fleet too
            click(qtbot, panel.start_button)
            await until(lambda: panel.stop_button.isEnabled(), 3, "Stop")
            await window.roles.shutdown()
            assert not panel.running and panel.state.text().startswith("stopped after")
        finally:
            listener.close()

    run(scenario(), 40)


def test_logged_charge_point_ids():
    assert charge_point_ids("CP", 10, 0) == ([], 0)
    assert charge_point_ids("CP", 10, 1) == (["CP0001", "CP0002", "CP0003"], 10)
    assert charge_point_ids("CP", 12_345, 12_345) == (["CP00001"], 1)


def test_connections_view_is_exact_when_hidden_and_throttled_when_shown(window, run):
    import asyncio
    import time as clock

    from ui.connections import REFRESH_MS
    from ui.session import Stations

    stations = Stations()
    view = window.connections

    def add(i: int) -> None:
        stations.opened({"id": i, "charge_point_id": f"CP{i}", "role": "csms",
                         "opened_at": clock.time()})

    async def scenario():
        add(1)
        view.refresh(stations)
        assert view.stations_model.rowCount() == 1  # hidden: at once
        window.tabs.setCurrentWidget(view)
        add(2)
        view.refresh(stations)
        assert view.stations_model.rowCount() == 2  # first refresh while shown: at once
        add(3)
        view.refresh(stations)
        assert view.stations_model.rowCount() == 2  # then at most every REFRESH_MS
        await until(lambda: view.stations_model.rowCount() == 3, 2 * REFRESH_MS / 1000,
                    "the throttled refresh")
        await asyncio.sleep(0)

    run(scenario(), 10)


def test_the_summary_says_when_queued_messages_were_dropped():
    from ui.fleet import summary_text
    summary = {"elapsed_s": 30.0, "connected": 2, "booted": 2, "in_transaction": 0,
               "sessions_completed": 4, "evs_left_full": 0, "offline_periods": 1,
               "refused_offline": 0, "queued": 5, "delivered": 3, "dropped": 2, "errors": 0,
               "frames": 100, "frames_per_s": 3.3, "latency_p50_ms": 1.0, "latency_p99_ms": 2.0,
               "missed_intervals": 0, "max_lateness_s": 0.0, "last_errors": []}
    text = summary_text(summary, 2)
    assert "5 message(s) queued, 3 delivered" in text and "2 refused by the CSMS and dropped" in text
    assert "dropped" not in summary_text({**summary, "dropped": 0}, 2)


def test_fleet_on_locust_worker_processes(qtbot, window, run, tmp_path):
    """Processes: 2 runs the fleet as `fleet --workers 2`: the figures follow its progress,
    the summary is the workers' added up, and each worker's capture is named in Messages."""
    async def scenario():
        csms = window.roles.csms
        csms.listen.setText("127.0.0.1:0")
        click(qtbot, csms.start_button)
        await until(lambda: csms.running, 10, "the fake CSMS")
        panel = window.roles.fleet
        panel.csms_url.setText(csms.url.text())
        panel.count.setValue(12)
        panel.version.setCurrentText("1.6")
        panel.ramp_up.setValue(1.0)
        panel.duration.setValue(5.0)
        panel.scenario.setCurrentText("charging")
        panel.meter_interval.setValue(1.0)
        panel.log_every.setValue(3)
        panel.processes.setValue(2)
        click(qtbot, panel.start_button)
        assert panel.running and not panel.processes.isEnabled()
        await until(lambda: figure(panel, "booted") == "12", 60, "12 booted on the workers")
        await until(lambda: panel.last_summary is not None, 60, "the workers' summary")
        assert not panel.running and panel.start_button.isEnabled()
        summary = panel.last_summary
        assert (summary["workers"], summary["booted"], summary["errors"]) == (2, 12, 0)
        assert "Locust workers 2" in panel.summary_view.toPlainText()
        assert "-w<k>.db" in window.messages.toPlainText()
        captures = sorted(window.writer.path.parent.glob("*-fleet-w*.db"))
        assert len(captures) == 2

    run(scenario(), 120)


def test_fake_csms_on_processes(qtbot, window, run):
    """Fake CSMS › Processes: 2 runs csms --workers 2: the panel shows the shared URL, a
    charger's session is answered, Stop ends the processes, each wrote its own capture."""
    from tests.roles_helpers import run_charger

    async def scenario():
        csms = window.roles.csms
        csms.listen.setText("127.0.0.1:0")
        csms.processes.setValue(2)
        click(qtbot, csms.start_button)
        await until(lambda: csms.url.text().startswith("ws://127.0.0.1:"), 30, "the URL")
        assert csms.running and "2 processes on" in csms.state.text()
        charger = await run_charger(csms.url.text() + "CP-P", "1.6", window.hub, meter_values=1)
        assert charger.transaction_id is None  # the session ran to its end
        click(qtbot, csms.stop_button)
        await until(lambda: not csms.running, 30, "the processes to stop")
        assert csms.state.text() == "stopped" and csms.error.isHidden()
        captures = sorted(window.writer.path.parent.glob("*-csms-w*.db"))
        assert len(captures) == 2
        from inspector.store import Capture
        seen = []
        for path in captures:
            capture = Capture(path)
            seen += [c["charge_point_id"] for c in capture.connections()]
            capture.close()
        assert seen == ["CP-P"]

    run(scenario(), 90)
