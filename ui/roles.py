"""The role panel: start/stop a proxy, a fake CSMS, fake chargers and a fleet, side by side.

Each panel validates its inputs before starting, shows failures (port in use, bad URL,
upstream down, charger errors) inline and through the window, and offers the URL to give
to a charger, read-only and copyable.
"""

from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QFrame, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QListWidget, QPushButton,
                               QScrollArea, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from inspector.roles.charger import ChargerError, ChargerOptions, FakeCharger
from inspector.roles.common import Listen
from inspector.roles.csms import FakeCsms, load_overrides
from inspector.roles.proxy import Proxy
from inspector.versions import VERSIONS

from .security import SecurityGroup, check_tls_url, client_security, proxy_security, server_security


@dataclass
class SendTarget:
    """Somewhere a hand-written CALL can be sent from."""

    key: tuple  # ("csms", cp id) or ("charger", cp id)
    label: str
    direction: str  # direction of the CALLs it sends
    charge_point_id: str
    endpoint: object  # inspector.rpc.Endpoint

    @property
    def version(self) -> str:
        return self.endpoint.version or VERSIONS[0]


def describe(exc: BaseException) -> str:
    """One readable line for an exception (no traceback)."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc)
    return text if text else type(exc).__name__


class UrlBox(QWidget):
    """A read-only, selectable URL with a Copy button."""

    def __init__(self, placeholder: str, parent=None):
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setReadOnly(True)
        self.edit.setPlaceholderText(placeholder)
        self.copy = QPushButton("Copy")
        self.copy.setToolTip("copy the URL to the clipboard")
        self.copy.setEnabled(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.copy)
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.edit.text()))

    def set_url(self, url: str) -> None:
        self.edit.setText(url)
        self.edit.setCursorPosition(0)
        self.copy.setEnabled(bool(url))

    def text(self) -> str:
        return self.edit.text()


class RolePanel(QWidget):
    kind = "role"

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host = host
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName(f"{self.kind}Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName(f"{self.kind}Stop")
        self.stop_button.setEnabled(False)
        self.state = QLabel("stopped")
        self.state.setObjectName(f"{self.kind}State")
        self.error = QLabel()
        self.error.setObjectName(f"{self.kind}Error")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        self.buttons = buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        self.state.setStyleSheet("color: #444;")
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(self.form)
        self.layout_.addLayout(buttons)
        self.layout_.addWidget(self.state)
        self.layout_.addWidget(self.error)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.busy = False
        self.security: SecurityGroup | None = None

    def add_security(self, group: SecurityGroup) -> SecurityGroup:
        """Put the role's Security group right under its form."""
        self.security = group
        self.layout_.insertWidget(self.layout_.indexOf(self.form) + 1, group)
        return group

    # ---- feedback -----------------------------------------------------------------------

    def fail(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.host.show_panel(self)
        self.host.report_error(text, self.kind)

    def clear_error(self) -> None:
        self.error.clear()
        self.error.hide()

    def on_notice(self, notice) -> None:
        if notice.level == "error":
            self.error.setText(notice.text)
            self.error.show()

    def set_running(self, running: bool, state: str) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        self.state.setText(state)

    # ---- to override --------------------------------------------------------------------

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    async def shutdown(self) -> None:
        pass

    def save_settings(self) -> None:
        pass

    def send_targets(self) -> list[SendTarget]:
        return []


class _ServerPanel(RolePanel):
    """Shared by the proxy and the fake CSMS: listen, start/stop, URL for chargers."""

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        self.listen = QLineEdit()
        self.listen.setObjectName(f"{self.kind}Listen")
        self.listen.setPlaceholderText("127.0.0.1:9000")
        self.url = UrlBox("shown when started")
        self.url.edit.setObjectName(f"{self.kind}Url")
        self.use_for_charger = QPushButton("Use in fake charger")
        self.use_for_charger.setObjectName(f"{self.kind}UseForCharger")
        self.use_for_charger.setToolTip("put this URL in the fake charger panel")
        self.use_for_charger.setEnabled(False)
        self.use_for_charger.clicked.connect(lambda: self.host.use_charger_url(self.url.text()))
        self.role = None

    def _add_url_rows(self) -> None:
        self.form.addRow("Charger URL:", self.url)
        hint = QLabel("give chargers this URL + their id, e.g. …/CP001")
        hint.setStyleSheet("color: #666;")
        hint.setWordWrap(True)
        self.form.addRow("", hint)
        self.buttons.addWidget(self.use_for_charger)

    def _make(self, listen: Listen):
        raise NotImplementedError

    def start(self) -> None:
        if self.role is not None or self.busy:
            return
        self.clear_error()
        try:
            listen = Listen.parse(self.listen.text() or "127.0.0.1:9000")
            role = self._make(listen)
        except ValueError as exc:  # bad listen address, bad URL, bad overrides file
            self.fail(str(exc))
            return
        self.save_settings()
        self.host.ensure_capture()
        self.busy = True
        self.set_running(True, "starting…")
        self.stop_button.setEnabled(False)
        self.host.spawn(self._start(role, listen), f"start {self.kind}")

    async def _start(self, role, listen: Listen) -> None:
        try:
            await role.start()
        except OSError as exc:
            self.busy = False
            self.set_running(False, "stopped")
            if exc.errno == errno.EADDRINUSE:
                reason = "address already in use (another program or role listens on this port)"
            elif exc.errno == errno.EACCES:
                reason = "permission denied (ports below 1024 need privileges)"
            else:
                reason = describe(exc)
            self.fail(f"Cannot listen on {listen.host}:{listen.port}: {reason}")
            return
        self.busy = False
        self.role = role
        self.url.set_url(role.url)
        self.use_for_charger.setEnabled(True)
        self.set_running(True, f"listening on port {role.port}")
        self.started()

    def started(self) -> None:
        pass

    def stop(self) -> None:
        if self.role is None:
            return
        self.host.spawn(self.shutdown(), f"stop {self.kind}")

    async def shutdown(self) -> None:
        role, self.role = self.role, None
        if role is None:
            return
        self.set_running(False, "stopping…")
        self.start_button.setEnabled(False)
        try:
            await asyncio.wait_for(role.stop(), 10)
        finally:
            self.url.set_url("")
            self.use_for_charger.setEnabled(False)
            self.set_running(False, "stopped")
            self.stopped()

    def stopped(self) -> None:
        pass

    @property
    def running(self) -> bool:
        return self.role is not None


class ProxyPanel(_ServerPanel):
    kind = "proxy"

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        self.upstream = QLineEdit()
        self.upstream.setObjectName("proxyUpstream")
        self.upstream.setPlaceholderText("ws://csms.example.com:9000/ocpp")
        settings = host.settings
        self.listen.setText(settings.value("proxy/listen", "127.0.0.1:9000"))
        self.upstream.setText(settings.value("proxy/upstream", ""))
        self.form.addRow("Listen on:", self.listen)
        self.form.addRow("Upstream CSMS:", self.upstream)
        self._add_url_rows()
        self.add_security(proxy_security(settings))
        self.layout_.addStretch(1)

    def _make(self, listen: Listen):
        upstream = self.upstream.text().strip()
        if not upstream:
            raise ValueError("enter the upstream CSMS URL, e.g. ws://csms.example.com:9000/ocpp")
        upstream_tls = self.security.client_tls("upstream_ca", "upstream_cert", "upstream_key")
        check_tls_url(upstream, upstream_tls)
        return Proxy(self.host.hub, listen, upstream, listen_tls=self.security.server_tls(),
                     upstream_tls=upstream_tls)

    def save_settings(self) -> None:
        self.host.settings.setValue("proxy/listen", self.listen.text())
        self.host.settings.setValue("proxy/upstream", self.upstream.text())
        self.security.save_settings()


class CsmsPanel(_ServerPanel):
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
        self.listen.setText(settings.value("csms/listen", "127.0.0.1:9000"))
        self.overrides.setText(settings.value("csms/overrides", ""))
        self.form.addRow("Listen on:", self.listen)
        self.form.addRow("Overrides:", overrides_row)
        self._add_url_rows()
        self.add_security(server_security(settings, "csms"))
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
        csms = FakeCsms(self.host.hub, listen, overrides=overrides,
                        tls=self.security.server_tls(), passwords=self.security.password())
        return csms

    def save_settings(self) -> None:
        self.host.settings.setValue("csms/listen", self.listen.text())
        self.host.settings.setValue("csms/overrides", self.overrides.text())
        self.security.save_settings()

    def started(self) -> None:
        self.refresh_stations()

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


class ChargerRun:
    def __init__(self, charger: FakeCharger, stay: bool):
        self.charger = charger
        self.stay = stay
        self.task: asyncio.Task | None = None
        self.state = "starting"

    @property
    def charge_point_id(self) -> str:
        return self.charger.charge_point_id

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    @property
    def connected(self) -> bool:
        endpoint = self.charger.endpoint
        return endpoint is not None and not endpoint.closed.is_set()


class ChargerPanel(RolePanel):
    kind = "charger"

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        settings = host.settings
        self.csms_url = QLineEdit(settings.value("charger/url", "ws://127.0.0.1:9000/"))
        self.csms_url.setObjectName("chargerUrl")
        self.csms_url.setPlaceholderText("ws://127.0.0.1:9000/ (the charge point id is appended)")
        self.charge_point = QLineEdit(settings.value("charger/charge_point", "CP001"))
        self.charge_point.setObjectName("chargerId")
        self.version = QComboBox()
        self.version.setObjectName("chargerVersion")
        self.version.addItems(list(VERSIONS))
        self.version.setCurrentText(settings.value("charger/version", VERSIONS[0]))
        self.meter_values = QSpinBox()
        self.meter_values.setObjectName("chargerMeterValues")
        self.meter_values.setRange(0, 100_000)
        self.meter_values.setValue(int(settings.value("charger/meter_values", 3)))
        self.interval = QDoubleSpinBox()
        self.interval.setObjectName("chargerInterval")
        self.interval.setRange(0.0, 3600.0)
        self.interval.setDecimals(2)
        self.interval.setSuffix(" s")
        self.interval.setValue(float(settings.value("charger/interval", 1.0)))
        self.id_tag = QLineEdit(settings.value("charger/id_tag", "TAG0001"))
        self.id_tag.setObjectName("chargerIdTag")
        self.stay = QCheckBox("stay connected after the session")
        self.stay.setToolTip("keep heartbeating and answering the CSMS, so frames can be sent by hand")
        self.stay.setObjectName("chargerStay")
        self.stay.setChecked(str(settings.value("charger/stay", "true")).lower() == "true")
        self.form.addRow("CSMS URL:", self.csms_url)
        self.form.addRow("Charge point id:", self.charge_point)
        self.form.addRow("OCPP version:", self.version)
        self.form.addRow("Meter values:", self.meter_values)
        self.form.addRow("Interval:", self.interval)
        self.form.addRow("Id tag:", self.id_tag)
        self.form.addRow("", self.stay)
        self.add_security(client_security(settings, "charger"))
        self.start_button.setText("Start charger")
        self.stop_button.setText("Stop selected")
        group = QGroupBox("Fake chargers")
        self.runs_table = QTableWidget(0, 3)
        self.runs_table.setObjectName("chargerRuns")
        self.runs_table.setHorizontalHeaderLabels(["Charge point", "OCPP", "State"])
        self.runs_table.verticalHeader().hide()
        self.runs_table.horizontalHeader().setStretchLastSection(True)
        self.runs_table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.runs_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.runs_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.runs_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.send_button = QPushButton("Send frame…")
        self.send_button.setObjectName("chargerSend")
        self.stop_all = QPushButton("Stop all")
        row = QHBoxLayout()
        row.addWidget(self.send_button)
        row.addStretch(1)
        row.addWidget(self.stop_all)
        box = QVBoxLayout(group)
        box.addWidget(self.runs_table)
        box.addLayout(row)
        self.layout_.addWidget(group, 1)
        self.runs: dict[str, ChargerRun] = {}
        self.send_button.clicked.connect(self._send)
        self.stop_all.clicked.connect(lambda: self.host.spawn(self.shutdown(), "stop chargers"))
        self.runs_table.itemSelectionChanged.connect(self._update_buttons)
        self._update_buttons()

    def full_url(self) -> str:
        base = self.csms_url.text().strip()
        charge_point = self.charge_point.text().strip()
        if not charge_point:
            return base
        return base.rstrip("/") + "/" + quote(charge_point, safe="")

    def save_settings(self) -> None:
        s = self.host.settings
        s.setValue("charger/url", self.csms_url.text())
        s.setValue("charger/charge_point", self.charge_point.text())
        s.setValue("charger/version", self.version.currentText())
        s.setValue("charger/meter_values", self.meter_values.value())
        s.setValue("charger/interval", self.interval.value())
        s.setValue("charger/id_tag", self.id_tag.text())
        s.setValue("charger/stay", "true" if self.stay.isChecked() else "false")
        self.security.save_settings()

    def start(self) -> None:
        self.clear_error()
        if not self.csms_url.text().strip():
            self.fail("enter the CSMS URL, e.g. ws://127.0.0.1:9000/")
            return
        try:
            tls = self.security.client_tls()
            check_tls_url(self.full_url(), tls)
            options = ChargerOptions(url=self.full_url(), version=self.version.currentText(),
                                     id_tag=self.id_tag.text().strip() or "TAG0001",
                                     meter_values=self.meter_values.value(),
                                     interval=self.interval.value(),
                                     password=self.security.password(), tls=tls)
            charger = FakeCharger(self.host.hub, options)
        except ValueError as exc:  # bad URL; TLS files (TlsError is a ValueError)
            self.fail(str(exc))
            return
        existing = self.runs.get(charger.charge_point_id)
        if existing is not None and existing.running:
            self.fail(f"a fake charger {charger.charge_point_id} is already running; stop it first "
                      "or use another charge point id")
            return
        self.save_settings()
        self.host.ensure_capture()
        run = ChargerRun(charger, self.stay.isChecked())
        self.runs[charger.charge_point_id] = run
        self._show_runs(select=charger.charge_point_id)
        run.task = self.host.spawn(self._run(run), f"fake charger {charger.charge_point_id}")

    async def _run(self, run: ChargerRun) -> None:
        charger = run.charger
        name = run.charge_point_id
        try:
            self._set_state(run, "connecting…")
            await charger.connect()
            self._set_state(run, "running session")
            await charger.run_session()
            if not run.stay:
                self._set_state(run, "session complete")
                return
            self._set_state(run, "connected (session complete)")
            keep_alive = asyncio.ensure_future(charger.keep_alive())
            closed = asyncio.ensure_future(charger.endpoint.closed.wait())
            try:
                await asyncio.wait({keep_alive, closed}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                keep_alive.cancel()
                closed.cancel()
            if keep_alive.done() and not keep_alive.cancelled() and keep_alive.exception():
                raise keep_alive.exception()
            self._set_state(run, "disconnected by the CSMS")
        except ChargerError as exc:
            self._set_state(run, "failed")
            self.fail(f"Fake charger {name}: {exc}")
        except asyncio.CancelledError:
            self._set_state(run, "stopped")
            raise
        except Exception as exc:  # noqa: BLE001 - shown to the user as one line
            self._set_state(run, "failed")
            self.fail(f"Fake charger {name}: {describe(exc)}")
        finally:
            try:
                await asyncio.wait_for(charger.close(), 5)
            except Exception:  # noqa: BLE001 - already closed or never connected
                pass
            self._update_buttons()

    def _set_state(self, run: ChargerRun, state: str) -> None:
        run.state = state
        self._show_runs()

    def _show_runs(self, select: str | None = None) -> None:
        runs = list(self.runs.values())
        selected = select or self._selected_name()
        self.runs_table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            for column, text in enumerate((run.charge_point_id, run.charger.version, run.state)):
                item = self.runs_table.item(row, column)
                if item is None:
                    self.runs_table.setItem(row, column, QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)
            if run.charge_point_id == selected and self._selected_name() != selected:
                self.runs_table.selectRow(row)
        self._update_buttons()

    def _selected_name(self) -> str | None:
        rows = self.runs_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.runs_table.item(rows[0].row(), 0)
        return item.text() if item else None

    def selected_run(self) -> ChargerRun | None:
        name = self._selected_name()
        return self.runs.get(name) if name else None

    def _update_buttons(self) -> None:
        run = self.selected_run()
        self.stop_button.setEnabled(run is not None and run.running)
        self.send_button.setEnabled(run is not None and run.connected)
        self.stop_all.setEnabled(any(r.running for r in self.runs.values()))
        running = sum(r.running for r in self.runs.values())
        self.state.setText(f"{running} running" if running else "none running")

    def stop(self) -> None:
        run = self.selected_run()
        if run is not None and run.running:
            run.task.cancel()

    async def shutdown(self) -> None:
        tasks = [run.task for run in self.runs.values() if run.running]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=10)

    @property
    def running(self) -> bool:
        return any(run.running for run in self.runs.values())

    def _send(self) -> None:
        run = self.selected_run()
        if run is not None:
            self.host.open_send_dialog(("charger", run.charge_point_id))

    def send_targets(self) -> list[SendTarget]:
        return [SendTarget(("charger", run.charge_point_id),
                           f"Fake charger {run.charge_point_id} → CSMS (OCPP {run.charger.version})",
                           "to_csms", run.charge_point_id, run.charger.endpoint)
                for run in self.runs.values() if run.connected]

    def refresh(self) -> None:
        self._update_buttons()


class RoleTabs(QTabWidget):
    """One tab per role; each panel scrolls when the dock is shorter than the panel."""

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.setObjectName("roleTabs")
        self.proxy = ProxyPanel(host)
        self.csms = CsmsPanel(host)
        self.charger = ChargerPanel(host)
        from .fleet import FleetPanel  # builds on RolePanel, defined above
        self.fleet = FleetPanel(host)
        self.panels = (self.proxy, self.csms, self.charger, self.fleet)
        self._scrolls: dict[int, QScrollArea] = {}
        for panel, title in zip(self.panels, ("Proxy", "Fake CSMS", "Fake charger", "Fleet")):
            panel.setMinimumWidth(330)
            scroll = QScrollArea()
            scroll.setObjectName(f"{panel.kind}Scroll")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(panel)
            self._scrolls[id(panel)] = scroll
            self.addTab(scroll, title)

    def _page(self, widget):
        return self._scrolls.get(id(widget), widget)

    def setCurrentWidget(self, widget) -> None:  # noqa: N802 - a panel or its tab page
        super().setCurrentWidget(self._page(widget))

    def indexOf(self, widget) -> int:  # noqa: N802
        return super().indexOf(self._page(widget))

    def current_panel(self):
        page = self.currentWidget()
        return page.widget() if isinstance(page, QScrollArea) else page

    def running(self) -> list[str]:
        return [panel.kind for panel in self.panels if panel.running]

    async def shutdown(self) -> None:
        # chargers first, so they close their connections cleanly before the servers go
        for panel in (self.charger, self.fleet, self.proxy, self.csms):
            try:
                await asyncio.wait_for(panel.shutdown(), 10)
            except Exception:  # noqa: BLE001 - stopping must go on
                pass

    def save_settings(self) -> None:
        for panel in self.panels:
            panel.save_settings()

    def send_targets(self) -> list[SendTarget]:
        return self.csms.send_targets() + self.charger.send_targets()

    def on_notice(self, notice) -> None:
        for panel in self.panels:
            if notice.source == panel.kind:
                panel.on_notice(notice)
