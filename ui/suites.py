"""The Suites tab: pick conformance cases, point them at a SUT, run, watch, save reports.

A front-end of `inspector.conformance` (no test logic here). Left: the catalog as a tree
(version › SUT kind › functional block › case) with checkboxes, and a details pane (the
selected case's description and steps, or the selected result's reason and frames).
Right: the SUT (a charger connects to our listener, or we connect to a CSMS), --auto,
timeouts and parameters, Run / Stop; below, the live run (cases › steps with coloured
verdicts and reasons), counters, and the JUnit / HTML report buttons.

The run uses the window's hub, so its frames land in the frame log and the capture like
every role's (connection role "suite"). The tab is assembled from three mixins: the SUT
and options form (suite_form.py), the run controller (suite_run.py) and the report
actions (suite_reports.py); this module lays them out and handles the catalog.
"""

from __future__ import annotations

import asyncio
import html
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton,
                               QSplitter, QTextBrowser, QTreeWidgetItem, QVBoxLayout, QWidget)

from inspector.conformance import RunOptions, SuiteError, SuiteRunner, Verdict, catalog

from .suite_form import SuiteOptionsForm, parse_params
from .suite_reports import SuiteReports
from .suite_run import SuiteRunControl
from .widgets import ask_path
from .suite_widgets import (CASE_ROLE, CHECKED, SUT_NAMES, VERDICT_COLOURS, CatalogTree,
                            PromptDialog, ResultsTree, badge_style, describe_case,
                            describe_case_result, describe_step)

__all__ = ["SuitesTab", "CatalogTree", "ResultsTree", "PromptDialog", "VERDICT_COLOURS",
           "parse_params", "open_url", "screenshot"]


def open_url(url: QUrl) -> bool:
    """Open a URL with the desktop (a module function so tests can replace it)."""
    return QDesktopServices.openUrl(url)


# ---- the tab --------------------------------------------------------------------------------------

class SuitesTab(SuiteOptionsForm, SuiteRunControl, SuiteReports, QWidget):
    """The Suites tab. `host` is the main window (hub, settings, spawn, report_error, ...)."""

    run_finished = Signal(object)  # RunResult, or None when the run could not start

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host = host
        self.setObjectName("suitesTab")
        self.settings: QSettings = host.settings
        self.runner: SuiteRunner | None = None
        self.task: asyncio.Task | None = None
        self.result = None  # the last RunResult
        self.html_path: Path | None = None  # where the last result's HTML report was saved
        self.prompt_dialog: PromptDialog | None = None
        self.charger_factory = None  # FakeCharger subclass factory for --auto (tests, screenshots)
        self.counts = {v: 0 for v in Verdict}
        self._total = 0
        self._started_at = 0.0
        self._temp_dir: tempfile.TemporaryDirectory | None = None
        self._sut = "charger"
        self._version = "1.6"
        self._build()
        self._restore()
        self._selection_changed()

    # ---- layout ------------------------------------------------------------------------------

    def _build(self) -> None:
        # left: the catalog, and below it the details of what is selected (case or result)
        self.filter = QLineEdit()
        self.filter.setObjectName("suitesFilter")
        self.filter.setPlaceholderText("filter: id, title or functional block")
        self.filter.setClearButtonEnabled(True)
        self.clear_button = QPushButton("Uncheck all")
        self.clear_button.setObjectName("suitesUncheck")
        self.load_cases_button = QPushButton("Load cases…")
        self.load_cases_button.setObjectName("suitesLoadCases")
        self.load_cases_button.setToolTip("add your own cases from a Python file (its CASES "
                                          "list; README, Your own cases) beside the catalogue")
        self.catalog = CatalogTree()
        self.description = QTextBrowser()
        self.description.setObjectName("suitesDescription")
        self.description.setOpenLinks(False)
        self.description.setPlaceholderText("Select a case for its description and steps, or a "
                                            "result for its reason and frames. Check cases (or "
                                            "a whole folder) to run them.")
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.filter, 1)
        top.addWidget(self.clear_button)
        top.addWidget(self.load_cases_button)
        catalog_box = QWidget()
        box = QVBoxLayout(catalog_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addLayout(top)
        box.addWidget(self.catalog, 1)
        left = QSplitter(Qt.Orientation.Vertical)
        left.setObjectName("suitesLeft")
        left.setChildrenCollapsible(False)
        left.addWidget(catalog_box)
        left.addWidget(self.description)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)

        self._build_options()

        # right, below: the live run and the reports
        self.badges: dict[Verdict, QLabel] = {}
        counters = QHBoxLayout()
        counters.setContentsMargins(0, 0, 0, 0)
        for verdict in Verdict:
            badge = QLabel()
            badge.setObjectName(f"suitesCount_{verdict.value}")
            badge.setStyleSheet(badge_style(verdict))
            badge.setToolTip(f"cases with verdict {verdict.value}")
            self.badges[verdict] = badge
            counters.addWidget(badge)
        self.progress = QProgressBar()
        self.progress.setObjectName("suitesProgress")
        self.progress.setTextVisible(True)
        self.progress.setMaximumHeight(20)
        counters.addWidget(self.progress, 1)
        self.status = QLabel("No run yet.")
        self.status.setObjectName("suitesStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setStyleSheet("color: #444;")
        self.results = ResultsTree()
        reports = self._build_reports()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.sut_box)
        right_layout.addLayout(counters)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.results, 1)
        right_layout.addLayout(reports)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("suitesSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([340, 680])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.splitter)

        self.filter.textChanged.connect(self.catalog.apply_filter)
        self.clear_button.clicked.connect(self.catalog.clear_checks)
        self.load_cases_button.clicked.connect(self._ask_load_cases)
        self.catalog.currentItemChanged.connect(lambda item, _old: self._show_description(item))
        self.catalog.itemChanged.connect(lambda _item, column: column == 0
                                         and self._selection_changed())
        self.description.anchorClicked.connect(self._link)
        self.results.currentItemChanged.connect(lambda item, _old: self._show_result(item))
        self.listen.textChanged.connect(lambda _text: self._show_url())
        self.auto.toggled.connect(lambda _on: (self._show_url(), self._show_simulated()))
        self.run_button.clicked.connect(lambda: self.run_selected())
        self.stop_button.clicked.connect(self.stop)
        self.use_for_charger.clicked.connect(lambda: self.host.use_charger_url(self.url.text()))
        self.save_junit_button.clicked.connect(self._ask_save_junit)
        self.save_html_button.clicked.connect(self._ask_save_html)
        self.open_html_button.clicked.connect(lambda: self.open_html())
        self._show_counts()
        self._update_buttons()

    def reveal(self) -> None:
        """View › Conformance suites: bring its full-height tab forward."""
        tabs = getattr(self.host, "main_tabs", None)
        if tabs is not None:
            tabs.setCurrentWidget(self)

    def _link(self, url: QUrl) -> None:
        """A step's "show in the log" link: the frame, selected in the frame log."""
        if url.scheme() == "frame" and url.path().isdigit():
            self.host.show_frame_seq(int(url.path()))

    def _open_url(self, url: QUrl) -> bool:
        # looked up here at call time, so a test replacing ui.suites.open_url takes effect
        return open_url(url)

    # ---- catalog -------------------------------------------------------------------------------

    def load_cases(self, path: str) -> list:
        """Your cases from a file, beside the catalogue, checked and shown; [] (and the
        reason in the status line) when the file cannot work."""
        try:
            cases = catalog.load_user_cases(path)
        except SuiteError as exc:
            self.status.setText(f"⚠ {exc}")
            self.host.report_error(str(exc), "suites")
            return []
        self.catalog.reload()
        self.catalog.set_checked(case.key for case in cases)
        first = self.catalog.find(cases[0].version, cases[0].id)
        if first is not None:
            self.catalog.setCurrentItem(first)
        self.status.setText(f"{len(cases)} case(s) loaded from {Path(path).name}")
        return cases

    def _ask_load_cases(self) -> None:
        settings = self.host.settings
        self._cases_dialog = ask_path(self, settings, "folders/cases", "Load your cases",
                                      settings.value("folders/cases", ""),
                                      "Python (*.py);;All files (*)", self.load_cases, save=False)

    def _show_description(self, item: QTreeWidgetItem | None) -> None:
        if item is None:
            self.description.clear()
            return
        case = self.catalog.case_of(item)
        if case is not None:
            self.description.setHtml(describe_case(case))
            if not self.catalog.checked_cases():
                self._set_sut(case.version, case.sut)
            return
        key = item.data(0, CASE_ROLE)
        leaves = self._leaves(item)
        checked = sum(leaf.checkState(0) == CHECKED for leaf in leaves)
        title = " › ".join([f"OCPP {key[0]}"] + ([f"SUT {SUT_NAMES[key[1]]}"] if len(key) > 1 else [])
                           + list(key[2:]))
        self.description.setHtml(f"<h3 style='margin:0'>{html.escape(title)}</h3>"
                                 f"<p>{len(leaves)} case(s), {checked} checked. Tick the box to "
                                 "check them all.</p>")
        if len(key) > 1 and not self.catalog.checked_cases():
            self._set_sut(key[0], key[1])

    def _show_result(self, item: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        data = item.data(0, CASE_ROLE)
        sut = self.runner.sut if self.runner is not None else (
            self.result.sut if self.result is not None else self._sut)
        if data is None:
            self.description.setHtml(f"<p>{html.escape(item.text(0).strip())}: "
                                     f"{html.escape(item.text(1) or 'waiting')}</p>")
        elif item.parent() is None:
            self.description.setHtml(describe_case_result(data))
        else:
            case_id = item.parent().text(0).split()[0]
            self.description.setHtml(describe_step(case_id, data, sut))

    def _leaves(self, item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
        if self.catalog.case_of(item) is not None:
            return [item]
        return [leaf for i in range(item.childCount()) for leaf in self._leaves(item.child(i))]

    def _selection_changed(self) -> None:
        current = self.catalog.currentItem()
        if current is not None and self.catalog.case_of(current) is None and \
                self.results.currentItem() is None:
            self._show_description(current)  # "N case(s), M checked" stays true
        cases = self.catalog.checked_cases()
        kinds = sorted({(c.version, c.sut) for c in cases})
        if len(kinds) == 1:
            self._set_sut(*kinds[0])
        if not cases:
            text = f"OCPP {self._version}: check the cases to run in the catalog"
        elif len(kinds) > 1:
            text = ("<span style='color:#b00020'>The checked cases are for "
                    + ", ".join(f"OCPP {v} {SUT_NAMES[k].lower()}" for v, k in kinds)
                    + ": a run is for one version and SUT kind.</span>")
        else:
            text = f"OCPP {self._version}: <b>{len(cases)} case(s) checked</b>"
        self.selection.setText(text)
        self._update_buttons()


# ---- documentation screenshot (called from ui/screenshots.py) -----------------------------------

SCREENSHOT_CASES = ["TC_019_CS", "TC_021_CS", "TC_040_1_CS", "TC_040_2_CS", "TC_017_1_CS",
                    "TC_031_CS", "TC_062_CS", "TC_003_CS", "TC_054_CS"]


def _stuck_lock_charger():
    """A simulated charger whose connector lock is stuck: UnlockConnector -> UnlockFailed."""
    from inspector.roles.charger import FakeCharger

    class StuckLockCharger(FakeCharger):
        async def _handle_UnlockConnector(self, payload) -> dict:
            if payload.get("connectorId") == self.options.connector:
                return {"status": "UnlockFailed"}
            return await super()._handle_UnlockConnector(payload)
    return lambda hub, options: StuckLockCharger(hub, options)


async def screenshot(window, out: Path) -> Path:
    """An --auto run of some 1.6 charger cases, one failing (a stuck connector lock), grabbed."""
    from .framestore import FrameFilter

    tab: SuitesTab = window.suites
    tab.catalog.clear_checks()
    tab.catalog.set_checked(("1.6", case_id) for case_id in SCREENSHOT_CASES)
    tab.catalog.setCurrentItem(tab.catalog.find("1.6", "TC_017_1_CS"))
    tab.auto.setChecked(True)
    tab.listen.setText("127.0.0.1:0")
    tab.step_timeout.setValue(5)
    tab.case_timeout.setValue(60)
    tab.params.setText("heartbeat_interval=1 meter_interval=1 quiet_period=0.4 hold=0.4")
    tab.charger_factory = _stuck_lock_charger()
    try:
        task = tab.run_selected()
        if task is None:
            raise RuntimeError(f"the suite run did not start: {tab.error.text()}")
        await asyncio.wait_for(asyncio.shield(task), 60)
    finally:
        tab.charger_factory = None
    tab.reveal()
    simulated = RunOptions(version="1.6", sut="charger").charge_point_id
    window.log.bar.set_filter(FrameFilter(charge_point=simulated))
    window.drain()
    failed = tab.results.items.get("TC_017_1_CS")
    if failed is not None and failed.childCount() > 1:
        tab.results.setCurrentItem(failed.child(1))  # the failing step: reason and frames
        tab.results.scrollToItem(failed)
    await asyncio.sleep(0.2)  # let Qt lay out and paint
    path = Path(out) / "screenshot-suites.png"
    window.grab().save(str(path))
    window.log.bar.reset()
    return path
