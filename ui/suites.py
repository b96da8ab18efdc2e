"""The Suites tab: pick conformance cases, point them at a SUT, run, watch, save reports.

A front-end of `inspector.conformance` (no test logic here). Left: the catalog as a tree
(version › SUT kind › functional block › case) with checkboxes, and a details pane (the
selected case's description and steps, or the selected result's reason and frames).
Right: the SUT (a charger connects to our listener, or we connect to a CSMS), --auto,
timeouts and parameters, Run / Stop; below, the live run (cases › steps with coloured
verdicts and reasons), counters, and the JUnit / HTML report buttons.

The run uses the window's hub, so its frames land in the frame log and the capture like
every role's (connection role "suite"). Steps are shown from the runner's `on_event`
callback, which runs on the asyncio loop = the Qt thread (qasync); events are per step,
so updating widgets directly is cheap. Operator prompts are answered through the
runner's async `prompt` callback: a non-modal dialog resolves a future from its buttons,
so the loop keeps running (frames flow, Stop works) while the operator acts.
"""

from __future__ import annotations

import asyncio
import html
import logging
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFileDialog, QFrame, QGridLayout,
                               QGroupBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QSplitter, QStackedWidget, QTextBrowser,
                               QTreeWidgetItem, QVBoxLayout, QWidget)

from inspector.conformance import (CaseFinished, CaseStarted, PromptReply, PromptRequest,
                                   PromptRequested, RunOptions, StepFinished, StepStarted,
                                   SuiteError, SuiteFinished, SuiteNote, SuiteRunner, SuiteStarted,
                                   Verdict, report)
from inspector.events import Notice
from inspector.roles.common import Listen, check_ws_url

from .roles import UrlBox, describe
from .suite_widgets import (CASE_ROLE, CHECKED, SUT_HINTS, SUT_NAMES, VERDICT_COLOURS,
                            CatalogTree, PromptDialog, ResultsTree, badge_style,
                            describe_case, describe_case_result, describe_step)

__all__ = ["SuitesTab", "CatalogTree", "ResultsTree", "PromptDialog", "VERDICT_COLOURS",
           "parse_params", "open_url", "screenshot"]

log = logging.getLogger(__name__)


def open_url(url: QUrl) -> bool:
    """Open a URL with the desktop (a module function so tests can replace it)."""
    return QDesktopServices.openUrl(url)


def parse_params(text: str) -> dict:
    """'KEY=VALUE KEY=VALUE' (spaces, commas or semicolons between) -> dict; numbers as numbers."""
    params = {}
    for item in text.replace(",", " ").replace(";", " ").split():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"bad parameter {item!r}: expected KEY=VALUE, e.g. id_tag=04A2B3C4")
        for kind in (int, float):
            try:
                params[key] = kind(value)
                break
            except ValueError:
                continue
        else:
            params[key] = value
    return params


# ---- the tab --------------------------------------------------------------------------------------

class SuitesTab(QWidget):
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

        # right, top: the SUT and the run options (a compact grid)
        self.selection = QLabel()
        self.selection.setObjectName("suitesSelection")
        self.selection.setWordWrap(True)
        self.listen = QLineEdit()
        self.listen.setObjectName("suitesListen")
        self.listen.setPlaceholderText("127.0.0.1:0 (0 = any free port)")
        self.listen.setToolTip("where the engine listens for the charger; 0.0.0.0:PORT for "
                               "chargers on the network")
        self.url = UrlBox("shown when the run starts")
        self.url.edit.setObjectName("suitesUrl")
        self.use_for_charger = QPushButton("Use in fake charger")
        self.use_for_charger.setObjectName("suitesUseForCharger")
        self.use_for_charger.setToolTip("put this URL in the fake charger panel (to try the "
                                        "suite with our own fake charger)")
        self.use_for_charger.setEnabled(False)
        self.url_hint = QLabel()
        self.url_hint.setWordWrap(True)
        self.url_hint.setStyleSheet("color: #666;")
        self.connect_timeout = self._seconds_box("suitesConnectTimeout", 1, 3600)
        self.connect_timeout.setToolTip("how long a case waits for the charger to connect and boot")
        charger_page = QWidget()
        grid = QGridLayout(charger_page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("Listen on:"), 0, 0)
        grid.addWidget(self.listen, 0, 1)
        grid.addWidget(QLabel("Charger URL:"), 0, 2)
        grid.addWidget(self.url, 0, 3, 1, 2)
        grid.addWidget(QLabel("Charger wait:"), 1, 0)
        grid.addWidget(self.connect_timeout, 1, 1)
        grid.addWidget(self.url_hint, 1, 2, 1, 2)
        grid.addWidget(self.use_for_charger, 1, 4)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(3, 5)
        self.target = QLineEdit()
        self.target.setObjectName("suitesTarget")
        self.target.setPlaceholderText("ws://csms.example.com:9000/ocpp/CP001")
        self.target.setToolTip("the CSMS under test; the URL ends in the charge point id the "
                               "engine connects as")
        self.password = QLineEdit()
        self.password.setObjectName("suitesPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("optional, not remembered")
        self.password.setToolTip("HTTP Basic auth password (security profile 1/2); never saved")
        csms_hint = QLabel("the URL ends in the charge point id the engine connects as "
                           "(with --auto a simulated CSMS is used instead)")
        csms_hint.setWordWrap(True)
        csms_hint.setStyleSheet("color: #666;")
        csms_page = QWidget()
        grid = QGridLayout(csms_page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("CSMS URL:"), 0, 0)
        grid.addWidget(self.target, 0, 1)
        grid.addWidget(QLabel("Password:"), 0, 2)
        grid.addWidget(self.password, 0, 3)
        grid.addWidget(csms_hint, 1, 1, 1, 3)
        grid.setColumnStretch(1, 5)
        grid.setColumnStretch(3, 2)
        self.sut_pages = QStackedWidget()
        self.sut_pages.addWidget(charger_page)
        self.sut_pages.addWidget(csms_page)

        self.auto = QCheckBox("Simulate the SUT (--auto)")
        self.auto.setObjectName("suitesAuto")
        self.auto.setToolTip("our fake charger / fake CSMS plays the SUT and performs the "
                             "operator's actions: no prompts, no real device needed")
        self.step_timeout = self._seconds_box("suitesStepTimeout", 0.1, 3600)
        self.step_timeout.setToolTip("how long one step waits for the SUT")
        self.case_timeout = self._seconds_box("suitesCaseTimeout", 0.5, 24 * 3600)
        self.case_timeout.setToolTip("time limit of a whole case")
        self.params = QLineEdit()
        self.params.setObjectName("suitesParams")
        self.params.setPlaceholderText("KEY=VALUE …, e.g. id_tag=04A2B3C4 connector=1")
        self.params.setToolTip("run parameters (as --param): id_tag, valid_tag, invalid_tag, "
                               "connector, evse, heartbeat_interval, meter_interval, …")
        self.run_button = QPushButton("Run selected")
        self.run_button.setObjectName("suitesRun")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("suitesStop")
        self.stop_button.setEnabled(False)
        common = QGridLayout()
        common.setContentsMargins(0, 0, 0, 0)
        common.addWidget(self.auto, 0, 0, 1, 2)
        common.addWidget(QLabel("Step timeout:"), 0, 2)
        common.addWidget(self.step_timeout, 0, 3)
        common.addWidget(QLabel("Case timeout:"), 0, 4)
        common.addWidget(self.case_timeout, 0, 5)
        common.addWidget(QLabel("Parameters:"), 1, 0)
        common.addWidget(self.params, 1, 1, 1, 3)
        common.addWidget(self.run_button, 1, 4)
        common.addWidget(self.stop_button, 1, 5)
        common.setColumnStretch(1, 3)
        common.setColumnStretch(3, 1)
        common.setColumnStretch(5, 1)
        self.error = QLabel()
        self.error.setObjectName("suitesError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        self.sut_box = QGroupBox("SUT")
        self.sut_box.setObjectName("suitesSut")
        options = QVBoxLayout(self.sut_box)
        options.setContentsMargins(8, 4, 8, 6)
        options.setSpacing(4)
        options.addWidget(self.selection)
        options.addWidget(self.sut_pages)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        options.addWidget(line)
        options.addLayout(common)
        options.addWidget(self.error)

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
        self.save_junit_button = QPushButton("Save JUnit XML…")
        self.save_junit_button.setObjectName("suitesSaveJunit")
        self.save_html_button = QPushButton("Save HTML report…")
        self.save_html_button.setObjectName("suitesSaveHtml")
        self.open_html_button = QPushButton("Open HTML report")
        self.open_html_button.setObjectName("suitesOpenHtml")
        reports = QHBoxLayout()
        reports.setContentsMargins(0, 0, 0, 0)
        reports.addWidget(self.save_junit_button)
        reports.addWidget(self.save_html_button)
        reports.addWidget(self.open_html_button)
        reports.addStretch(1)
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
        self.catalog.currentItemChanged.connect(lambda item, _old: self._show_description(item))
        self.catalog.itemChanged.connect(lambda _item, column: column == 0
                                         and self._selection_changed())
        self.results.currentItemChanged.connect(lambda item, _old: self._show_result(item))
        self.listen.textChanged.connect(lambda _text: self._show_url())
        self.auto.toggled.connect(lambda _on: self._show_url())
        self.run_button.clicked.connect(lambda: self.run_selected())
        self.stop_button.clicked.connect(self.stop)
        self.use_for_charger.clicked.connect(lambda: self.host.use_charger_url(self.url.text()))
        self.save_junit_button.clicked.connect(self._ask_save_junit)
        self.save_html_button.clicked.connect(self._ask_save_html)
        self.open_html_button.clicked.connect(lambda: self.open_html())
        self._show_counts()
        self._update_buttons()

    def reveal(self) -> None:
        """View › Conformance suites: bring the tab forward, with room to work in."""
        tabs = getattr(self.host, "tabs", None)
        if tabs is not None:
            tabs.setCurrentWidget(self)
        splitter = getattr(self.host, "splitter", None)
        if splitter is not None and splitter.count() == 2:
            sizes = splitter.sizes()
            total = sum(sizes)
            if total and sizes[1] < 0.55 * total:
                splitter.setSizes([int(total * 0.4), total - int(total * 0.4)])

    @staticmethod
    def _seconds_box(name: str, low: float, high: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setObjectName(name)
        box.setRange(low, high)
        box.setDecimals(1)
        box.setSuffix(" s")
        box.setSingleStep(1.0)
        return box

    # ---- settings ----------------------------------------------------------------------------

    def _restore(self) -> None:
        s = self.settings

        def number(key: str, default: float) -> float:
            try:
                return float(s.value(key, default))
            except (TypeError, ValueError):
                return default
        self.listen.setText(str(s.value("suites/listen", "127.0.0.1:0")))
        self.target.setText(str(s.value("suites/target", "")))
        self.auto.setChecked(str(s.value("suites/auto", "false")).lower() == "true")
        self.step_timeout.setValue(number("suites/step_timeout", 30.0))
        self.case_timeout.setValue(number("suites/case_timeout", 300.0))
        self.connect_timeout.setValue(number("suites/connect_timeout", 120.0))
        self.params.setText(str(s.value("suites/params", "")))
        checked = str(s.value("suites/checked", "") or "")
        keys = [tuple(k.split("/", 1)) for k in checked.split(",") if "/" in k]
        self.catalog.set_checked(keys)

    def save_settings(self) -> None:
        """Remember the fields and the checked cases (never the password)."""
        s = self.settings
        s.setValue("suites/listen", self.listen.text())
        s.setValue("suites/target", self.target.text())
        s.setValue("suites/auto", "true" if self.auto.isChecked() else "false")
        s.setValue("suites/step_timeout", self.step_timeout.value())
        s.setValue("suites/case_timeout", self.case_timeout.value())
        s.setValue("suites/connect_timeout", self.connect_timeout.value())
        s.setValue("suites/params", self.params.text())
        s.setValue("suites/checked", ",".join(f"{c.version}/{c.id}"
                                              for c in self.catalog.checked_cases()))

    # ---- catalog -------------------------------------------------------------------------------

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

    def _set_sut(self, version: str, sut: str) -> None:
        self._version, self._sut = version, sut
        self.sut_pages.setCurrentIndex(0 if sut == "charger" else 1)
        self.sut_box.setTitle(f"SUT: {SUT_NAMES[sut]} — {SUT_HINTS[sut]}")
        self._show_url()

    def _show_url(self) -> None:
        """The URL the charger must connect to: exact while running, predicted before."""
        if self.running and self.runner is not None and self.runner.endpoint:
            return
        self.use_for_charger.setEnabled(False)
        try:
            listen = Listen.parse(self.listen.text() or "127.0.0.1:0")
        except ValueError:
            self.url.set_url("")
            self.url_hint.setText("enter HOST:PORT, e.g. 0.0.0.0:9000 for chargers on the network")
            return
        if listen.port == 0:
            self.url.set_url("")
            self.url.edit.setPlaceholderText("port chosen when the run starts")
            self.url_hint.setText("port 0 picks a free port per run; use a fixed port so the "
                                  "charger keeps its configuration between runs")
        else:
            self.url.set_url(f"ws://{listen.display_host}:{listen.port}/")
            self.url_hint.setText("the charger connects to this URL + its charge point id, "
                                  "e.g. …/CP001 (listening while a run is on)")
        if self.auto.isChecked():
            self.url_hint.setText("--auto: our simulated charger connects here")

    # ---- running -------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def _update_buttons(self) -> None:
        running = self.running
        self.run_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        done = self.result is not None and not running
        for button in (self.save_junit_button, self.save_html_button, self.open_html_button):
            button.setEnabled(done)
        for widget in (self.listen, self.target, self.password, self.auto, self.step_timeout,
                       self.case_timeout, self.connect_timeout, self.params):
            widget.setEnabled(not running)

    def fail(self, text: str) -> None:
        """A readable error: under the Run button, in the status line and via the window."""
        self.error.setText(text)
        self.error.show()
        self.host.report_error(text, "suite")

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()

    def options(self, version: str, sut: str) -> RunOptions:
        """RunOptions from the fields; ValueError with a readable text when one is wrong."""
        auto = self.auto.isChecked()
        params = parse_params(self.params.text())
        listen = target = password = None
        if sut == "charger":
            listen = Listen.parse(self.listen.text() or "127.0.0.1:0")
        elif not auto:
            target = self.target.text().strip()
            if not target:
                raise ValueError("enter the CSMS URL, ending in the charge point id, e.g. "
                                 "ws://csms.example.com:9000/ocpp/CP001 (or tick --auto)")
            check_ws_url(target)
            if not urlsplit(target).path.strip("/"):
                raise ValueError(f"the CSMS URL {target} must end in the charge point id, "
                                 "e.g. ws://csms.example.com:9000/ocpp/CP001")
            password = self.password.text() or None
        return RunOptions(version=version, sut=sut, listen=listen, target=target, auto=auto,
                          step_timeout=self.step_timeout.value(),
                          case_timeout=self.case_timeout.value(),
                          connect_timeout=self.connect_timeout.value(),
                          params=params, password=password)

    def run_selected(self, cases=None) -> asyncio.Task | None:
        """Run the checked cases (or `cases`); returns the run's task, None if it cannot start."""
        if self.running:
            return None
        self.clear_error()
        cases = list(cases) if cases is not None else self.catalog.checked_cases()
        if not cases:
            self.fail("Check one or more cases in the catalog first.")
            return None
        kinds = sorted({(c.version, c.sut) for c in cases})
        if len(kinds) > 1:
            self.fail("The checked cases mix " + " and ".join(
                f"OCPP {v} {SUT_NAMES[k].lower()}" for v, k in kinds)
                + "; run one version and SUT kind at a time.")
            return None
        version, sut = kinds[0]
        self._set_sut(version, sut)
        try:
            options = self.options(version, sut)
        except ValueError as exc:
            self.fail(str(exc))
            return None
        self.save_settings()
        self.host.ensure_capture()
        self.result, self.html_path = None, None
        self.results.clear_run()
        self.counts = {v: 0 for v in Verdict}
        self._total = len(cases)
        self._started_at = time.monotonic()
        self._show_counts()
        self.status.setStyleSheet("color: #444;")
        self.status.setText("Starting…")
        self.task = self.host.spawn(self._run(options, cases), "conformance run")
        self._update_buttons()
        return self.task

    async def _run(self, options: RunOptions, cases: list) -> None:
        result = None
        runner = SuiteRunner(options, hub=self.host.hub, prompt=self._ask_operator,
                             on_event=self._on_event, charger_factory=self.charger_factory)
        self.runner = runner
        try:
            try:
                await runner.start()
            except SuiteError as exc:
                self.fail(f"Cannot start the run: {exc}")
                self.status.setText("The run could not start.")
                return
            self._show_endpoint(runner)
            result = await runner.run(cases)
        except SuiteError as exc:
            self.fail(f"Conformance run: {exc}")
        except asyncio.CancelledError:
            self.status.setText("Run stopped.")
            raise
        except Exception as exc:  # noqa: BLE001 - one readable line, the traceback in the log
            log.debug("conformance run failed", exc_info=exc)
            self.fail(f"Conformance run failed: {describe(exc)}")
        finally:
            self._close_prompt()
            try:
                await asyncio.wait_for(runner.stop(), 10)
            except Exception:  # noqa: BLE001 - stopping must go on
                log.debug("stopping the runner failed", exc_info=True)
            runner.close()
            self.runner = None
            self.task = None
            if result is not None:
                self.result = result
                self._finished(result)
            self._show_url()
            self._update_buttons()
            self.run_finished.emit(result)

    def _show_endpoint(self, runner: SuiteRunner) -> None:
        if runner.sut == "charger":
            self.url.set_url(runner.endpoint)
            self.use_for_charger.setEnabled(not runner.options.auto)
            self.url_hint.setText(
                f"--auto: the simulated charger connects as …/{runner.options.charge_point_id}"
                if runner.options.auto else
                "the charger connects to this URL + its charge point id, e.g. …/CP001")

    def stop(self) -> None:
        """Stop button: the running step ends with an error, no further case starts."""
        if self.runner is not None and self.running:
            self.status.setText("Stopping…")
            self.runner.cancel()
            self._close_prompt()

    async def shutdown(self) -> None:
        """The window closes: stop a run and wait (bounded) for the runner to let go."""
        self.save_settings()
        task = self.task
        if task is None or task.done():
            return
        self.stop()
        done, _ = await asyncio.wait({task}, timeout=5)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=5)

    # ---- events from the runner (the Qt thread) -----------------------------------------------

    def _on_event(self, event) -> None:
        if isinstance(event, StepFinished):
            self.results.step_finished(event.case_id, event.result)
        elif isinstance(event, StepStarted):
            item = self.results.step(event.case_id, event.index)
            if item is not None:
                self.results.set_pending(item, "running…")
        elif isinstance(event, PromptRequested):
            item = self.results.step(event.request.case_id, event.request.step_index)
            if item is not None:
                auto = self.runner is not None and self.runner.options.auto
                self.results.set_pending(item, "simulator…" if auto else "operator…", "#9e7700")
        elif isinstance(event, CaseStarted):
            self.results.case_started(event)
            self.status.setText(f"Running {event.case_id} ({event.number} of {event.total}): "
                                f"{event.title}")
        elif isinstance(event, CaseFinished):
            self.results.case_finished(event.result)
            self.counts[event.result.verdict] += 1
            self._show_counts()
        elif isinstance(event, SuiteStarted):
            where = "simulated SUT" if event.auto else event.endpoint
            self.status.setText(f"OCPP {event.version}, SUT {SUT_NAMES[event.sut].lower()}: "
                                f"{len(event.case_ids)} case(s) against {where}")
        elif isinstance(event, SuiteNote):
            self.status.setText(event.text)
            self.host.hub.publish(Notice(event.level if event.level in ("info", "warning", "error")
                                         else "info", event.text, "suite"))
        elif isinstance(event, SuiteFinished):
            pass  # handled when run() returns (_finished)

    def _show_counts(self) -> None:
        names = {Verdict.PASS: "passed", Verdict.FAIL: "failed",
                 Verdict.INCONCLUSIVE: "inconclusive", Verdict.ERROR: "error"}
        for verdict, badge in self.badges.items():
            badge.setText(f"{self.counts[verdict]} {names[verdict]}")
        done = sum(self.counts.values())
        self.progress.setMaximum(max(self._total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} of {self._total} case(s)")

    def _finished(self, result) -> None:
        cancelled = len(result.cases) < self._total
        self.counts = {v: result.count(v) for v in Verdict}
        self._total = len(result.cases)
        self._show_counts()
        verdict = "PASSED" if result.passed else "FAILED"
        self.status.setText(f"{verdict}{' (stopped)' if cancelled else ''}: {result.summary()}")
        colour = VERDICT_COLOURS[Verdict.PASS if result.passed else Verdict.FAIL]
        self.status.setStyleSheet(f"color: {colour}; font-weight: 600;")
        self.host.hub.publish(Notice("info", f"conformance run: {result.summary()}", "suite"))

    # ---- operator prompts ----------------------------------------------------------------------

    async def _ask_operator(self, request: PromptRequest) -> PromptReply:
        """The runner's prompt callback: show the dialog, await its answer (loop keeps running)."""
        self._close_prompt()
        future = asyncio.get_running_loop().create_future()
        dialog = PromptDialog(request, self.window())
        dialog.answered.connect(lambda reply: future.done() or future.set_result(reply))
        self.prompt_dialog = dialog
        self.status.setText(f"Waiting for the operator: {request.text}")
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        try:
            return await future
        finally:
            # answered, timed out or cancelled (Stop): the dialog goes either way
            if self.prompt_dialog is dialog:
                self.prompt_dialog = None
            if dialog.reply is None:  # closing it must not answer again
                dialog.reply = PromptReply.skip("closed")
            dialog.close()
            dialog.deleteLater()

    def _close_prompt(self) -> None:
        dialog, self.prompt_dialog = self.prompt_dialog, None
        if dialog is not None:
            dialog.close()

    # ---- reports --------------------------------------------------------------------------------

    def save_junit(self, path) -> bool:
        return self._save(report.write_junit, path, "JUnit XML report")

    def save_html(self, path) -> bool:
        if self._save(report.write_html, path, "HTML report"):
            self.html_path = Path(path)
            return True
        return False

    def _save(self, write, path, what: str) -> bool:
        if self.result is None:
            self.fail("Nothing to save yet: run some cases first.")
            return False
        try:
            write(self.result, path)
        except OSError as exc:
            self.fail(f"Cannot write the {what} to {path}: {describe(exc)}")
            return False
        self.host.statusBar().showMessage(f"Saved the {what} as {path}", 8000)
        self.host.hub.publish(Notice("info", f"{what} saved as {path}", "suite"))
        return True

    def open_html(self) -> Path | None:
        """Open the HTML report in the browser: the saved file, else a temporary one."""
        if self.result is None:
            self.fail("No report yet: run some cases first.")
            return None
        path = self.html_path
        if path is None or not path.exists():
            if self._temp_dir is None:
                self._temp_dir = tempfile.TemporaryDirectory(prefix="ocpp-inspector-report-")
            stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.result.started or time.time()))
            path = Path(self._temp_dir.name) / f"conformance-{stamp}.html"
            try:
                report.write_html(self.result, path)
            except OSError as exc:
                self.fail(f"Cannot write the HTML report: {describe(exc)}")
                return None
        if not open_url(QUrl.fromLocalFile(str(path))):
            self.fail(f"Cannot open a browser; the report is at {path}")
        return path

    def _suggested_name(self, suffix: str) -> str:
        result = self.result
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(result.started or time.time()))
        return f"conformance-{result.version}-{result.sut}-{stamp}{suffix}"

    def _ask_path(self, title: str, name_filter: str, suffix: str, callback) -> QFileDialog | None:
        if self.result is None:
            return None
        directory = Path(str(self.settings.value("suites/report_dir", str(Path.home()))))
        dialog = QFileDialog(self, title, str(directory / self._suggested_name(suffix)), name_filter)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setDefaultSuffix(suffix.lstrip("."))

        def chosen(path: str) -> None:
            self.settings.setValue("suites/report_dir", str(Path(path).parent))
            callback(path)
        dialog.fileSelected.connect(chosen)
        dialog.open()
        return dialog

    def _ask_save_junit(self) -> None:
        self._ask_path("Save JUnit XML report", "JUnit XML (*.xml);;All files (*)", ".xml",
                       self.save_junit)

    def _ask_save_html(self) -> None:
        self._ask_path("Save HTML report", "HTML (*.html *.htm);;All files (*)", ".html",
                       self.save_html)


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
    sizes = window.splitter.sizes()
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
    window.splitter.setSizes(sizes)
    return path
