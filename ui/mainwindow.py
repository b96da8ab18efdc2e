"""The main window: roles on the left, the frame log in the middle, details below.

Data flow: the hub calls `_on_event` on the asyncio loop (which is the Qt thread, thanks
to qasync); it only appends to a list. A 50 ms timer takes the whole list, turns it into
store rows in one go (`SessionData.ingest`) and tells the model about them with a single
insert, so the UI cost is per batch, not per frame.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
import logging
import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu,
                               QMessageBox, QPlainTextEdit, QSplitter, QTabWidget)

import inspector
from inspector.events import Hub
from inspector.store import Capture, CaptureWriter, default_capture_path, export_jsonl

from .app import app_icon
from .connections import ConnectionsView
from .detail import DetailPane
from .framelog import FrameLog
from .framestore import FrameFilter
from .model import FrameTableModel
from .plot import MeterPlot
from .roles import RoleTabs, SendTarget, describe
from .send import SendFrameDialog
from .session import SessionData
from .suites import SuitesTab

log = logging.getLogger(__name__)
BATCH_INTERVAL_MS = 50
LOAD_CHUNK = 5_000


def backup_capture(source: Path, target: Path) -> None:
    """Copy a capture with SQLite's backup API: consistent even while it is written (WAL)."""
    if Path(target).resolve() == Path(source).resolve():
        raise ValueError("choose another file than the capture itself")
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


class MainWindow(QMainWindow):
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
        self.shown = self.live
        self.frames_total = 0
        self._pending: deque = deque()  # hub events not yet shown (append/popleft: thread-safe)
        self._tasks: set[asyncio.Task] = set()
        self._closing = self._closed = False
        self._rate_count, self._rate_time, self.rate = 0, time.monotonic(), 0.0
        self.error_box: QMessageBox | None = None
        self.errors: list[str] = []  # every error reported in this window (the smoke test reads it)
        self.about_box: QMessageBox | None = None
        self.send_dialog: SendFrameDialog | None = None
        self._loading: asyncio.Task | None = None
        self._unsubscribe = self.hub.subscribe(self._on_event)
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
        self.plot.set_data(self.live.meters)
        self.messages = QPlainTextEdit()
        self.messages.setObjectName("messages")
        self.messages.setReadOnly(True)
        self.messages.setMaximumBlockCount(5000)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("bottomTabs")
        self.tabs.addTab(self.detail, "Detail")
        self.tabs.addTab(self.connections, "Connections")
        self.tabs.addTab(self.plot, "Meter values")
        self.tabs.addTab(self.messages, "Messages")
        self.suites = SuitesTab(self)  # conformance runs (ui/suites.py)
        self.tabs.addTab(self.suites, "Suites")
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.log)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.setCentralWidget(self.splitter)
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
        self.log.selected.connect(self._show_detail)
        self.detail.resend_requested.connect(self.resend_row)
        self.log.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.log.table.customContextMenuRequested.connect(self._table_menu)
        self._build_menus()
        self.resize(1400, 900)

    def _build_menus(self) -> None:
        menu = self.menuBar()

        def action(parent, text, slot, shortcut=None, name=None) -> QAction:
            item = QAction(text, self)
            if shortcut:
                item.setShortcut(QKeySequence(shortcut))
            if name:
                item.setObjectName(name)
            item.triggered.connect(lambda _checked=False: slot())
            parent.addAction(item)
            return item

        file_menu = menu.addMenu("&File")
        action(file_menu, "&Open capture…", self._ask_open, QKeySequence.StandardKey.Open)
        self.live_action = action(file_menu, "Show &live session", self.show_live, "Ctrl+L")
        file_menu.addSeparator()
        action(file_menu, "&Save capture as…", self._ask_save, QKeySequence.StandardKey.SaveAs)
        action(file_menu, "&Export JSONL…", self._ask_export, "Ctrl+E")
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        frames = menu.addMenu("F&rames")
        action(frames, "&Send frame…", lambda: self.open_send_dialog(), "Ctrl+N")
        action(frames, "&Resend / edit selected…", lambda: self.resend_row(
            self.log.selected_store_row()), "Ctrl+R")
        action(frames, "&Clear filter", self.log.bar.reset, "Ctrl+Shift+F")
        action(frames, "&Follow new frames", self.log.table.follow, "Ctrl+End")
        view = menu.addMenu("&View")
        view.addAction(self.roles_dock.toggleViewAction())
        action(view, "Conformance &suites", self.suites.reveal, "Ctrl+U", "viewSuites")
        help_menu = menu.addMenu("&Help")
        action(help_menu, "&About OCPP Inspector", self.show_about)

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

    def open_send_dialog(self, target_key: tuple | None = None, *, action: str | None = None,
                         payload: dict | None = None, direction: str | None = None
                         ) -> SendFrameDialog:
        if self.send_dialog is not None:
            self.send_dialog.close()
            self.send_dialog.deleteLater()
        dialog = SendFrameDialog(self, self, target_key=target_key, action=action,
                                 payload=payload, direction=direction)
        self.send_dialog = dialog
        dialog.show()
        return dialog

    def resend_row(self, store_row: int) -> SendFrameDialog | None:
        store = self.shown.store
        if store_row is None or store_row < 0 or store_row >= store.count:
            self.statusBar().showMessage("Select a CALL in the log to resend it", 5000)
            return None
        row = store.row(store_row)
        if row.type != "CALL":
            self.statusBar().showMessage("Only CALL frames can be resent", 5000)
            return None
        try:
            payload = json.loads(store.raw(store_row))[3]
        except (ValueError, IndexError, TypeError):
            payload = None
        role = "csms" if row.direction == "to_charger" else "charger"
        return self.open_send_dialog((role, row.charge_point_id), action=row.action,
                                     payload=payload if isinstance(payload, dict) else None,
                                     direction=row.direction)

    # ---- events ---------------------------------------------------------------------------

    def _on_event(self, event) -> None:
        self._pending.append(event)  # runs on the loop thread: keep it trivial

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
        if self.shown is self.live:
            self._after_rows(result.rows)
            if result.flag_rows:
                self.model.rows_changed(result.flag_rows)
                if self.detail.store_row in result.flag_rows:
                    self._show_detail(self.detail.store_row)
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

    def _after_rows(self, rows: range) -> None:
        """Refresh the views of the shown session after rows were appended to it."""
        session = self.shown
        if len(rows):
            self.model.rows_appended(rows)
            self.log.update_count()
            store = session.store
            self.log.bar.update_choices(store.charge_points.values(), store.actions.values())
            selected = self.detail.store_row
            if selected >= 0 and store.type_name(selected) == "CALL" and \
                    self.detail.pair.text.toPlainText() == "":
                self._show_detail(selected)
        if session.stations.take_changed():
            self.connections.refresh(session.stations)
        self.plot.refresh()

    def _show_detail(self, store_row: int) -> None:
        self.detail.show_row(self.shown.store, store_row)

    # ---- sessions: live or an opened capture ---------------------------------------------

    def show_session(self, session: SessionData) -> None:
        self.shown = session
        self.model.set_store(session.store)
        self.log.apply_filter(self.log.bar.current())
        self.log.bar._known = (0, 0)
        self.log.bar.update_choices(session.store.charge_points.values(),
                                    session.store.actions.values())
        session.stations.take_changed()
        self.connections.refresh(session.stations)
        self.plot.set_data(session.meters)
        self.detail.show_row(None, -1)
        self.log._selected_store_row = -1
        self._update_title()
        self._update_stats()

    def show_live(self) -> None:
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        if self.shown is not self.live:
            self.show_session(self.live)

    def open_capture(self, path) -> asyncio.Task:
        """Browse a capture file offline (loaded in chunks; the window stays responsive)."""
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._loading = self.spawn(self._load_capture(Path(path)), "open capture")
        return self._loading

    async def _load_capture(self, path: Path) -> SessionData | None:
        if self.writer is not None and self.live.path and path.resolve() == self.live.path.resolve():
            self.writer.flush()
        try:
            capture = Capture(path)
        except (FileNotFoundError, ValueError) as exc:
            self.report_error(f"Cannot open capture: {exc}")
            return None
        try:
            session = SessionData(path.name, path=path)
            session.add_connections(capture.connections())
            total = capture.count()
            self.show_session(session)
            after = 0
            while True:
                items = list(capture.frames(after_id=after, limit=LOAD_CHUNK))
                if not items:
                    break
                rows = session.add_exports(items)
                after = items[-1]["id"]
                if self.shown is session:
                    self._after_rows(rows)
                self.statusBar().showMessage(f"Loading {path.name}: {session.store.count:,} of "
                                             f"{total:,} frames…")
                await asyncio.sleep(0)
            if self.shown is session:
                self.plot.flush()
            self.statusBar().showMessage(f"Opened {path} ({session.store.count:,} frames)", 8000)
            self._message("info", f"opened capture {path} ({session.store.count:,} frames)", "file")
            self._update_stats()
            return session
        except sqlite3.Error as exc:
            self.report_error(f"Cannot read capture {path}: {exc}")
            return None
        finally:
            capture.close()

    def save_capture_as(self, target) -> bool:
        source = self.shown.path
        if source is None:
            self.report_error("Nothing to save yet: the capture file is created when a role starts.")
            return False
        if self.shown is self.live and self.writer is not None:
            self.writer.flush()
        try:
            backup_capture(Path(source), Path(target))
        except (OSError, sqlite3.Error, ValueError) as exc:
            self.report_error(f"Cannot save the capture as {target}: {describe(exc)}")
            return False
        self.statusBar().showMessage(f"Saved capture as {target}", 8000)
        self._message("info", f"capture saved as {target}", "file")
        return True

    def export_jsonl(self, target) -> int | None:
        """Export the frames shown (the whole capture, or what the filter selects)."""
        flt: FrameFilter = self.model.filter
        try:
            with open(target, "w", encoding="utf-8") as out:
                if flt.is_empty() and self.shown.path is not None:
                    if self.shown is self.live and self.writer is not None:
                        self.writer.flush()
                    capture = Capture(self.shown.path)
                    try:
                        count = export_jsonl(capture, out)
                    finally:
                        capture.close()
                else:
                    store = self.shown.store
                    count = 0
                    for view_row in range(self.model.rowCount()):
                        out.write(json.dumps(store.export_row(self.model.store_row(view_row)),
                                             ensure_ascii=False))
                        out.write("\n")
                        count += 1
        except (OSError, sqlite3.Error, ValueError) as exc:
            self.report_error(f"Cannot export to {target}: {describe(exc)}")
            return None
        self.statusBar().showMessage(f"Exported {count:,} frames to {target}", 8000)
        self._message("info", f"exported {count:,} frames to {target}", "file")
        return count

    def _file_dialog(self, title: str, save: bool, name_filter: str, callback, suggested="") -> None:
        directory = self.settings.value("files/last_dir", str(Path.home()))
        dialog = QFileDialog(self, title, str(Path(directory) / suggested) if suggested else directory,
                             name_filter)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave if save
                             else QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile if save
                           else QFileDialog.FileMode.ExistingFile)

        def chosen(path: str) -> None:
            self.settings.setValue("files/last_dir", str(Path(path).parent))
            callback(path)
        dialog.fileSelected.connect(chosen)
        dialog.open()

    def _ask_open(self) -> None:
        start = self.live.path.parent if self.live.path else default_capture_path().parent
        self.settings.setValue("files/last_dir", self.settings.value("files/last_dir", str(start)))
        self._file_dialog("Open capture", False, "Captures (*.db);;All files (*)", self.open_capture)

    def _ask_save(self) -> None:
        name = self.shown.path.name if self.shown.path else "capture.db"
        self._file_dialog("Save capture as", True, "Captures (*.db)", self.save_capture_as, name)

    def _ask_export(self) -> None:
        name = (self.shown.path.stem if self.shown.path else "frames") + ".jsonl"
        self._file_dialog("Export JSONL", True, "JSON lines (*.jsonl);;All files (*)",
                          self.export_jsonl, name)

    # ---- table context menu -------------------------------------------------------------

    def _table_menu(self, position) -> None:
        index = self.log.table.indexAt(position)
        if not index.isValid():
            return
        store_row = self.model.store_row(index.row())
        row = self.shown.store.row(store_row)
        menu = QMenu(self)
        resend = menu.addAction("Resend / edit…", lambda: self.resend_row(store_row))
        resend.setEnabled(row.type == "CALL")
        menu.addAction("Copy raw frame", lambda: QGuiApplication.clipboard().setText(
            self.shown.store.raw(store_row)))
        menu.addSeparator()
        current = self.log.bar.current()
        menu.addAction(f"Only {row.charge_point_id}", lambda: self.log.bar.set_filter(
            FrameFilter(**{**current.__dict__, "charge_point": row.charge_point_id})))
        if row.action:
            menu.addAction(f"Only {row.action}", lambda: self.log.bar.set_filter(
                FrameFilter(**{**current.__dict__, "action": row.action})))
        menu.popup(self.log.table.viewport().mapToGlobal(position))

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

    def _show_frame_count(self) -> None:
        self.status_frames.setText(f"{self.live.store.count:,} frames · {self.rate:,.1f} frames/s")

    def _update_title(self) -> None:
        where = "live session" if self.shown is self.live else self.shown.title
        self.setWindowTitle(f"OCPP Inspector {inspector.__version__} — {where}")

    def show_about(self) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, "About OCPP Inspector",
                          f"<h3>OCPP Inspector {inspector.__version__}</h3>"
                          f"<p>Version {inspector.__version__}</p>"
                          "<p>OCPP-J protocol inspector and conformance tester: MITM proxy, "
                          "fake CSMS, fake charger, schema validation and a frame log.</p>"
                          "<p>OCPP 1.6, 2.0.1 and 2.1 — schemas from the Open Charge Alliance "
                          "(via the <tt>ocpp</tt> package).</p>",
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("aboutBox")
        if not self.icon.isNull():
            box.setIconPixmap(self.icon.pixmap(64, 64))
            box.setWindowIcon(self.icon)
        box.setWindowModality(Qt.WindowModality.NonModal)
        self.about_box = box
        box.show()
        return box

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
            if self.writer is not None:
                writer, self.writer = self.writer, None
                await asyncio.get_running_loop().run_in_executor(None, writer.close)
            self._unsubscribe()
            for box in (self.error_box, self.about_box, self.send_dialog):
                if box is not None:
                    box.close()
        finally:
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
