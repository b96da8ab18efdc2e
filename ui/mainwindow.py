"""The main window: roles on the left, the frame log in the middle, details below.

Threads: the roles run on their own event loop in a worker thread (`self.engine`,
inspector/loop_thread.py), so painting never delays an answer to a charger; the Qt thread
runs qasync for the window's own coroutines and reaches the roles with `on_roles`.

Data flow: the hub calls `_on_event` on the roles' thread; it only appends to a deque. A
50 ms timer on the Qt thread takes the whole deque, turns it into store rows in one go
(`SessionData.ingest`) and announces the batch on the session model
(ui/session_model.py), whose signals the views subscribe to — the same signals an opened
capture's chunks go through — so the UI cost is per batch, not per frame.

The menus and frame actions live in window_actions.py, the capture file actions in
captures.py; both are mixins of `MainWindow`.
"""

from __future__ import annotations

import asyncio
from collections import deque
import logging
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (QDockWidget, QLabel, QMainWindow, QMessageBox, QPlainTextEdit,
                               QSplitter, QTabWidget)

import inspector
from inspector.events import Hub
from inspector.loop_thread import LoopThread, call_in
from inspector.store import CaptureWriter, default_capture_path

from .app import app_icon
from .captures import CaptureActions, backup_capture
from .collector import QtThreadCollector
from .connections import ConnectionsView
from .detail import DetailPane
from .framelog import FrameLog
from .lag import LagMeter
from .model import FrameTableModel
from .plot import MeterPlot
from .profiles_view import ChargingProfilesView
from .roles import RoleTabs, SendTarget, describe
from .send import SendFrameDialog
from .session import SessionData
from .session_model import SessionModel
from .suites import SuitesTab
from .window_actions import WindowActions

__all__ = ["MainWindow", "BATCH_INTERVAL_MS", "backup_capture"]

log = logging.getLogger(__name__)
BATCH_INTERVAL_MS = 50


class MainWindow(WindowActions, CaptureActions, QMainWindow):
    finished = Signal()  # after a clean shutdown

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *,
                 settings: QSettings | None = None, capture_path: Path | None = None,
                 hub: Hub | None = None):
        super().__init__()
        self.loop = loop or asyncio.get_event_loop()
        self.settings = settings if settings is not None else QSettings()
        self.capture_path = Path(capture_path) if capture_path else None
        self.hub = hub or Hub()
        self.writer: CaptureWriter | None = None
        self.live = SessionData("live session")
        self.frames_total = 0
        self._pending: deque = deque()  # hub events not yet shown (append/popleft: thread-safe)
        self._tasks: set[asyncio.Task] = set()
        self._closing = self._closed = False
        self._rate_count, self._rate_time, self.rate = 0, time.monotonic(), 0.0
        self.error_box: QMessageBox | None = None
        self.errors: list[str] = []  # every error reported in this window (the smoke test reads it)
        self._capture_error_reported = False
        self.about_box: QMessageBox | None = None
        self.send_dialog: SendFrameDialog | None = None
        self._loading: asyncio.Task | None = None
        self._merged_folder = None  # captures opened together are merged here (File › Open)
        self._unsubscribe = self.hub.subscribe(self._on_event)
        # before the roles' thread exists: no cyclic collection may run there (ui/collector.py)
        self.collector = QtThreadCollector(self)
        self.engine = LoopThread("ocpp-roles").start()  # where every role runs
        self.engine.on_error = call_in(self.loop, lambda text: self.report_error(
            f"Unexpected error: {text}"))
        self._build()
        self._restore()
        self._batch_timer = QTimer(self)
        self._batch_timer.setInterval(BATCH_INTERVAL_MS)
        self._batch_timer.timeout.connect(self.drain)
        self._batch_timer.start()
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(1000)
        self._stats_timer.timeout.connect(self._update_stats)
        self._stats_timer.start()
        self.lag = LagMeter(self)  # the window's own responsiveness (benchmarks/gui_load.py)
        self._update_title()
        self._update_stats()

    # ---- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.setObjectName("mainWindow")
        self.icon = app_icon()
        if not self.icon.isNull():
            self.setWindowIcon(self.icon)
        self.model = FrameTableModel(self.live.store, self)
        self.log = FrameLog(self.model)
        self.detail = DetailPane()
        self.connections = ConnectionsView()
        self.plot = MeterPlot()
        self.plot.set_data(self.live.meters, self.live.stations.colours)
        self.messages = QPlainTextEdit()
        self.messages.setObjectName("messages")
        self.messages.setReadOnly(True)
        self.messages.setMaximumBlockCount(5000)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("bottomTabs")
        self.tabs.addTab(self.detail, "Detail")
        self.tabs.addTab(self.connections, "Connections")
        self.tabs.addTab(self.plot, "Meter values")
        self.profiles_view = ChargingProfilesView()
        self.tabs.addTab(self.profiles_view, "Charging profiles")
        self.tabs.addTab(self.messages, "Messages")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.log)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        # conformance runs get the whole main area: results, reasons and the case's
        # description need the height a bottom tab cannot give
        self.suites = SuitesTab(self)  # ui/suites.py
        self.main_tabs = QTabWidget()
        self.main_tabs.setObjectName("mainTabs")
        self.main_tabs.setDocumentMode(True)
        self.main_tabs.addTab(self.splitter, "Frames")
        self.main_tabs.addTab(self.suites, "Conformance suites")
        self.setCentralWidget(self.main_tabs)
        self.roles = RoleTabs(self)
        self.roles_dock = QDockWidget("Roles", self)
        self.roles_dock.setObjectName("rolesDock")
        self.roles_dock.setWidget(self.roles)
        self.roles_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                    | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                                    | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.roles_dock)
        self._sized = False
        self.status_view = QLabel()
        self.status_frames = QLabel()
        self.status_frames.setObjectName("statusFrames")
        self.status_capture = QLabel()
        self.status_capture.setObjectName("statusCapture")
        self.status_capture.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = self.statusBar()
        bar.addPermanentWidget(self.status_view)
        bar.addPermanentWidget(self.status_frames)
        bar.addPermanentWidget(self.status_capture)
        self._set_capture_label()
        self.session_model = SessionModel(self.live, self)
        self._subscribe_views()
        self.log.selected.connect(self._show_detail)
        self.detail.resend_requested.connect(self.resend_row)
        self.log.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.log.table.customContextMenuRequested.connect(self._table_menu)
        self._build_menus()
        self.resize(1400, 900)

    def _subscribe_views(self) -> None:
        """Each view listens to the session model for what it shows."""
        session = self.session_model
        session.session_replaced.connect(self._session_shown)
        session.rows_appended.connect(self.model.rows_appended)
        session.rows_appended.connect(self.log.rows_appended)
        session.rows_appended.connect(self._complete_detail)
        session.rows_changed.connect(self.model.rows_changed)
        session.rows_changed.connect(self._refresh_detail)
        session.stations_changed.connect(self.connections.refresh)
        session.meters_changed.connect(self.plot.refresh)
        session.rows_appended.connect(self.profiles_view.rows_appended)
        self.profiles_view.set_session(self.live, True)

    @property
    def shown(self) -> SessionData:
        """The session the views show: live, or an opened capture."""
        return self.session_model.session

    def _session_shown(self, session: SessionData) -> None:
        self.model.set_store(session.store)
        self.log.session_shown()
        self.connections.refresh(session.stations)
        self.plot.set_data(session.meters, session.stations.colours)
        self.profiles_view.set_session(session, session is self.live)
        self.detail.show_row(None, -1)
        self._update_title()
        self._update_stats()

    def _complete_detail(self, _rows: range) -> None:
        """A selected CALL whose response just arrived: show the pair."""
        selected = self.detail.store_row
        if selected >= 0 and self.shown.store.type_name(selected) == "CALL" and \
                self.detail.pair.text.toPlainText() == "":
            self._show_detail(selected)

    def _refresh_detail(self, rows: list) -> None:
        if self.detail.store_row in rows:
            self._show_detail(self.detail.store_row)

    def _restore(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state:
            self.restoreState(state)
        splitter = self.settings.value("window/splitter")
        if splitter:
            self.splitter.restoreState(splitter)
        else:
            self.splitter.setSizes([520, 360])

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.roles.save_settings()
        self.suites.save_settings()
        self.settings.sync()

    # ---- host services for panels and dialogs ---------------------------------------------

    def spawn(self, coroutine, what: str = "task") -> asyncio.Task:
        """Run a coroutine on the loop; a failure becomes a readable message, not a traceback."""
        task = self.loop.create_task(coroutine)
        self._tasks.add(task)

        def done(task: asyncio.Task) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                return
            exc = task.exception()
            if exc is not None:
                log.debug("%s failed", what, exc_info=exc)
                try:
                    self.report_error(f"{what} failed: {describe(exc)}")
                except RuntimeError:  # the window is already gone (shutdown)
                    pass
        task.add_done_callback(done)
        return task

    async def on_roles(self, coroutine):
        """Await `coroutine` run on the roles' loop (role start/stop, sessions, sends);
        cancelling the caller cancels it there."""
        return await self.engine.run(coroutine)

    def from_roles(self, function):
        """`function` made safe to call from the roles' thread: it runs on the Qt thread."""
        return call_in(self.loop, function)

    def report_error(self, text: str, source: str = "") -> None:
        if len(self.errors) < 1000:
            self.errors.append(text)
        self.statusBar().showMessage(f"⚠ {text}", 15000)
        self._message("error", text, source)
        if self._closing:
            return
        if self.error_box is not None and self.error_box.isVisible():
            self.error_box.setText(self.error_box.text() + "\n\n" + text)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "OCPP Inspector", text,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorBox")
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_box = box
        box.show()

    def note(self, level: str, text: str, source: str = "") -> None:
        """A line in the Messages tab (info/warning; errors go through `report_error`)."""
        self._message(level, text, source)

    def _message(self, level: str, text: str, source: str = "") -> None:
        stamp = time.strftime("%H:%M:%S")
        prefix = {"error": "ERROR", "warning": "warning"}.get(level, "info")
        self.messages.appendPlainText(f"{stamp} [{source or '-'}] {prefix}: {text}")

    def ensure_capture(self) -> Path | None:
        """Open this run's capture file when the first role starts."""
        if self.writer is not None:
            return self.writer.path
        path = self.capture_path or default_capture_path()
        try:
            self.writer = CaptureWriter(path)
        except Exception as exc:  # noqa: BLE001 - permissions, disk, not a database
            self.report_error(f"Cannot open capture file {path}: {describe(exc)}. "
                              "Frames are shown but not saved.")
            return None
        self.writer.attach(self.hub)
        self.live.path = path
        self._set_capture_label()
        return path

    def show_panel(self, panel) -> None:
        self.roles_dock.show()
        self.roles.setCurrentWidget(panel)

    def use_charger_url(self, url: str) -> None:
        self.roles.charger.csms_url.setText(url)
        self.roles.setCurrentWidget(self.roles.charger)

    def send_targets(self) -> list[SendTarget]:
        return self.roles.send_targets()

    # ---- events ---------------------------------------------------------------------------

    def _on_event(self, event) -> None:
        self._pending.append(event)  # runs on the roles' thread: keep it trivial

    def drain(self) -> None:
        """Move pending hub events into the live session and the views (one batch)."""
        pending = self._pending
        if not pending:
            return
        events = [pending.popleft() for _ in range(len(pending))]
        result = self.live.ingest(events)
        added = len(result.rows)
        self.frames_total += added
        self._rate_count += added
        if added:
            self._show_frame_count()
        self.session_model.announce(self.live, result.rows, result.flag_rows)
        for notice in result.notices:
            self._message(notice.level, notice.text, notice.source)
            if notice.level == "error":
                self.statusBar().showMessage(f"⚠ {notice.text}", 15000)
            self.roles.on_notice(notice)
        if result.opened or result.closed:
            self.roles.csms.refresh_stations()
            self.roles.charger.refresh()
            if self.send_dialog is not None and self.send_dialog.isVisible():
                self.send_dialog.refresh_targets()

    def show_frame_seq(self, seq: int) -> bool:
        """Select the live frame with this hub seq in the log (a suite step's frame)."""
        if self.shown is not self.live:
            self.show_live()
        self.drain()
        row = self.live.store.row_of_seq(seq)
        if row is None:
            self.statusBar().showMessage("That frame is not in the frame log", 5000)
            return False
        self.main_tabs.setCurrentWidget(self.splitter)
        if not self.log.select_store_row(row):
            self.log.bar.reset()  # filtered out: show everything, then select it
            self.log.select_store_row(row)
        self.tabs.setCurrentWidget(self.detail)
        return True

    def _show_detail(self, store_row: int) -> None:
        self.detail.show_row(self.shown.store, store_row)

    # ---- status -------------------------------------------------------------------------

    def _set_capture_label(self) -> None:
        path = self.live.path
        if path is None:
            self.status_capture.setText("Capture: starts with the first role")
            self.status_capture.setToolTip("")
        else:
            self.status_capture.setText(f"Capture: {path}")
            self.status_capture.setToolTip(str(path))

    def _update_stats(self) -> None:
        now = time.monotonic()
        elapsed = now - self._rate_time
        if elapsed > 0:
            self.rate = self._rate_count / elapsed
        self._rate_count, self._rate_time = 0, now
        self._show_frame_count()
        if self.shown is self.live:
            self.status_view.setText("Live")
        else:
            self.status_view.setText(f"Viewing {self.shown.title} ({self.shown.store.count:,} "
                                     "frames, read-only) — File › Show live session")
        if self.writer is not None and self.writer.error:
            self.statusBar().showMessage(f"⚠ {self.writer.error}", 5000)
            if not self._capture_error_reported:  # once, in red; the status bar keeps counting
                self._capture_error_reported = True
                self.report_error(f"Frames are not being saved: {self.writer.error}")

    def _show_frame_count(self) -> None:
        self.status_frames.setText(f"{self.live.store.count:,} frames · {self.rate:,.1f} frames/s")

    def _update_title(self) -> None:
        where = "live session" if self.shown is self.live else self.shown.title
        # Qt appends the application's display name ("— OCPP Inspector") itself
        self.setWindowTitle(f"{where} — version {inspector.__version__}")

    # ---- shutdown -------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop every role, flush and close the capture; idempotent."""
        if self._closed:
            return
        self._closing = True
        try:
            self.save_settings()
        except Exception:  # noqa: BLE001 - never block quitting
            log.debug("saving settings failed", exc_info=True)
        try:
            if self._loading is not None and not self._loading.done():
                self._loading.cancel()
            await self.suites.shutdown()
            await self.roles.shutdown()
            self.drain()
            self._batch_timer.stop()
            self._stats_timer.stop()
            self.lag.stop()
            await asyncio.get_running_loop().run_in_executor(None, self.engine.stop)
            self.drain()  # what the roles published while stopping
            if self.writer is not None:
                writer, self.writer = self.writer, None
                await asyncio.get_running_loop().run_in_executor(None, writer.close)
            self._unsubscribe()
            for box in (self.error_box, self.about_box, self.send_dialog):
                if box is not None:
                    box.close()
        finally:
            self.collector.stop()
            self._closed = True
            self.finished.emit()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._sized and not self.settings.value("window/state"):
            self._sized = True
            QTimer.singleShot(0, lambda: self.resizeDocks([self.roles_dock], [390],
                                                          Qt.Orientation.Horizontal))

    def closeEvent(self, event) -> None:  # noqa: N802
        if self._closed:
            event.accept()
            return
        event.ignore()
        if not self._closing:
            self._closing = True
            self.statusBar().showMessage("Stopping roles and closing the capture…")
            self.spawn(self._shutdown_then_close(), "shutdown")

    async def _shutdown_then_close(self) -> None:
        try:
            await self.shutdown()
        finally:
            self._closed = True
            self.close()
