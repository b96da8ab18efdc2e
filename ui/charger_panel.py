"""The Fake charger panel: start simulated chargers one by one and follow each run."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDoubleSpinBox,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from inspector.roles.charger import ChargerError, ChargerOptions, FakeCharger
from inspector.roles.charger_faults import FAULTS
from inspector.roles.charger_models import BUILT_IN
from inspector.roles.driver import Driver
from inspector.roles.station import make_charger
from inspector.scripting import ScriptError, run_charger_script
from inspector.versions import VERSIONS

from .role_panel import RolePanel, SendTarget
from .security import check_tls_url, client_security
from .widgets import ScriptField, describe


class ChargerRun:
    def __init__(self, charger: FakeCharger, stay: bool):
        self.charger = charger
        self.stay = stay
        self.task: asyncio.Task | None = None
        self.state = "starting"
        # the person at the charger (a station: at its first connector) for Plug in,
        # Present card and Unplug once the scripted session is over
        self.driver = Driver(getattr(charger, "lead", charger))
        self.session_done = False
        self.script = None  # inspector.scripting.Script run instead of the session

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
        self.model = QComboBox()
        self.model.setObjectName("chargerModel")
        for name, model in BUILT_IN.items():
            self.model.addItem(f"{name} — {model.summary()}", name)
        self.model.setToolTip("what the charger is: vendor, model and firmware in its boot, the "
                              "power it draws (charger --list-models; a JSON model: --model FILE)")
        self.model.setCurrentIndex(max(0, self.model.findData(settings.value("charger/model",
                                                                             "ac-7kw"))))
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
        self.interval.setToolTip("seconds between sampled meter values: the charger's "
                                 "MeterValueSampleInterval (1.6) / TxUpdatedInterval (2.0.1), "
                                 "which the CSMS may change; clock-aligned values follow "
                                 "ClockAlignedDataInterval / AlignedDataCtrlr.Interval")
        self.id_tag = QLineEdit(settings.value("charger/id_tag", "TAG0001"))
        self.id_tag.setObjectName("chargerIdTag")
        self.stay = QCheckBox("stay connected after the session")
        self.stay.setToolTip("keep heartbeating and answering the CSMS, so frames can be sent by hand")
        self.stay.setObjectName("chargerStay")
        self.stay.setChecked(str(settings.value("charger/stay", "true")).lower() == "true")
        self.form.addRow("CSMS URL:", self.csms_url)
        self.form.addRow("Charge point id:", self.charge_point)
        self.form.addRow("OCPP version:", self.version)
        self.form.addRow("Model:", self.model)
        # the EV: battery, state of charge at plug-in and where it stops drawing (SuspendedEV)
        self.battery = QDoubleSpinBox()
        self.battery.setObjectName("chargerBattery")
        self.battery.setRange(0.1, 1000.0)
        self.battery.setDecimals(1)
        self.battery.setSuffix(" kWh")
        self.battery.setValue(float(settings.value("charger/battery", 60.0)))
        self.soc = QSpinBox()
        self.soc.setObjectName("chargerSoc")
        self.soc.setRange(0, 100)
        self.soc.setSuffix(" %")
        self.soc.setValue(int(settings.value("charger/soc", 20)))
        self.target_soc = QSpinBox()
        self.target_soc.setObjectName("chargerTargetSoc")
        self.target_soc.setRange(0, 100)
        self.target_soc.setSuffix(" %")
        self.target_soc.setValue(int(settings.value("charger/target_soc", 100)))
        soc = QHBoxLayout()
        soc.setContentsMargins(0, 0, 0, 0)
        for widget, stretch in ((self.soc, 1), (QLabel("at plug-in, stops at"), 0),
                                (self.target_soc, 1)):
            soc.addWidget(widget, stretch)
        soc_row = QWidget()
        soc_row.setLayout(soc)
        self.form.addRow("EV battery:", self.battery)
        self.form.addRow("EV SoC:", soc_row)
        self.form.addRow("Meter values:", self.meter_values)
        self.form.addRow("Interval:", self.interval)
        self.form.addRow("Id tag:", self.id_tag)
        self.form.addRow("", self.stay)
        self.script = ScriptField(host.settings, "charger/script", "charger",
                                  "optional: run(cp) in Python instead of the session")
        self.form.addRow("Script:", self.script)
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
        # a hardware fault on the selected charger, and its recovery (inspector/roles/charger_faults.py)
        self.fault_code = QComboBox()
        self.fault_code.setObjectName("chargerFaultCode")
        self.fault_code.addItems(sorted(FAULTS))
        self.fault_code.setCurrentText("GroundFailure")
        self.fault_button = QPushButton("Fault")
        self.fault_button.setObjectName("chargerFault")
        self.fault_button.setToolTip("the selected charger faults with this error code: a running "
                                     "transaction ends, the connector reports Faulted")
        self.recover_button = QPushButton("Recover")
        self.recover_button.setObjectName("chargerRecover")
        self.recover_button.setToolTip("the selected charger's connector is Available again")
        faults = QHBoxLayout()
        faults.addWidget(self.fault_code, 1)
        faults.addWidget(self.fault_button)
        faults.addWidget(self.recover_button)
        # a network loss on the selected charger (inspector/roles/charger_offline.py)
        self.offline_for = QSpinBox()
        self.offline_for.setObjectName("chargerOfflineFor")
        self.offline_for.setRange(1, 86_400)
        self.offline_for.setValue(30)
        self.offline_for.setSuffix(" s")
        self.offline_for.setToolTip("how long the selected charger stays offline")
        self.offline_button = QPushButton("Go offline")
        self.offline_button.setObjectName("chargerOffline")
        self.offline_button.setToolTip(
            "cut the selected charger's connection as a network loss does: its transaction "
            "goes on, transaction messages are queued, then it reconnects and delivers them")
        self.online_button = QPushButton("Back online")
        self.online_button.setObjectName("chargerOnline")
        self.online_button.setToolTip("end the offline time now: reconnect and deliver the queue")
        network = QHBoxLayout()
        network.addWidget(QLabel("Network loss:"))
        network.addWidget(self.offline_for, 1)
        network.addWidget(self.offline_button)
        network.addWidget(self.online_button)
        # the EV side by hand, after the session: plug in, present the card, unplug
        self.plug_button = QPushButton("Plug in")
        self.plug_button.setObjectName("chargerPlugIn")
        self.plug_button.setToolTip("plug the cable into the selected charger (connector 1); a "
                                    "card presented before starts charging now")
        self.card_button = QPushButton("Present card")
        self.card_button.setObjectName("chargerPresentCard")
        self.card_button.setToolTip("present the Id tag above: starts charging when the cable is "
                                    "in, stops a running transaction")
        self.unplug_button = QPushButton("Unplug")
        self.unplug_button.setObjectName("chargerUnplug")
        self.unplug_button.setToolTip("unplug the cable (a running transaction ends: EVDisconnected)")
        ev = QHBoxLayout()
        ev.addWidget(QLabel("EV:"))
        ev.addStretch(1)
        for button in (self.plug_button, self.card_button, self.unplug_button):
            ev.addWidget(button)
        # what the CSMS installed on the selected charger: local list, cache, firmware
        self.device_state = QLabel("")
        self.device_state.setObjectName("chargerDeviceState")
        self.device_state.setWordWrap(True)
        self.device_state.setStyleSheet("color: #555555")
        box = QVBoxLayout(group)
        box.addWidget(self.runs_table)
        box.addLayout(row)
        box.addLayout(faults)
        box.addLayout(ev)
        box.addLayout(network)
        box.addWidget(self.device_state)
        self.layout_.addWidget(group, 1)
        self.runs: dict[str, ChargerRun] = {}
        self.send_button.clicked.connect(self._send)
        self.fault_button.clicked.connect(self._fault)
        self.recover_button.clicked.connect(self._recover)
        self.offline_button.clicked.connect(self._go_offline)
        self.plug_button.clicked.connect(lambda: self._drive("plug"))
        self.card_button.clicked.connect(lambda: self._drive("card"))
        self.unplug_button.clicked.connect(lambda: self._drive("unplug"))
        self.online_button.clicked.connect(self._come_online)
        self.stop_all.clicked.connect(lambda: self.host.spawn(self.shutdown(), "stop chargers"))
        self.runs_table.itemSelectionChanged.connect(self._update_buttons)
        self.runs_table.itemSelectionChanged.connect(self._show_device_state)
        self._update_buttons()
        # an offline charger comes back by itself: its row and the buttons follow
        self._network_timer = QTimer(self)
        self._network_timer.setInterval(1000)
        self._network_timer.timeout.connect(self._follow_network)
        self._network_timer.start()

    def _show_device_state(self) -> None:
        run = self.selected_run()
        if run is None:
            self.device_state.setText("")
            return
        charger = getattr(run.charger, "lead", run.charger)  # a station: its first connector's
        self.device_state.setText(device_state_text(charger))

    def _follow_network(self) -> None:
        self._show_device_state()
        changed = False
        for run in self.runs.values():
            charger = run.charger
            if not charger.options.reconnect or not run.running:
                continue
            if not run.connected:
                state = f"offline: {len(charger.queue)} message(s) queued"
            elif run.state.startswith(("offline", "reconnecting")):
                state = f"back online: {charger.delivered} queued message(s) delivered" + (
                    f", ⚠ {charger.dropped} refused by the CSMS and dropped" if charger.dropped else "")
            else:
                continue
            if state != run.state:
                run.state, changed = state, True
        if changed:
            self._show_runs()
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
        s.setValue("charger/model", self.model.currentData())
        s.setValue("charger/battery", self.battery.value())
        s.setValue("charger/soc", self.soc.value())
        s.setValue("charger/target_soc", self.target_soc.value())
        s.setValue("charger/meter_values", self.meter_values.value())
        s.setValue("charger/interval", self.interval.value())
        s.setValue("charger/id_tag", self.id_tag.text())
        s.setValue("charger/stay", "true" if self.stay.isChecked() else "false")
        self.script.save()
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
                                     password=self.security.password(), tls=tls,
                                     model=BUILT_IN[self.model.currentData()],
                                     battery_kwh=self.battery.value(), soc=self.soc.value(),
                                     target_soc=max(self.soc.value(), self.target_soc.value()))
            charger = make_charger(self.host.hub, options)
            script = self.script.load()
        except ValueError as exc:  # bad URL; TLS files (TlsError is a ValueError); script
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
        run.script = script
        self.runs[charger.charge_point_id] = run
        self._show_runs(select=charger.charge_point_id)
        run.task = self.host.spawn(self._run(run), f"fake charger {charger.charge_point_id}")

    async def _run(self, run: ChargerRun) -> None:
        charger = run.charger
        name = run.charge_point_id
        try:
            if run.script is not None:
                self._set_state(run, f"running {run.script.path.name}")
                await self.host.on_roles(run_charger_script(charger, run.script))
            else:
                self._set_state(run, "connecting…")
                await self.host.on_roles(charger.connect())
                self._set_state(run, "running session")
                await self.host.on_roles(charger.run_session())
            if not run.stay:
                self._set_state(run, "session complete")
                return
            self._set_state(run, "connected (session complete)")
            run.session_done = True
            self._update_buttons()
            await self.host.on_roles(_stay_connected(charger, run.driver))
            self._set_state(run, "disconnected by the CSMS")
        except (ChargerError, ScriptError) as exc:
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
                await asyncio.wait_for(self.host.on_roles(charger.close()), 5)
            except Exception:  # noqa: BLE001 - already closed or never connected
                pass
            self._update_buttons()

    def _set_state(self, run: ChargerRun, state: str) -> None:
        run.state = state
        self._show_runs()
        self._show_device_state()

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
        self.fault_button.setEnabled(run is not None and run.connected)
        self.recover_button.setEnabled(run is not None and run.connected
                                       and run.charger.fault_code is not None)
        self.offline_button.setEnabled(run is not None and run.connected)
        by_hand = run is not None and run.running and run.session_done
        for button in (self.plug_button, self.card_button, self.unplug_button):
            button.setEnabled(by_hand)
        self.online_button.setEnabled(run is not None and run.running and not run.connected
                                      and run.charger.options.reconnect)
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

    def _fault(self) -> None:
        run = self.selected_run()
        if run is not None and run.connected:
            code = self.fault_code.currentText()
            self.host.spawn(self._on_charger(run, run.charger.fault(code), f"faulted: {code}"),
                            f"fault on {run.charge_point_id}")

    def _recover(self) -> None:
        run = self.selected_run()
        if run is not None and run.connected:
            self.host.spawn(self._on_charger(run, run.charger.recover(), None),
                            f"recovery of {run.charge_point_id}")

    def _go_offline(self) -> None:
        run = self.selected_run()
        if run is not None and run.connected:
            seconds = self.offline_for.value()
            self.host.spawn(self._on_charger(run, run.charger.go_offline(seconds),
                                             f"offline for {seconds} s (queueing)"),
                            f"network loss on {run.charge_point_id}")

    def _drive(self, what: str) -> None:
        run = self.selected_run()
        if run is None or not (run.running and run.session_done):
            return
        driver = run.driver
        if what == "plug":
            coroutine, verb = driver.plug_in(), "plug-in"
        elif what == "card":
            coroutine, verb = driver.present_card(self.id_tag.text().strip() or None), "card"
        else:
            coroutine, verb = driver.unplug(), "unplug"
        self.host.spawn(self._driven(run, coroutine, what), f"{verb} at {run.charge_point_id}")

    async def _driven(self, run: ChargerRun, coroutine, what: str) -> None:
        result = await self.host.on_roles(coroutine)
        if what == "plug":
            text = "charging" if run.driver.charger.transaction_id is not None else "cable plugged in"
        elif what == "unplug":
            text = "cable unplugged"
        else:
            text = {"started": "charging", "stopped": "transaction stopped",
                    "authorized": "card accepted: plug in to start"}.get(result, f"card refused: {result}")
        self._set_state(run, text)

    def _come_online(self) -> None:
        run = self.selected_run()
        if run is not None:
            async def now():
                run.charger.come_online()
            self.host.spawn(self._on_charger(run, now(), "reconnecting…"),
                            f"reconnection of {run.charge_point_id}")

    async def _on_charger(self, run: ChargerRun, coroutine, state: str | None) -> None:
        await self.host.on_roles(coroutine)
        if state:
            self._set_state(run, state)
        self._update_buttons()

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


async def _stay_connected(charger, driver: Driver) -> None:
    """Heartbeats until the CSMS closes the connection (on the roles' loop); a charger that
    went offline on purpose (or reconnects) waits to be back and carries on. A transaction
    started by hand sends sampled meter values meanwhile (the driver's metering)."""
    keep_alive = asyncio.ensure_future(charger.keep_alive())
    metering = asyncio.ensure_future(driver.metering())
    keep_alive.add_done_callback(lambda _: metering.cancel())
    try:
        while not keep_alive.done():
            closed = asyncio.ensure_future(charger.endpoint.closed.wait())
            await asyncio.wait({keep_alive, closed}, return_when=asyncio.FIRST_COMPLETED)
            closed.cancel()
            if keep_alive.done() or not charger.options.reconnect:
                break
            await charger.back_online.wait()  # offline: reconnecting, delivering its queue
    finally:
        keep_alive.cancel()
        metering.cancel()
    if keep_alive.done() and not keep_alive.cancelled() and keep_alive.exception():
        raise keep_alive.exception()


def device_state_text(charger) -> str:
    """One line on what a CSMS set up on a fake charger: its Local Authorization List
    (version and cards), its authorization cache and its firmware."""
    listed = len(charger.local_list)
    version = charger.local_list_version if listed else 0  # an empty list is version 0
    return (f"Local list v{version}: {listed} card(s) · cache: {len(charger.auth_cache)} card(s) · "
            f"firmware {charger.firmware} ({charger.firmware_status})")
