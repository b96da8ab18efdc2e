"""The Fake CSMS panel: a simulated CSMS, its connected charge points and "Send frame…"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGroupBox,
                               QHBoxLayout, QLineEdit, QListWidget, QPushButton, QSpinBox,
                               QVBoxLayout)

from inspector.roles.common import Listen
from inspector.roles.csms import FakeCsms, load_overrides

from .role_panel import SendTarget, ServerPanel
from .security import server_security
from .csms_processes import CsmsProcesses, csms_command
from .widgets import ScriptField


class CsmsPanel(ServerPanel):
    kind = "csms"

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        self.overrides = QLineEdit()
        self.overrides.setObjectName("csmsOverrides")
        self.overrides.setPlaceholderText("optional JSON file of per-action responses")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        overrides_row = QHBoxLayout()
        overrides_row.addWidget(self.overrides, 1)
        overrides_row.addWidget(browse)
        settings = host.settings
        self.listen.setText(settings.value("csms/listen", self.default_listen))
        self.inputs += [self.overrides, browse]
        self.overrides.setText(settings.value("csms/overrides", ""))
        self.form.addRow("Listen on:", self.listen)
        self.form.addRow("Overrides:", overrides_row)
        self.script = ScriptField(settings, "csms/script", "csms",
                                  "optional: handlers and connected(station) in Python")
        self.form.addRow("Script:", self.script)
        self.inputs.append(self.script)
        # for fleets larger than this window's CSMS answers: csms --workers N
        self.processes = QSpinBox()
        self.processes.setObjectName("csmsProcesses")
        self.processes.setRange(0, 64)
        self.processes.setSpecialValueText("this window")
        self.processes.setValue(int(settings.value("csms/processes", 0)))
        self.processes.setToolTip("0: the fake CSMS runs in this window (its frames in the log). "
                                  "N: N processes behind the one port (csms --workers N, "
                                  "SO_REUSEPORT), each logging to its own capture")
        self.form.addRow("Processes:", self.processes)
        self.inputs.append(self.processes)
        self.workers: CsmsProcesses | None = None
        # OCPP-J closes a connection that offers no supported subprotocol; a field charger
        # that offers none can be served as 1.6 instead
        self.lenient = QCheckBox("Serve chargers with no subprotocol")
        self.lenient.setToolTip("OCPP-J closes a connection that offers no OCPP subprotocol this "
                                "CSMS supports; tick to serve such a charger as OCPP 1.6")
        self.lenient.setObjectName("csmsAcceptNoSubprotocol")
        self.lenient.setChecked(str(settings.value("csms/accept_no_subprotocol", "false")).lower()
                                == "true")
        self.form.addRow("", self.lenient)
        self.inputs.append(self.lenient)
        # a load manager's site limit, shared among running transactions as TxProfiles
        self.site_limit = QDoubleSpinBox()
        self.site_limit.setObjectName("csmsSiteLimit")
        self.site_limit.setRange(0.0, 100_000.0)
        self.site_limit.setDecimals(1)
        self.site_limit.setSuffix(" kW")
        self.site_limit.setSpecialValueText("off")
        self.site_limit.setToolTip("share this limit among the running transactions: each gets "
                                   "a TxProfile of the limit / N, resent when one starts or ends")
        self.site_limit.setValue(float(settings.value("csms/site_limit", 0.0)))
        self.form.addRow("Site limit:", self.site_limit)
        self.inputs.append(self.site_limit)
        # --files: a folder served over HTTP for firmware downloads and log uploads
        self.files = QLineEdit(settings.value("csms/files", ""))
        self.files.setObjectName("csmsFiles")
        self.files.setPlaceholderText("optional: folder for firmware and uploaded logs")
        self.files.setToolTip("serve this folder over HTTP on a port of its own: chargers GET "
                              "firmware images from it and PUT diagnostics / logs into it; the "
                              "URL is in the Messages tab and below")
        self.form.addRow("Files folder:", self.files)
        self.inputs.append(self.files)
        self._add_url_rows()
        self.add_security(server_security(settings, "csms"))
        # profile 3: how a client certificate is held to the charger presenting it
        self.cert_check = QComboBox()
        self.cert_check.setObjectName("csmsCertCheck")
        for label, value in (("CN holds boot serial (OCPP)", "serial"),
                             ("…and CN = id (strict)", "strict"),
                             ("chain only (off)", "off")):
            self.cert_check.addItem(label, value)
        self.cert_check.setToolTip("with a client CA (security profile 3): a charger whose "
                                   "certificate does not match is refused and the reason logged")
        index = self.cert_check.findData(settings.value("csms/cert_check", "serial"))
        self.cert_check.setCurrentIndex(max(index, 0))
        self.security.body.layout().addRow("Certificate check:", self.cert_check)
        group = QGroupBox("Connected charge points")
        self.stations = QListWidget()
        self.stations.setObjectName("csmsStations")
        self.send_button = QPushButton("Send frame…")
        self.send_button.setObjectName("csmsSend")
        self.send_button.setEnabled(False)
        box = QVBoxLayout(group)
        box.addWidget(self.stations)
        box.addWidget(self.send_button)
        self.layout_.addWidget(group, 1)
        self.stations.itemSelectionChanged.connect(self._update_send)
        self.stations.itemDoubleClicked.connect(lambda _item: self._send())
        self.send_button.clicked.connect(self._send)

    def _browse(self) -> None:
        dialog = QFileDialog(self, "Overrides file", str(Path(self.overrides.text()).parent),
                             "JSON files (*.json);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.overrides.setText)
        dialog.open()

    def _make(self, listen: Listen):
        path = self.overrides.text().strip()
        overrides = load_overrides(path) if path else None  # OverrideError is a ValueError
        script = self.script.load()  # ScriptError is a ValueError: shown under the panel
        csms = FakeCsms(self.host.hub, listen, overrides=overrides, script=script,
                        tls=self.security.server_tls(), passwords=self.security.password(),
                        cert_check=self.cert_check.currentData(),
                        require_subprotocol=not self.lenient.isChecked(),
                        site_limit_w=self.site_limit.value() * 1000 or None,
                        files=self._files_folder())
        return csms

    # ---- csms --workers ---------------------------------------------------------------------

    def start(self):
        if not self.processes.value() or self.processes.value() < 2:
            return super().start()
        if self.running or self.busy:
            return None
        self.clear_error()
        for given, what in ((self.site_limit.value(), "a site limit"),
                            (self.files.text().strip(), "a files folder"),
                            (self.security.server_tls() is not None or self.security.password(),
                             "security options")):
            if given:
                self.fail(f"Processes share one port without {what}: set Processes to "
                          f"'this window' for it")
                return None
        try:
            listen = Listen.parse(self.listen.text() or self.default_listen)
            self.script.load()  # a script that cannot load: said here, not by each worker
        except ValueError as exc:
            self.fail(str(exc))
            return None
        self.save_settings()
        path = self.host.ensure_capture()
        capture = str(path.with_name(path.stem + "-csms.db")) if path else None
        command = csms_command(f"{listen.host}:{listen.port}", self.processes.value(),
                               capture=capture, overrides=self.overrides.text().strip(),
                               script=self.script.text(), lenient=self.lenient.isChecked())
        self.workers = CsmsProcesses(command, self)
        self.workers.listening.connect(self._workers_listening)
        self.workers.finished.connect(self._workers_finished)
        self.set_running(True, f"starting {self.processes.value()} processes…")
        self.host.note("info", f"fake CSMS on {self.processes.value()} processes"
                       + (f"; each logs to {capture[:-3]}-w<k>.db (File › Open capture… "
                          f"opens them together)" if capture else ""), self.kind)
        return None

    def _workers_listening(self, url: str) -> None:
        self.url.set_url(url)
        self.use_for_charger.setEnabled(True)
        self.set_running(True, f"{self.processes.value()} processes on {url}")

    def _workers_finished(self, code: int, error: str) -> None:
        self.workers = None
        self.url.set_url("")
        self.use_for_charger.setEnabled(False)
        self.set_running(False, "stopped")
        if code not in (0, -2, 130):
            self.fail(f"Fake CSMS processes ended with exit code {code}"
                      + (f": {error}" if error else ""))

    def stop(self) -> None:
        if self.workers is not None and self.workers.running:
            self.set_running(True, "stopping…")
            self.stop_button.setEnabled(False)
            self.workers.stop()
            return
        super().stop()

    async def shutdown(self) -> None:
        if self.workers is not None and self.workers.running:
            self.workers.stop()
            self.workers.process.waitForFinished(20000)
        await super().shutdown()

    @property
    def running(self) -> bool:
        return self.role is not None or (self.workers is not None and self.workers.running)

    def _files_folder(self) -> Path | None:
        text = self.files.text().strip()
        if not text:
            return None
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise ValueError(f"the files folder {text} does not exist")
        return folder

    def save_settings(self) -> None:
        self.host.settings.setValue("csms/listen", self.listen.text())
        self.host.settings.setValue("csms/overrides", self.overrides.text())
        self.host.settings.setValue("csms/processes", self.processes.value())
        self.script.save()
        self.host.settings.setValue("csms/cert_check", self.cert_check.currentData())
        self.host.settings.setValue("csms/site_limit", self.site_limit.value())
        self.host.settings.setValue("csms/files", self.files.text())
        self.host.settings.setValue("csms/accept_no_subprotocol",
                                    "true" if self.lenient.isChecked() else "false")
        self.security.save_settings()

    def started(self) -> None:
        self.refresh_stations()
        files = getattr(self.role, "files", None)
        if files is not None:
            self.set_running(True, f"listening on port {self.role.port}; files at {files.url}")

    def stopped(self) -> None:
        self.refresh_stations()

    def refresh_stations(self) -> None:
        names = sorted(self.role.stations) if self.role is not None else []
        current = [self.stations.item(i).text() for i in range(self.stations.count())]
        if names == current:
            return
        selected = self.stations.currentItem().text() if self.stations.currentItem() else None
        self.stations.clear()
        self.stations.addItems(names)
        if selected in names:
            self.stations.setCurrentRow(names.index(selected))
        elif len(names) == 1:
            self.stations.setCurrentRow(0)
        self._update_send()

    def _update_send(self) -> None:
        self.send_button.setEnabled(self.stations.currentItem() is not None)

    def _send(self) -> None:
        item = self.stations.currentItem()
        if item is not None:
            self.host.open_send_dialog(("csms", item.text()))

    def send_targets(self) -> list[SendTarget]:
        if self.role is None:
            return []
        return [SendTarget(("csms", cp), f"Fake CSMS → {cp} (OCPP {ep.version})", "to_charger",
                           cp, ep) for cp, ep in sorted(self.role.stations.items())]
