"""The Suites tab's SUT and run-options form: where the SUT is, --auto, timeouts, parameters.

A mixin of `SuitesTab` (ui/suites.py): it builds the "SUT" group box, remembers its fields
in the settings (never the password), predicts the URL a charger must connect to, and turns
the fields into `RunOptions` with a readable ValueError when one is wrong.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from PySide6.QtWidgets import (QCheckBox, QDoubleSpinBox, QFileDialog, QFrame, QGridLayout,
                               QGroupBox, QLabel, QLineEdit, QPushButton, QStackedWidget, QVBoxLayout,
                               QWidget)

from inspector.conformance import RunOptions, SuiteError
from inspector.conformance.sut_config import load as load_sut_config
from inspector.roles.common import Listen, check_ws_url

from .security import CLIENT_FILES, SecurityGroup, check_tls_url, server_security
from .suite_widgets import SUT_HINTS, SUT_NAMES
from .widgets import UrlBox, error_label, hint_label


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


class SuiteOptionsForm:
    """The SUT group of the Suites tab (mixed into `SuitesTab`)."""

    def _build_options(self) -> None:
        # the SUT and the run options (a compact grid)
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
        self.url_hint = hint_label()
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
        # security profiles 1-3 for a charger SUT: our listener's certificate, client CA and
        # the password the charger must send (TC_085..087_CS run only with them)
        self.charger_security = server_security(self.settings, "suitesCharger")
        grid.addWidget(self.charger_security, 2, 0, 1, 5)
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
        csms_hint = hint_label("the URL ends in the charge point id the engine connects as "
                               "(with --auto a simulated CSMS is used instead)")
        csms_page = QWidget()
        grid = QGridLayout(csms_page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel("CSMS URL:"), 0, 0)
        grid.addWidget(self.target, 0, 1)
        grid.addWidget(QLabel("Password:"), 0, 2)
        grid.addWidget(self.password, 0, 3)
        grid.addWidget(csms_hint, 1, 1, 1, 3)
        # wss:// towards a CSMS SUT: its CA and our client certificate (profiles 2 and 3)
        self.csms_security = SecurityGroup(self.settings, "suitesCsms", CLIENT_FILES,
                                           title="TLS (wss://): CA, client certificate")
        grid.addWidget(self.csms_security, 2, 0, 1, 4)
        grid.setColumnStretch(1, 5)
        grid.setColumnStretch(3, 2)
        self.sut_pages = QStackedWidget()
        self.sut_pages.addWidget(charger_page)
        self.sut_pages.addWidget(csms_page)

        self.auto = QCheckBox("Test our own simulator (--simulate-sut)")
        self.auto.setObjectName("suitesAuto")
        self.auto.setToolTip("our fake charger / fake CSMS plays the SUT and performs the "
                             "operator's actions: a self-test of the suites, not a test of a "
                             "real device (the CSMS URL is not used)")
        self.step_timeout = self._seconds_box("suitesStepTimeout", 0.1, 3600)
        self.step_timeout.setToolTip("how long one step waits for the SUT")
        self.case_timeout = self._seconds_box("suitesCaseTimeout", 0.5, 24 * 3600)
        self.case_timeout.setToolTip("time limit of a whole case")
        self.params = QLineEdit()
        self.params.setObjectName("suitesParams")
        self.params.setPlaceholderText("KEY=VALUE …, e.g. id_tag=04A2B3C4 connector=1")
        self.params.setToolTip("run parameters (as --param): id_tag, valid_tag, invalid_tag, "
                               "connector, evse, heartbeat_interval, meter_interval, …")
        self.sut_config = QLineEdit()
        self.sut_config.setObjectName("suitesSutConfig")
        self.sut_config.setPlaceholderText("optional JSON: tags, connectors, features, boot "
                                           "Pending/Rejected (--sut-config)")
        self.sut_config.setToolTip("what the SUT has and can do; a case needing what it does "
                                   "not declare is NOT APPLICABLE")
        self.sut_config_browse = QPushButton("Browse…")
        self.sut_config_browse.setObjectName("suitesSutConfigBrowse")
        self.sut_config_browse.clicked.connect(self._browse_sut_config)
        self.operator_timeout = self._seconds_box("suitesOperatorTimeout", 1, 24 * 3600)
        self.operator_timeout.setToolTip("how long an operator step waits for the operator, or "
                                         "for the SUT to show it was done")
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
        common.addWidget(QLabel("SUT description:"), 2, 0)
        common.addWidget(self.sut_config, 2, 1, 1, 2)
        common.addWidget(self.sut_config_browse, 2, 3)
        common.addWidget(QLabel("Operator timeout:"), 2, 4)
        common.addWidget(self.operator_timeout, 2, 5)
        common.setColumnStretch(1, 3)
        common.setColumnStretch(3, 1)
        common.setColumnStretch(5, 1)
        self.error = error_label("suitesError")
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
        self.operator_timeout.setValue(number("suites/operator_timeout", 180.0))
        self.sut_config.setText(str(s.value("suites/sut_config", "")))
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
        s.setValue("suites/operator_timeout", self.operator_timeout.value())
        s.setValue("suites/sut_config", self.sut_config.text())
        self.charger_security.save_settings()
        self.csms_security.save_settings()
        s.setValue("suites/params", self.params.text())
        s.setValue("suites/checked", ",".join(f"{c.version}/{c.id}"
                                              for c in self.catalog.checked_cases()))

    # ---- the SUT -------------------------------------------------------------------------------

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
            self.url_hint.setText("--simulate-sut: our simulated charger connects here")

    def _show_simulated(self) -> None:
        """A simulated CSMS is tested instead of a URL: grey the URL out, never ignore it silently."""
        simulated = self.auto.isChecked()
        for widget in (self.target, self.password):
            widget.setEnabled(not simulated and not self.running)
        self.target.setPlaceholderText("not used: our own simulated CSMS is tested" if simulated
                                       else "ws://csms.example.com:9000/ocpp/CP001")

    def _browse_sut_config(self) -> None:
        dialog = QFileDialog(self, "SUT description", self.sut_config.text() or "",
                             "JSON files (*.json);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.sut_config.setText)
        dialog.open()

    def _description(self):
        path = self.sut_config.text().strip()
        if not path:
            return None
        try:
            return load_sut_config(path)
        except SuiteError as exc:
            raise ValueError(str(exc)) from None

    def options(self, version: str, sut: str) -> RunOptions:
        """RunOptions from the fields; ValueError with a readable text when one is wrong."""
        auto = self.auto.isChecked()
        params = parse_params(self.params.text())
        listen = target = password = server_tls = client_tls = None
        if sut == "charger":
            listen = Listen.parse(self.listen.text() or "127.0.0.1:0")
            server_tls = self.charger_security.server_tls()  # ValueError / TlsError, readable
            password = self.charger_security.password()
        elif not auto:
            target = self.target.text().strip()
            if not target:
                raise ValueError("enter the CSMS URL, ending in the charge point id, e.g. "
                                 "ws://csms.example.com:9000/ocpp/CP001")
            check_ws_url(target)
            if not urlsplit(target).path.strip("/"):
                raise ValueError(f"the CSMS URL {target} must end in the charge point id, "
                                 "e.g. ws://csms.example.com:9000/ocpp/CP001")
            password = self.password.text() or None
            client_tls = self.csms_security.client_tls()
            check_tls_url(target, client_tls)
        return RunOptions(version=version, sut=sut, listen=listen, target=target, auto=auto,
                          step_timeout=self.step_timeout.value(),
                          case_timeout=self.case_timeout.value(),
                          connect_timeout=self.connect_timeout.value(),
                          operator_timeout=self.operator_timeout.value(),
                          sut_config=self._description(), server_tls=server_tls,
                          client_tls=client_tls,
                          params=params, password=password)
