"""File › Replay capture…: `ocpp-inspector replay` in the window. The replay runs on the
roles' loop, its frames appear in the frame log like any role's, and each recorded
connection ends up in the list with its differences."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QComboBox, QDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from inspector.replay import ChargerReplay, ReplayError
from inspector.replay_report import write_html, write_junit
from inspector.roles.common import Listen, check_ws_url

from .widgets import ask_path, describe, error_label, hint_label

SPEEDS = (("recorded pace (1x)", 1.0), ("10x", 10.0), ("back to back (max)", None))
COLOURS = {"same": "#1b7f3b", "differs": "#b00020", "error": "#8a4b00"}


class ReplayDialog(QDialog):
    def __init__(self, host, capture: str = "", parent=None):
        super().__init__(parent)
        self.host = host
        self.setWindowTitle("Replay capture")
        self.setObjectName("replayDialog")
        self.resize(860, 560)
        settings = host.settings
        self.capture = QLineEdit(capture or settings.value("replay/capture", ""))
        self.capture.setObjectName("replayCapture")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        capture_row = QHBoxLayout()
        capture_row.addWidget(self.capture, 1)
        capture_row.addWidget(browse)
        self.side = QComboBox()
        self.side.setObjectName("replaySide")
        self.side.addItem("charger side, against a CSMS", "charger")
        self.side.addItem("CSMS side, to chargers that connect", "csms")
        self.target = QLineEdit(settings.value("replay/target", ""))
        self.target.setObjectName("replayTarget")
        self.target.setPlaceholderText("CSMS base URL, ws://host:port/ocpp (ids appended); "
                                       "CSMS side: HOST:PORT to listen on")
        self.charge_point = QLineEdit()
        self.charge_point.setObjectName("replayChargePoint")
        self.charge_point.setPlaceholderText("all (or an id / glob)")
        self.speed = QComboBox()
        self.speed.setObjectName("replaySpeed")
        for label, value in SPEEDS:
            self.speed.addItem(label, value)
        self.ignore = QLineEdit(settings.value("replay/ignore", ""))
        self.ignore.setObjectName("replayIgnore")
        self.ignore.setPlaceholderText("fields never compared, e.g. $.idTagInfo.expiryDate, "
                                       "$.list[*].x (date-times and generated ids never are)")
        form = QFormLayout()
        form.addRow("Capture:", capture_row)
        form.addRow("Play:", self.side)
        form.addRow("Target / listen:", self.target)
        form.addRow("Charge point:", self.charge_point)
        form.addRow("Speed:", self.speed)
        form.addRow("Ignore:", self.ignore)
        self.run_button = QPushButton("Replay")
        self.run_button.setObjectName("replayRun")
        self.run_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("replayStop")
        self.stop_button.setEnabled(False)
        self.junit_button = QPushButton("Save JUnit…")
        self.html_button = QPushButton("Save HTML…")
        for button in (self.junit_button, self.html_button):
            button.setEnabled(False)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.stop_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.junit_button, self.html_button):
            buttons.addWidget(button)
        self.error = error_label("replayError")
        self.status = QLabel("Every answer is compared with the recorded one, field by field.")
        self.status.setObjectName("replayStatus")
        self.status.setWordWrap(True)
        self.results = QTreeWidget()
        self.results.setObjectName("replayResults")
        self.results.setHeaderLabels(["Recorded connection / difference", "Verdict"])
        self.results.setColumnWidth(0, 640)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint_label("its frames appear in the frame log as the \"replay\" role"))
        layout.addLayout(buttons)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.results, 1)
        self.run_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.junit_button.clicked.connect(lambda: self._ask_report("junit"))
        self.html_button.clicked.connect(lambda: self._ask_report("html"))
        self.result = None
        self.task = None
        self.player = None
        self._dialog: QWidget | None = None

    # ---- running ----------------------------------------------------------------------------

    def start(self):
        """Start the replay; returns its task (None when the form is not right)."""
        self.error.hide()
        try:
            self.player = self._player()
        except (ReplayError, ValueError) as exc:
            self.error.setText(describe(exc))
            self.error.show()
            return None
        settings = self.host.settings
        settings.setValue("replay/capture", self.capture.text())
        settings.setValue("replay/target", self.target.text())
        settings.setValue("replay/ignore", self.ignore.text())
        self.host.ensure_capture()
        self.results.clear()
        self.result = None
        self.run_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("replaying…" if self.side.currentData() == "charger" else
                            "listening: connect the charger(s) of the recording")
        self.task = self.host.spawn(self._run(), "replay")
        return self.task

    def _player(self):
        capture = self.capture.text().strip()
        if not capture:
            raise ValueError("choose the capture to replay")
        ignore = [p.strip() for p in self.ignore.text().split(",") if p.strip()]
        charge_point = self.charge_point.text().strip() or None
        target = self.target.text().strip()
        if self.side.currentData() == "csms":
            from inspector.replay_csms import CsmsReplay
            return CsmsReplay(self.host.hub, capture, Listen.parse(target or "127.0.0.1:9000"),
                              charge_point=charge_point, ignore=ignore,
                              speed=self.speed.currentData())
        if not target:
            raise ValueError("enter the CSMS URL to replay against, e.g. ws://127.0.0.1:9000/")
        return ChargerReplay(self.host.hub, capture, check_ws_url(target),
                             charge_point=charge_point, speed=self.speed.currentData(),
                             ignore=ignore)

    async def _run(self) -> None:
        try:
            self.result = await self.host.on_roles(self.player.run())
        except Exception as exc:  # noqa: BLE001 - one line in the window
            self.error.setText(f"Replay stopped: {describe(exc)}")
            self.error.show()
            if hasattr(self.player, "result"):
                self.result = self.player.result()
        finally:
            self.run_button.setEnabled(True)
            self.stop_button.setEnabled(False)
            if self.result is not None:
                self.show_result(self.result)

    def stop(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    # ---- the result --------------------------------------------------------------------------

    def show_result(self, result) -> None:
        self.results.clear()
        for connection in result.connections:
            verdict = "error" if connection.error else "differs" if connection.differences \
                else "same"
            item = QTreeWidgetItem(self.results, [f"{connection.name}: {connection.calls} "
                                                  f"exchange(s)", verdict])
            item.setForeground(1, _colour(verdict))
            if connection.error:
                QTreeWidgetItem(item, [connection.error, ""])
            for difference in connection.differences:
                QTreeWidgetItem(item, [str(difference), ""])
            item.setExpanded(True)
        verdict = "SAME" if result.passed else "DIFFERS"
        self.status.setText(f"{verdict}: {result.summary()}")
        self.junit_button.setEnabled(True)
        self.html_button.setEnabled(True)

    def _ask_report(self, kind: str) -> None:
        writer, suffix = (write_junit, "xml") if kind == "junit" else (write_html, "html")
        settings = self.host.settings
        self._dialog = ask_path(self, settings, "folders/reports", "Save replay report",
                                settings.value("folders/reports", ""), f"*.{suffix}",
                                lambda path: writer(self.result, path), save=True,
                                default_suffix=suffix)

    def _browse(self) -> None:
        settings = self.host.settings
        self._dialog = ask_path(self, settings, "folders/captures", "Capture to replay",
                                str(Path(self.capture.text()).parent) if self.capture.text()
                                else settings.value("folders/captures", ""),
                                "Captures (*.db);;All files (*)", self.capture.setText, save=False)


def _colour(verdict: str):
    from PySide6.QtGui import QColor
    return QColor(COLOURS[verdict])
