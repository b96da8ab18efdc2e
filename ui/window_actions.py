"""The main window's menus and frame actions: menu bar, log context menu, Send/Resend, About.

A mixin of `MainWindow` (ui/mainwindow.py); the window's layout and services stay there.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

import inspector

from .framestore import FrameFilter
from .send import SendFrameDialog


class WindowActions:
    """What the menus and the frame log's context menu do (mixed into `MainWindow`)."""

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
        action(file_menu, "&Import pcap…", self._ask_import_pcap, None, "fileImportPcap")
        action(file_menu, "&Replay capture…", lambda: self.open_replay_dialog(), "Ctrl+Shift+R",
               "fileReplay")
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
        action(view, "&Frames", lambda: self.show_view("log"), "Ctrl+1", "viewFrames")
        action(view, "Conformance &suites", self.suites.reveal, "Ctrl+U", "viewSuites")
        action(view, "&Meter values", lambda: self.show_view("meter-values"), "Ctrl+M",
               "viewMeterValues")
        action(view, "&Connections", lambda: self.show_view("connections"), "Ctrl+K",
               "viewConnections")
        help_menu = menu.addMenu("&Help")
        action(help_menu, "&About OCPP Inspector", self.show_about)

    def open_replay_dialog(self):
        """File › Replay capture…, on the capture shown (an opened one, or this session's)."""
        from .replay_dialog import ReplayDialog
        if getattr(self, "replay_dialog", None) is None:
            shown = self.shown.path if self.shown is not self.live else None
            self.replay_dialog = ReplayDialog(self, str(shown) if shown else "", self)
        self.replay_dialog.show()
        self.replay_dialog.raise_()
        return self.replay_dialog

    def show_view(self, name: str) -> None:
        """Bring a view forward by the name `ocpp-inspector gui --view` takes."""
        if name == "fleet":
            self.show_panel(self.roles.fleet)
            return
        if name == "suites":
            self.suites.reveal()
            return
        pages = {"log": self.detail, "meter-values": self.plot, "connections": self.connections,
                 "profiles": self.profiles_view}
        self.main_tabs.setCurrentWidget(self.splitter)
        self.tabs.setCurrentWidget(pages[name])

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
