"""The Fleet panel: N simulated chargers against a CSMS, with live figures.

Every frame of every member is counted on the fleet's own hub; the
frames of every N-th charger ("Log every N-th charger") are also published to the
window's hub, so they reach the frame log, the capture, the connections view and the
meter plot (role "fleet"). With N = 0 nothing is logged; with N = 1 everything is (fine
for a handful of chargers, heavy for thousands). To follow one charger of a large fleet
set N to the fleet size: only the first (e.g. CP0001) is logged.
"""

from __future__ import annotations

import asyncio
import math
import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QGroupBox,
                               QHBoxLayout,
                               QLabel, QLineEdit, QPlainTextEdit, QSpinBox, QVBoxLayout, QWidget)

from inspector.events import Hub
from inspector.roles.charger_models import BUILT_IN
from inspector.roles.common import check_ws_url
from inspector.roles.fleet import SCENARIOS, Fleet, FleetOptions
from inspector.versions import VERSIONS

from .role_panel import RolePanel
from .fleet_workers import LocustFleet, WorkersRun
from .widgets import ScriptField, describe, error_label, hint_label
from .security import check_tls_url, client_security

REFRESH_MS = 1000
_VALUE_STYLE = "font-size: 15px; font-weight: 600;"
_BAD_PREFIX_CHARACTERS = set("/?#% \t")


def charge_point_ids(prefix: str, count: int, log_every: int, limit: int = 3) -> tuple[list[str], int]:
    """The first `limit` ids the fleet logs with `log_every`, and how many it logs in all."""
    if log_every <= 0:
        return [], 0
    width = max(4, len(str(count)))
    logged = range(0, count, log_every)
    return [f"{prefix}{i + 1:0{width}d}" for i in logged[:limit]], len(logged)


def _seconds(spin: QDoubleSpinBox) -> QDoubleSpinBox:
    spin.setSuffix(" s")
    spin.setDecimals(1)
    spin.setRange(0.0, 7 * 24 * 3600.0)
    spin.setKeyboardTracking(False)
    return spin


def _pair(*widgets) -> QWidget:
    """Several fields on one form row (the dock is narrow)."""
    holder = QWidget()
    row = QHBoxLayout(holder)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        if isinstance(widget, str):
            label = QLabel(widget)
            row.addWidget(label)
        else:
            row.addWidget(widget, 1)
    return holder


class FleetPanel(RolePanel):
    kind = "fleet"

    FIGURES = (("connected", "Connected"), ("booted", "Booted"),
               ("in_transaction", "In transaction"), ("errors", "Errors"),
               ("frames_per_s", "Frames/s"), ("frames", "Frames"),
               ("latency", "Latency p50 / p99"), ("missed", "Missed intervals"))

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        s = host.settings
        self.csms_url = QLineEdit(s.value("fleet/url", "ws://127.0.0.1:9000/"))
        self.csms_url.setObjectName("fleetUrl")
        self.csms_url.setPlaceholderText("ws://127.0.0.1:9000/ (charge point ids are appended)")
        self.count = QSpinBox()
        self.count.setObjectName("fleetCount")
        self.count.setRange(1, 100_000)
        self.count.setValue(int(s.value("fleet/count", 10)))
        self.prefix = QLineEdit(s.value("fleet/prefix", "CP"))
        self.prefix.setObjectName("fleetPrefix")
        self.prefix.setToolTip("charge point ids are the prefix and a number: CP0001, CP0002, …")
        self.version = QComboBox()
        self.version.setObjectName("fleetVersion")
        self.version.addItems(list(VERSIONS))
        self.version.setCurrentText(s.value("fleet/version", VERSIONS[0]))
        self.scenario = QComboBox()
        self.scenario.setObjectName("fleetScenario")
        self.scenario.addItems(list(SCENARIOS))
        self.scenario.setToolTip("idle: boot and heartbeat only; charging: every charger runs "
                                 "sessions; mixed: every other charger does; arrivals: EVs "
                                 "arrive at random with a random battery and SoC, charge and "
                                 "leave when full or when their stay ends; field: sessions that "
                                 "now and then lose the network (30 %, about 10 s), queue, try an "
                                 "unknown card offline, reconnect and deliver")
        self.scenario.setCurrentText(s.value("fleet/scenario", "mixed"))
        self.ramp_up = _seconds(QDoubleSpinBox())
        self.ramp_up.setObjectName("fleetRampUp")
        self.ramp_up.setToolTip("connections are spread evenly over this time")
        self.ramp_up.setValue(float(s.value("fleet/ramp_up", 0.0)))
        self.duration = _seconds(QDoubleSpinBox())
        self.duration.setObjectName("fleetDuration")
        self.duration.setMinimum(0.5)
        self.duration.setValue(float(s.value("fleet/duration", 60.0)))
        self.meter_interval = _seconds(QDoubleSpinBox())
        self.meter_interval.setObjectName("fleetMeterInterval")
        self.meter_interval.setDecimals(2)
        self.meter_interval.setMinimum(0.05)
        self.meter_interval.setValue(float(s.value("fleet/meter_interval", 10.0)))
        self.arrival_mean = _seconds(QDoubleSpinBox())
        self.arrival_mean.setObjectName("fleetArrivalMean")
        self.arrival_mean.setToolTip("arrivals: mean time between one EV leaving a charger and "
                                     "the next arriving (random, exponential)")
        self.arrival_mean.setValue(float(s.value("fleet/arrival_mean", 20.0)))
        self.heartbeat = QLineEdit(str(s.value("fleet/heartbeat", "")))
        self.heartbeat.setObjectName("fleetHeartbeat")
        self.heartbeat.setPlaceholderText("as granted")
        self.heartbeat.setToolTip("seconds between Heartbeats; blank: the interval the CSMS "
                                  "grants in its BootNotification answer")
        self.log_every = QSpinBox()
        self.log_every.setObjectName("fleetLogEvery")
        self.log_every.setRange(0, 100_000)
        self.log_every.setSpecialValueText("none")
        self.log_every.setValue(int(s.value("fleet/log_every", 0)))
        self.log_every.setToolTip(
            "publish the frames of every N-th charger to the frame log, the capture and the "
            "plot (0: none). Every frame is counted either way. To follow one charger of a "
            "large fleet, set N to the fleet size: only the first one is logged.")
        self.logged_hint = hint_label()
        self.logged_hint.setObjectName("fleetLoggedHint")
        self.form.addRow("CSMS URL:", self.csms_url)
        self.form.addRow("Chargers:", _pair(self.count, "Prefix:", self.prefix))
        self.form.addRow("OCPP version:", _pair(self.version, "Scenario:", self.scenario))
        self.model = QComboBox()
        self.model.setObjectName("fleetModel")
        for name, model in BUILT_IN.items():
            self.model.addItem(f"{name} — {model.summary()}", name)
        self.model.setToolTip("the chargers' model (charger --list-models)")
        self.model.setCurrentIndex(max(0, self.model.findData(s.value("fleet/model", "ac-7kw"))))
        self.form.addRow("Model:", self.model)
        self.form.addRow("Ramp-up:", _pair(self.ramp_up, "Duration:", self.duration))
        self.form.addRow("Meter every:", _pair(self.meter_interval, "Heartbeat:", self.heartbeat))
        self.form.addRow("EVs arrive every:", self.arrival_mean)
        self.script = ScriptField(s, "fleet/script", "charger",
                                  "optional: every charger runs run(cp) instead of the scenario")
        self.form.addRow("Script:", self.script)
        self.form.addRow("Log every N-th:", self.log_every)
        # more chargers than this window's process holds: Locust workers (fleet --workers)
        self.processes = QSpinBox()
        self.processes.setObjectName("fleetProcesses")
        self.processes.setRange(0, 64)
        self.processes.setSpecialValueText("this window")
        self.processes.setValue(int(s.value("fleet/processes", 0)))
        self.processes.setToolTip("0: the chargers run in this window (their frames in the "
                                  "log). N: on N Locust worker processes (fleet --workers N), "
                                  "for thousands of chargers; each worker logs every N-th of its "
                                  "chargers to its own capture")
        self.locust_web = QCheckBox("Locust web UI")
        self.locust_web.setObjectName("fleetLocustWeb")
        self.locust_web.setToolTip("with processes: Locust's web UI at http://127.0.0.1:8089/")
        self.form.addRow("", self.logged_hint)
        self.form.addRow("Processes:", _pair(self.processes, self.locust_web))
        self.workers_run: WorkersRun | None = None  # the fleet on Locust workers, running
        self.add_security(client_security(s, "fleet"))
        self.inputs += [self.csms_url, self.count, self.prefix, self.version, self.scenario,
                        self.model,
                        self.ramp_up, self.duration, self.meter_interval, self.heartbeat,
                        self.arrival_mean, self.log_every, self.script, self.processes,
                        self.locust_web]
        self.start_button.setText("Start fleet")
        self._build_figures()
        self.fleet: Fleet | None = None
        self.task: asyncio.Task | None = None
        self.last_summary: dict | None = None
        self._stopping = False
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh_figures)
        for signal in (self.count.valueChanged, self.log_every.valueChanged,
                       self.prefix.textChanged):
            signal.connect(self._update_logged_hint)
        self._update_logged_hint()

    def _build_figures(self) -> None:
        group = QGroupBox("Live figures")
        group.setObjectName("fleetFigures")
        grid = QGridLayout(group)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        self.figures: dict[str, QLabel] = {}
        for i, (key, title) in enumerate(self.FIGURES):
            tile = QWidget()
            column = QVBoxLayout(tile)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(0)
            caption = QLabel(title)
            caption.setStyleSheet("color: #666; font-size: 11px;")
            value = QLabel("–")
            value.setObjectName("fleet_" + key)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setStyleSheet(_VALUE_STYLE)
            column.addWidget(caption)
            column.addWidget(value)
            row, col = divmod(i, 2)
            grid.addWidget(tile, row, col)
            self.figures[key] = value
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self.last_error = error_label("fleetLastError")
        grid.addWidget(self.last_error, grid.rowCount(), 0, 1, 2)
        self.summary_view = QPlainTextEdit()
        self.summary_view.setObjectName("fleetSummary")
        self.summary_view.setReadOnly(True)
        self.summary_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.summary_view.setMinimumHeight(80)
        self.summary_view.hide()  # shown with the summary when a fleet ends
        self.layout_.addWidget(group)
        self.layout_.addWidget(self.summary_view, 1)
        self.layout_.addStretch(0)

    # ---- inputs --------------------------------------------------------------------------

    def _update_logged_hint(self) -> None:
        count, every = self.count.value(), self.log_every.value()
        prefix = self.prefix.text().strip() or "CP"
        first, total = charge_point_ids(prefix, count, every)
        if not total:
            text = "no charger's frames are logged (all are counted)"
        else:
            more = ", …" if total > len(first) else ""
            text = f"logs {', '.join(first)}{more} ({total:,} of {count:,})"
        self.logged_hint.setText(text)

    def heartbeat_interval(self) -> float | None:
        text = self.heartbeat.text().strip()
        if not text:
            return None
        try:
            value = float(text.replace(",", "."))
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"heartbeat interval {text!r}: enter seconds (> 0), or leave it blank "
                             "for the interval the CSMS grants")
        return value

    def options(self) -> FleetOptions:
        """The fleet's options from the fields; ValueError with a readable message."""
        url = self.csms_url.text().strip()
        if not url:
            raise ValueError("enter the CSMS URL, e.g. ws://127.0.0.1:9000/")
        check_ws_url(url)
        prefix = self.prefix.text().strip() or "CP"
        bad = sorted(_BAD_PREFIX_CHARACTERS & set(prefix))
        if bad:
            raise ValueError(f"the prefix {prefix!r} may not contain {' '.join(map(repr, bad))}")
        tls = self.security.client_tls()
        check_tls_url(url, tls)
        return FleetOptions(url=url, count=self.count.value(), version=self.version.currentText(),
                            prefix=prefix, ramp_up=self.ramp_up.value(),
                            duration=self.duration.value(), scenario=self.scenario.currentText(),
                            meter_interval=self.meter_interval.value(),
                            heartbeat_interval=self.heartbeat_interval(),
                            password=self.security.password(), tls=tls,
                            model=BUILT_IN[self.model.currentData()],
                            arrival_mean=self.arrival_mean.value(), script=self.script.load())

    def save_settings(self) -> None:
        s = self.host.settings
        s.setValue("fleet/url", self.csms_url.text())
        self.script.save()
        s.setValue("fleet/count", self.count.value())
        s.setValue("fleet/prefix", self.prefix.text())
        s.setValue("fleet/version", self.version.currentText())
        s.setValue("fleet/scenario", self.scenario.currentText())
        s.setValue("fleet/arrival_mean", self.arrival_mean.value())
        s.setValue("fleet/model", self.model.currentData())
        s.setValue("fleet/ramp_up", self.ramp_up.value())
        s.setValue("fleet/duration", self.duration.value())
        s.setValue("fleet/meter_interval", self.meter_interval.value())
        s.setValue("fleet/heartbeat", self.heartbeat.text())
        s.setValue("fleet/log_every", self.log_every.value())
        s.setValue("fleet/processes", self.processes.value())
        self.security.save_settings()  # file paths; never the password

    # ---- run -----------------------------------------------------------------------------

    def start(self) -> None:
        if self.fleet is not None or (self.workers_run is not None and self.workers_run.running):
            return
        self.clear_error()
        if self.processes.value():
            self.workers_run = LocustFleet(self).start()
            return
        try:
            options = self.options()
            fleet = Fleet(Hub(), options, log_every=self.log_every.value(),
                          log_hub=self.host.hub)
        except ValueError as exc:  # bad URL, prefix, heartbeat, TLS files
            self.fail(str(exc))
            return
        self.save_settings()
        if self.log_every.value():
            self.host.ensure_capture()
        self.fleet = fleet
        self.last_summary = None
        self._stopping = False
        self.summary_view.clear()
        self.summary_view.hide()
        self.last_error.hide()
        self.set_running(True, "starting…")
        self.refresh_figures()
        self.timer.start()
        self.host.note("info", f"fleet of {options.count} chargers ({options.scenario}, OCPP "
                       f"{options.version}) for {options.duration:g} s against {options.url}",
                       self.kind)
        self.task = self.host.spawn(self._run(fleet), "fleet")
        # a task cancelled before its first step never runs `_run`'s cleanup: do it here
        self.task.add_done_callback(lambda _task: self._finish(fleet, None)
                                    if self.fleet is fleet else None)

    async def _run(self, fleet: Fleet) -> None:
        failure = None
        try:
            await self.host.on_roles(fleet.run())
        except asyncio.CancelledError:  # Stop, or the window closes
            self._stopping = True
        except Exception as exc:  # noqa: BLE001 - shown as one line
            failure = f"Fleet: {describe(exc)}"
        finally:
            self.timer.stop()
            self._finish(fleet, failure)

    def _finish(self, fleet: Fleet, failure: str | None) -> None:
        self.timer.stop()
        summary = fleet.stats.summary()
        self.refresh_figures()
        self.last_summary = summary
        self.fleet = None
        self.task = None
        self.figures["frames_per_s"].setText(f"{summary['frames_per_s']:,.1f} avg")
        self.summary_view.setPlainText(summary_text(summary, fleet.options.count))
        self.summary_view.show()
        count = fleet.options.count
        how = "stopped" if self._stopping else "finished"
        self.set_running(False, f"{how} after {summary['elapsed_s']:g} s: {summary['booted']} of "
                                f"{count} booted, {summary['frames']:,} frames, "
                                f"{summary['errors']} errors")
        try:
            self.host.note("info", f"fleet {how}: " + summary_text(summary, count).replace(
                "\n", "; "), self.kind)
        except RuntimeError:  # the window is gone
            return
        last = summary["last_errors"][-1] if summary["last_errors"] else None
        if failure is None and not self._stopping:
            if summary["booted"] < count:
                failure = (f"Fleet: only {summary['booted']} of {count} chargers booted"
                           + (f"; last error: {last}" if last else ""))
            elif summary["errors"]:
                failure = f"Fleet: {summary['errors']} errors; last: {last}"
        if failure:
            self.fail(failure)

    def refresh_figures(self) -> None:
        fleet = self.fleet
        if fleet is None:
            return
        stats = fleet.stats
        p50, p99 = stats.percentile(0.5), stats.percentile(0.99)
        values = {
            "connected": f"{stats.connected:,}", "booted": f"{stats.booted:,}",
            "in_transaction": f"{stats.in_transaction:,}", "errors": f"{stats.errors:,}",
            "frames_per_s": f"{stats.frames_per_second():,.1f}",
            "latency": "–" if p50 is None else f"{p50:.1f} / {p99:.1f} ms",
            "missed": f"{stats.missed_intervals:,} (max {stats.max_lateness_s:.2f} s late)",
            "frames": f"{stats.frames:,}",
        }
        for key, text in values.items():
            label = self.figures[key]
            if label.text() != text:
                label.setText(text)
        self.figures["errors"].setStyleSheet(
            _VALUE_STYLE + (" color: #b00020;" if stats.errors else ""))
        if stats.last_errors:
            self.last_error.setText(f"last error: {stats.last_errors[-1]}")
            self.last_error.show()
        if self.task is not None and not self._stopping:
            elapsed = time.monotonic() - stats.started
            self.state.setText(f"running: {elapsed:,.0f} s of {fleet.options.duration:g} s")

    def stop(self) -> None:
        if self.workers_run is not None and self.workers_run.running:
            self._stopping = True
            self.set_running(True, "stopping…")
            self.stop_button.setEnabled(False)
            self.workers_run.stop()
            return
        if self.task is None or self.task.done():
            return
        self._stopping = True
        self.set_running(True, "stopping…")
        self.stop_button.setEnabled(False)
        self.task.cancel()

    async def shutdown(self) -> None:
        if self.workers_run is not None and self.workers_run.running:
            self._stopping = True
            self.workers_run.stop()
            self.workers_run.process.waitForFinished(20000)
        task = self.task
        if task is None or task.done():
            return
        self._stopping = True
        task.cancel()
        await asyncio.wait({task}, timeout=10)

    @property
    def running(self) -> bool:
        return (self.task is not None and not self.task.done()) or \
            (self.workers_run is not None and self.workers_run.running)


def summary_text(summary: dict, count: int) -> str:
    """The fleet's summary as a person reads it (the --json keys stay for machines)."""
    def ms(value) -> str:
        return "–" if value is None else f"{value:,.1f} ms"
    lines = [
        f"Ran {summary['elapsed_s']:,.1f} s: {summary['booted']:,} of {count:,} chargers booted, "
        f"{summary['connected']:,} still connected",
        *([f"Offline {summary['offline_periods']:,} time(s): {summary['queued']:,} message(s) "
           f"queued, {summary['delivered']:,} delivered, {summary['refused_offline']:,} unknown "
           f"card(s) refused"
           + (f"; ⚠ {summary['dropped']:,} refused by the CSMS and dropped (lost)"
              if summary.get("dropped") else "")] if summary.get("offline_periods") else []),
        f"Sessions completed {summary['sessions_completed']:,}"
        + (f" ({summary['evs_left_full']:,} EVs left full)" if summary.get("evs_left_full") else "")
        + f", in a transaction at the end {summary['in_transaction']:,}",
        f"Frames {summary['frames']:,} ({summary['frames_per_s']:,.1f} per second)",
        f"Reply latency p50 {ms(summary['latency_p50_ms'])}, p99 {ms(summary['latency_p99_ms'])}",
        f"Missed intervals {summary['missed_intervals']:,} (at most {summary['max_lateness_s']:.2f} s "
        f"late)",
        f"Errors {summary['errors']:,}",
    ]
    lines += [f"  error: {line}" for line in summary["last_errors"]]
    return "\n".join(lines)
