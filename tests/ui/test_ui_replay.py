"""File › Replay capture…: a recorded session replayed against the window's fake CSMS, with
and without an override; the differences are listed and the replay's frames are logged."""

from __future__ import annotations

from inspector.events import Hub
from inspector.store import CaptureWriter
from tests.roles_helpers import csms, run_charger, running
from test_ui_window import click, start_csms
from ui_helpers import until


def test_replay_from_the_file_menu(window, qtbot, run, tmp_path):
    recording = tmp_path / "rec.db"

    async def record():
        hub = Hub()
        writer = CaptureWriter(recording)
        writer.attach(hub)
        async with running(csms()) as server:
            await run_charger(server.url + "CP-REC", "1.6", hub, meter_values=1)
        writer.close()

    async def scenario():
        await record()
        url = await start_csms(qtbot, window)
        dialog = window.open_replay_dialog()
        # nothing to replay against: said inline, nothing runs
        dialog.capture.setText(str(recording))
        dialog.target.setText("")
        click(qtbot, dialog.run_button)
        assert "enter the CSMS URL" in dialog.error.text()
        dialog.target.setText(url)
        dialog.speed.setCurrentIndex(2)  # back to back
        click(qtbot, dialog.run_button)
        await until(lambda: dialog.result is not None, 30, "the replay")
        assert dialog.result.passed and dialog.status.text().startswith("SAME")
        store = window.live.store
        await until(lambda: any(store.row(i).role == "replay" for i in range(store.count)), 10,
                    "the replay's frames in the log")
        # the same recording against a CSMS that refuses cards: exactly that field
        await window.roles.csms.shutdown()
        window.roles.csms.overrides.setText("")
        async with running(csms(overrides={"Authorize": {"idTagInfo": {"status": "Blocked"}}})) \
                as refusing:
            dialog.target.setText(refusing.url)
            click(qtbot, dialog.run_button)
            assert dialog.result is None  # a new run forgets the last result
            await until(lambda: dialog.result is not None, 30, "the second replay")
        assert dialog.status.text().startswith("DIFFERS")
        item = dialog.results.topLevelItem(0)
        assert item.text(1) == "differs" and item.childCount() == 1
        assert '$.idTagInfo.status: recorded "Accepted", now "Blocked"' in item.child(0).text(0)
        assert dialog.junit_button.isEnabled()
        report = tmp_path / "replay.html"
        from inspector.replay_report import write_html
        write_html(dialog.result, report)
        assert "Blocked" in report.read_text()

    run(scenario(), 90)


def test_import_pcap_from_the_file_menu(window, run, tmp_path):
    """File › Import pcap…: the pcap becomes a capture next to it and is opened in the window,
    showing the session's frames; a file that is not a pcap is one message."""
    from tests.test_pcap_import import recorded_session, write

    async def scenario():
        chunks = await recorded_session(tmp_path)
        write(tmp_path / "field.pcapng", chunks, ng=True)
        summary = await window.import_pcap(tmp_path / "field.pcapng")
        assert summary.websockets == 1
        await until(lambda: window.shown is not window.live and window.shown.store.count
                    == summary.frames, 20, "the imported capture to open")
        assert (tmp_path / "field.db").exists()
        rows = [window.shown.store.row(i) for i in range(window.shown.store.count)]
        assert rows[0].action == "BootNotification" and rows[0].role == "pcap"
        (tmp_path / "not.pcap").write_text("hello")
        assert await window.import_pcap(tmp_path / "not.pcap") is None
        assert any("Cannot import not.pcap" in e for e in window.errors)
        assert not (tmp_path / "not.db").exists()

    run(scenario(), 60)


def test_several_captures_open_as_one(window, run, tmp_path):
    """File › Open capture… with two files (two workers' captures): one log in time order."""
    async def record(name, charge_point):
        hub = Hub()
        writer = CaptureWriter(tmp_path / name)
        writer.attach(hub)
        async with running(csms()) as server:
            await run_charger(server.url + charge_point, "1.6", hub, meter_values=1)
        writer.close()

    async def scenario():
        await record("w1.db", "CP-A")
        await record("w2.db", "CP-B")
        await window.open_captures([tmp_path / "w1.db", tmp_path / "w2.db"])
        store = window.shown.store
        rows = [store.row(i) for i in range(store.count)]
        assert {r.charge_point_id for r in rows} == {"CP-A", "CP-B"}
        assert [r.time for r in rows] == sorted(r.time for r in rows)
        answers = [r for r in rows if r.type == "CALLRESULT"]
        assert answers and all(store.paired_row(store.row_of_seq(r.seq)) is not None
                               for r in answers)

    run(scenario(), 60)
