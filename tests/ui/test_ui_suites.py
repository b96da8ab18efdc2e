"""The Suites tab driven through its widgets: conformance runs on 127.0.0.1, reports, prompts.

Fast cases only (GetConfiguration / ChangeConfiguration exchanges, one prompt-first case),
small step timeouts; every wait is bounded.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QFileDialog

import ui.suites
from inspector.conformance import Verdict
from ui.suite_widgets import CASE_ROLE
from ui.suites import VERDICT_COLOURS, PromptDialog, SuitesTab, parse_params

from ui_helpers import until

FAST_CASES = [("1.6", "TC_019_CS"), ("1.6", "TC_021_CS"), ("1.6", "TC_040_1_CS")]


def click(qtbot, widget) -> None:
    assert widget.isEnabled(), f"{widget.objectName() or widget.text()} is disabled"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def check(tab: SuitesTab, keys) -> None:
    for key in keys:
        tab.catalog.find(*key).setCheckState(0, Qt.CheckState.Checked)


async def finished(tab: SuitesTab, timeout: float = 15) -> None:
    await until(lambda: not tab.running, timeout, "the conformance run to finish")


def verdict_colour(item) -> str:
    return item.background(1).color().name()


def start_staying_charger(qtbot, charger, charge_point: str) -> None:
    """The app's own fake charger as a 1.6 SUT that boots and stays connected."""
    charger.charge_point.setText(charge_point)
    charger.version.setCurrentText("1.6")
    charger.meter_values.setValue(0)
    charger.stay.setChecked(True)
    click(qtbot, charger.start_button)


def visible_prompts() -> list:
    return [w for w in QApplication.topLevelWidgets()
            if isinstance(w, PromptDialog) and w.isVisible()]


def file_dialog() -> QFileDialog:
    dialogs = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, QFileDialog) and w.isVisible()]
    assert len(dialogs) == 1, dialogs
    return dialogs[0]


def test_auto_run_shows_live_verdicts_counters_frames_and_writes_reports(
        qtbot, window, run, tmp_path, monkeypatch):
    tab = window.suites
    window.suites.reveal()
    assert window.main_tabs.currentWidget() is tab  # full height, beside the frame log
    check(tab, FAST_CASES)
    tab.auto.setChecked(True)
    tab.step_timeout.setValue(3)
    tab.listen.setText("127.0.0.1:0")
    seen = []
    tab.run_finished.connect(seen.append)

    async def scenario():
        await until(lambda: "3 case(s) checked" in tab.selection.text(), 2, "the selection summary")
        assert tab.sut_pages.currentIndex() == 0  # charger SUT: the listen page
        assert not tab.save_junit_button.isEnabled()  # nothing to report yet
        click(qtbot, tab.run_button)
        assert tab.running and tab.stop_button.isEnabled() and not tab.run_button.isEnabled()
        await finished(tab)

    run(scenario())
    assert seen and seen[0] is tab.result and tab.result.passed
    assert tab.results.verdict_texts() == {"TC_019_CS": "PASS", "TC_021_CS": "PASS",
                                           "TC_040_1_CS": "PASS"}
    for case_id, item in tab.results.items.items():
        assert verdict_colour(item) == QColor(VERDICT_COLOURS[Verdict.PASS]).name()
        assert item.childCount() >= 2  # precondition + steps
        for i in range(item.childCount()):
            assert item.child(i).text(1) == "PASS", (case_id, item.child(i).text(0))
    step = tab.results.items["TC_021_CS"].child(1)
    assert "ChangeConfiguration" in step.text(0)
    tab.results.setCurrentItem(step)  # the details pane: reason and the frames the step used
    details = tab.description.toPlainText()
    assert "TC_021_CS · step 1" in details and "engine → charger (used)" in details
    assert '"ChangeConfiguration"' in details and '"Accepted"' in details
    tab.results.setCurrentItem(tab.results.items["TC_021_CS"])
    assert "every step passed" in tab.description.toPlainText()
    assert [b.text() for b in tab.badges.values()] == ["3 passed", "0 failed", "0 inconclusive",
                                                        "0 not applicable", "0 error"]
    assert tab.progress.value() == 3 and tab.progress.text() == "3 of 3 case(s)"
    assert tab.status.text().startswith("PASSED: 3 passed")
    assert tab.url.text() == ""  # port 0: the listener (and its URL) lived for the run only
    assert tab.run_button.isEnabled() and not tab.stop_button.isEnabled()
    assert not tab.error.isVisible()

    # a step's frame is one click from the frame log: its link selects it there
    tab.results.setCurrentItem(step)
    assert "show in the log" in tab.description.toPlainText()
    used = next(f for f in step.data(0, CASE_ROLE).frames if f.used)
    run(until(lambda: not window._pending, 3, "the log"))
    tab.description.anchorClicked.emit(QUrl(f"frame:{used.seq}"))
    assert window.main_tabs.currentWidget() is window.splitter
    selected = window.log.selected_store_row()
    assert window.live.store.seq(selected) == used.seq
    assert window.detail.store_row == selected

    # the run's frames went through the window's hub: frame log and capture
    run(until(lambda: not window._pending and window.live.store.count > 0, 3, "the log"))
    store = window.live.store
    actions = {store.row(i).action for i in range(store.count)}
    assert {"GetConfiguration", "ChangeConfiguration"} <= actions
    assert "suite" in set(store.connection_roles.values())
    assert window.writer is not None  # the capture was opened for the run

    # reports: through the buttons' file dialogs, then parsed
    junit = tmp_path / "run.xml"
    click(qtbot, tab.save_junit_button)
    dialog = file_dialog()
    dialog.selectFile(str(junit))
    dialog.accept()
    root = ET.parse(junit).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "0"
    names = [case.get("name") for case in root.iter("testcase")]
    assert names[0] == "TC_019_CS Retrieve configuration" and len(names) == 3
    assert not list(root.iter("failure")) and not list(root.iter("error"))

    report = tmp_path / "run.html"
    click(qtbot, tab.save_html_button)
    dialog = file_dialog()
    dialog.selectFile(str(report))
    dialog.accept()
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "PASSED" in text and "TC_040_1_CS" in text

    opened = []
    monkeypatch.setattr(ui.suites, "open_url", lambda url: opened.append(url) or True)
    click(qtbot, tab.open_html_button)
    assert Path(opened[0].toLocalFile()) == report  # the saved report
    tab.html_path = None
    click(qtbot, tab.open_html_button)
    temporary = Path(opened[1].toLocalFile())
    assert temporary != report and temporary.read_text(encoding="utf-8").startswith("<!DOCTYPE")


def test_operator_prompt_skip_makes_the_case_inconclusive(qtbot, window, run):
    tab = window.suites
    check(tab, [("1.6", "TC_001_CS")])
    tab.auto.setChecked(False)
    tab.listen.setText("127.0.0.1:0")
    tab.step_timeout.setValue(2)

    async def scenario():
        click(qtbot, tab.run_button)
        await until(lambda: tab.prompt_dialog is not None and tab.prompt_dialog.isVisible(), 5,
                    "the operator prompt")
        dialog = tab.prompt_dialog
        assert not dialog.isModal()  # the loop and the Stop button keep working
        url = tab.url.text()
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/")
        assert "Power-cycle" in dialog.text.text() and url in dialog.text.text()
        assert tab.results.step("TC_001_CS", 1).text(1) == "operator…"
        assert tab.use_for_charger.isEnabled()
        dialog.note.setText("no charger on the bench")
        click(qtbot, dialog.skip_button)
        await finished(tab)
        assert tab.prompt_dialog is None and not visible_prompts()

    run(scenario())
    assert tab.results.verdict_texts() == {"TC_001_CS": "INCONCLUSIVE"}
    case = tab.results.items["TC_001_CS"]
    assert verdict_colour(case) == QColor(VERDICT_COLOURS[Verdict.INCONCLUSIVE]).name()
    assert case.isExpanded()  # not passed: the steps stay open
    assert case.child(1).text(3) == "operator skipped: no charger on the bench"
    assert case.child(2).text(1) == "INCONCLUSIVE" and case.child(2).text(3).startswith("not run")
    assert tab.counts[Verdict.INCONCLUSIVE] == 1 and tab.badges[Verdict.INCONCLUSIVE].text() == \
        "1 inconclusive"
    assert tab.status.text().startswith("FAILED: 0 passed")


def test_operator_done_with_the_fake_charger_as_the_sut(qtbot, window, run):
    """A real (non-simulated) SUT: the app's own fake charger connects to the suite's URL."""
    tab = window.suites
    check(tab, [("1.6", "TC_001_CS")])
    tab.auto.setChecked(False)
    tab.listen.setText("127.0.0.1:0")
    tab.step_timeout.setValue(3)
    tab.params.setText("heartbeat_interval=1")
    charger = window.roles.charger

    async def scenario():
        click(qtbot, tab.run_button)
        await until(lambda: tab.prompt_dialog is not None, 5, "the operator prompt")
        click(qtbot, tab.use_for_charger)
        assert charger.csms_url.text() == tab.url.text()
        click(qtbot, tab.prompt_dialog.done_button)  # "I rebooted it": now the charger comes
        case = tab.results.items["TC_001_CS"]
        # the runner is on the roles' thread: let the answer reach it before the charger
        # connects, or the engine may see the connection first and end the prompt itself
        await until(lambda: case.child(1).text(3) == "operator confirmed", 10, "the answer")
        start_staying_charger(qtbot, charger, "CP-SUITE")
        await finished(tab)

    run(scenario())
    case = tab.results.items["TC_001_CS"]
    assert tab.result.passed, tab.result.cases[0].log(frames=False)
    assert case.child(1).text(3) == "operator confirmed"
    assert "CP-SUITE" in case.child(2).text(3)  # charger CP-SUITE connected with ocpp1.6


def test_a_prompt_closes_by_itself_when_the_charger_is_seen(qtbot, window, run):
    """Nobody presses Done: the app's fake charger connects and boots, the engine sees it,
    the dialog goes and the step passes as observed."""
    tab = window.suites
    check(tab, [("1.6", "TC_001_CS")])
    tab.auto.setChecked(False)
    tab.listen.setText("127.0.0.1:0")
    tab.step_timeout.setValue(3)
    tab.params.setText("heartbeat_interval=1")
    charger = window.roles.charger

    async def scenario():
        click(qtbot, tab.run_button)
        await until(lambda: tab.prompt_dialog is not None, 5, "the operator prompt")
        watch = tab.prompt_dialog.watch.text()
        assert watch.startswith(f"Watching for the charger connecting to {tab.url.text()}")
        assert "s left" in watch
        click(qtbot, tab.use_for_charger)
        start_staying_charger(qtbot, charger, "CP-SEEN")
        await until(lambda: tab.prompt_dialog is None and not visible_prompts(), 10,
                    "the prompt to close by itself")
        await finished(tab)

    run(scenario())
    case = tab.results.items["TC_001_CS"]
    assert tab.result.passed, tab.result.cases[0].log(frames=False)
    assert case.child(1).text(3).startswith("observed: the charger connecting to ws://127.0.0.1:")


def test_a_charger_security_profile_from_the_tab(qtbot, window, run):
    tab = window.suites
    check(tab, [("1.6", "TC_085_CS")])
    tab.auto.setChecked(True)
    tab.listen.setText("127.0.0.1:0")
    tab.step_timeout.setValue(3)
    tab.charger_security.setChecked(True)
    tab.charger_security.password_edit.setText("lab-password-0123456789")

    async def scenario():
        click(qtbot, tab.run_button)
        await finished(tab)

    run(scenario())
    assert tab.result.passed, tab.result.cases[0].log(frames=False)
    assert tab.results.verdict_texts() == {"TC_085_CS": "PASS"}


def test_stop_during_a_prompt_ends_the_run_with_an_error(qtbot, window, run):
    tab = window.suites
    check(tab, [("1.6", "TC_001_CS"), ("1.6", "TC_019_CS")])
    tab.auto.setChecked(False)
    tab.listen.setText("127.0.0.1:0")

    async def scenario():
        click(qtbot, tab.run_button)
        await until(lambda: tab.prompt_dialog is not None, 5, "the operator prompt")
        assert visible_prompts() == [tab.prompt_dialog]
        click(qtbot, tab.stop_button)
        await finished(tab, 10)
        assert tab.prompt_dialog is None and not visible_prompts()

    run(scenario())
    assert tab.results.verdict_texts() == {"TC_001_CS": "ERROR"}  # TC_019_CS never started
    assert tab.results.items["TC_001_CS"].child(1).text(3) == "the run was cancelled"
    assert tab.status.text().startswith("FAILED (stopped)")
    assert tab.save_html_button.isEnabled()  # what ran can still be reported


def test_closing_the_window_during_a_prompt_stops_the_run(qtbot, window, run):
    tab = window.suites
    check(tab, [("1.6", "TC_001_CS")])
    tab.auto.setChecked(False)
    tab.listen.setText("127.0.0.1:0")

    async def scenario():
        click(qtbot, tab.run_button)
        await until(lambda: tab.prompt_dialog is not None, 5, "the operator prompt")
        task = tab.task
        await window.shutdown()
        assert task.done() and not tab.running
        assert tab.prompt_dialog is None and not visible_prompts()

    run(scenario())
    assert tab.results.verdict_texts() == {"TC_001_CS": "ERROR"}


def test_errors_are_one_readable_line(qtbot, window, run, tmp_path):
    tab = window.suites

    def attempt() -> str:
        tab.clear_error()
        task = tab.run_selected()
        if task is not None:
            run(finished(tab))
        return tab.error.text()

    assert attempt() == "Check one or more cases in the catalog first."
    check(tab, [("1.6", "TC_019_CS"), ("2.0.1", "TC_B_01_CS")])
    assert "mix OCPP 1.6 charging station and OCPP 2.0.1 charging station" in attempt()
    tab.catalog.clear_checks()

    # port in use
    check(tab, [("1.6", "TC_019_CS")])
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    busy_port = busy.getsockname()[1]
    try:
        tab.listen.setText(f"127.0.0.1:{busy_port}")
        text = attempt()
    finally:
        busy.close()
    assert text.startswith(f"Cannot start the run: cannot listen on 127.0.0.1:{busy_port}")
    assert "Traceback" not in text and "\n" not in text
    tab.listen.setText("not a port")
    assert attempt().startswith("bad listen address 'not a port'")
    tab.listen.setText("127.0.0.1:0")
    tab.params.setText("novalue")
    assert attempt().startswith("bad parameter 'novalue'")
    tab.params.clear()
    tab.catalog.clear_checks()

    # CSMS SUT: bad URL, no charge point id, unreachable
    check(tab, [("1.6", "TC_001_CSMS")])
    assert tab.sut_pages.currentIndex() == 1
    tab.auto.setChecked(False)
    tab.target.setText("")
    assert attempt().startswith("enter the CSMS URL")
    tab.target.setText("http://csms.example.com/CP1")
    assert attempt().startswith("bad URL 'http://csms.example.com/CP1'")
    tab.target.setText("ws://127.0.0.1:9")
    assert "must end in the charge point id" in attempt()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    tab.target.setText(f"ws://127.0.0.1:{port}/ocpp/CP1")
    tab.step_timeout.setValue(1)
    assert attempt() == ""  # the run starts; the case reports the unreachable CSMS
    assert tab.results.verdict_texts() == {"TC_001_CSMS": "ERROR"}
    reason = tab.results.items["TC_001_CSMS"].text(3)
    assert f"cannot connect to ws://127.0.0.1:{port}/ocpp/CP1" in reason, reason
    assert verdict_colour(tab.results.items["TC_001_CSMS"]) == QColor(
        VERDICT_COLOURS[Verdict.ERROR]).name()


def test_catalog_tree_descriptions_folders_filter_and_remembered_fields(qtbot, window, run,
                                                                        tmp_path):
    tab = window.suites
    catalog = tab.catalog
    assert [catalog.topLevelItem(i).text(0) for i in range(catalog.topLevelItemCount())] == \
        ["OCPP 1.6", "OCPP 2.0.1"]
    item = catalog.find("1.6", "TC_001_CS")
    group = item.parent()
    kind = group.parent()
    assert group.text(0) == "Core/Provisioning" and kind.text(0) == "SUT: Charging station"
    assert kind.parent().text(0) == "OCPP 1.6"

    # a case's description and steps when selected
    catalog.setCurrentItem(item)
    text = tab.description.toPlainText()
    assert "TC_001_CS — Cold Boot Charge Point" in text
    assert "configured with the test system's URL" in text and "BootNotification" in text

    # a folder checks every case under it
    group.setCheckState(0, Qt.CheckState.Checked)
    ids = [c.id for c in catalog.checked_cases()]
    assert len(ids) == group.childCount() and "TC_019_CS" in ids
    assert kind.checkState(0) == Qt.CheckState.PartiallyChecked
    catalog.setCurrentItem(group)
    assert f"{group.childCount()} case(s), {group.childCount()} checked" in \
        tab.description.toPlainText()
    group.setCheckState(0, Qt.CheckState.Unchecked)
    assert catalog.checked_cases() == []

    tab.filter.setText("unlock")
    shown = [key for key, it in catalog.cases.items() if not it.isHidden()]
    assert shown and all("unlock" in catalog.case_of(catalog.cases[k]).title.lower() for k in shown)
    tab.filter.clear()
    assert not any(it.isHidden() for it in catalog.cases.values())

    # fields are remembered, the password never
    check(tab, [("2.0.1", "TC_B_01_CSMS")])
    tab.target.setText("ws://csms.test:9000/ocpp/CP7")
    tab.password.setText("s3cret-password")
    tab.step_timeout.setValue(7)
    tab.case_timeout.setValue(70)
    tab.auto.setChecked(True)
    tab.params.setText("valid_tag=AB12")
    tab.listen.setText("0.0.0.0:9100")
    window.save_settings()
    settings: QSettings = window.settings
    assert "s3cret-password" not in " ".join(str(settings.value(k)) for k in settings.allKeys())
    other = SuitesTab(window)
    try:
        assert other.target.text() == "ws://csms.test:9000/ocpp/CP7"
        assert other.password.text() == ""
        assert other.step_timeout.value() == 7 and other.case_timeout.value() == 70
        assert other.auto.isChecked() and other.params.text() == "valid_tag=AB12"
        assert other.listen.text() == "0.0.0.0:9100"
        assert [c.id for c in other.catalog.checked_cases()] == ["TC_B_01_CSMS"]
        assert other.sut_pages.currentIndex() == 1
    finally:
        other.deleteLater()
    # a fixed port predicts the URL before the run
    assert tab.url.text() == "ws://127.0.0.1:9100/"


def test_parse_params():
    assert parse_params("id_tag=04A2 connector=2, hold=0.5;x=") == {
        "id_tag": "04A2", "connector": 2, "hold": 0.5, "x": ""}
    assert parse_params("  ") == {}


def test_a_folder_description_follows_the_ticks(window):
    tab = window.suites
    tab.catalog.clear_checks()
    folder = tab.catalog.find("1.6", "TC_019_CS").parent()
    tab.catalog.setCurrentItem(folder)
    total = tab.description.toPlainText().split(" case(s)")[0].split()[-1]
    assert f"{total} case(s), 0 checked" in tab.description.toPlainText()
    tab.catalog.set_checked([("1.6", "TC_019_CS"), ("1.6", "TC_021_CS")])
    assert f"{total} case(s), 2 checked" in tab.description.toPlainText()
    tab.catalog.clear_checks()
    assert f"{total} case(s), 0 checked" in tab.description.toPlainText()


def test_your_own_cases_load_beside_the_catalogue_and_run(qtbot, window, run, tmp_path):
    """Load cases…: the file's cases join the tree (checked), run with live verdicts; a file
    that cannot work says why in the status line."""
    from inspector.conformance import catalog
    tab = window.suites
    broken = tmp_path / "broken.py"
    broken.write_text("CASES = 3\n")
    assert tab.load_cases(str(broken)) == []
    assert "must define CASES" in tab.status.text()
    example = Path(__file__).parents[2] / "examples" / "cases" / "my_cases.py"
    try:
        cases = tab.load_cases(str(example))
        assert [c.id for c in cases] == ["MY_CS_001", "MY_CS_002"]
        assert [c.id for c in tab.catalog.checked_cases()] == ["MY_CS_001", "MY_CS_002"]
        assert tab.catalog.find("1.6", "TC_001_CS") is not None  # the catalogue is still there
        tab.auto.setChecked(True)
        tab.step_timeout.setValue(5)
        tab.listen.setText("127.0.0.1:0")

        async def scenario():
            click(qtbot, tab.run_button)
            await finished(tab, 30)

        run(scenario(), 60)
        assert tab.results.verdict_texts() == {"MY_CS_001": "PASS", "MY_CS_002": "PASS"}
    finally:
        catalog._user_files.clear()
