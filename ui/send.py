"""Compose and send a CALL by hand from the fake CSMS or a fake charger.

The payload starts from a schema-valid template for the chosen action; it is validated
as you type, and an invalid frame (bad JSON or schema findings) is only sent after an
explicit confirmation, which is how a tester provokes a peer on purpose.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QComboBox, QCompleter, QDialog, QFormLayout, QHBoxLayout, QLabel,
                               QListWidget, QMessageBox, QPlainTextEdit, QPushButton, QVBoxLayout)

from inspector import defaults, schemas
from inspector.validation import validate

from .detail import JsonHighlighter
from .roles import SendTarget, describe


def build_call(action: str, payload_text: str, unique_id: str | None = None) -> str:
    """The raw CALL text; invalid JSON is embedded as typed (a deliberately malformed frame)."""
    unique_id = unique_id or str(uuid.uuid4())
    try:
        payload = json.loads(payload_text)
    except ValueError:
        return f"[2,{json.dumps(unique_id)},{json.dumps(action)},{payload_text.strip()}]"
    return json.dumps([2, unique_id, action, payload], separators=(",", ":"), ensure_ascii=False)


def check(version: str, action: str, payload_text: str) -> list[str]:
    """Problems with a payload, as readable lines ([] when valid)."""
    try:
        payload = json.loads(payload_text)
    except ValueError as exc:
        return [f"not valid JSON: {exc}"]
    if not isinstance(payload, dict):
        return ["the payload must be a JSON object"]
    if action not in schemas.actions(version):
        return [f"{action!r} is not an OCPP {version} action"]
    findings = validate(version, action, "request", payload) or []
    return [f"{f.path}: {f.message} ({f.ocpp_error})" for f in findings]


class SendFrameDialog(QDialog):
    sent = Signal(str)  # raw text sent

    def __init__(self, host, parent=None, *, target_key: tuple | None = None,
                 action: str | None = None, payload: dict | None = None,
                 direction: str | None = None):
        super().__init__(parent)
        self.setObjectName("sendDialog")
        self.setWindowTitle("Send a frame")
        self.host = host
        self.resize(640, 620)
        self.target = QComboBox()
        self.target.setObjectName("sendTarget")
        refresh = QPushButton("↻")
        refresh.setToolTip("refresh the list of connected peers")
        refresh.setFixedWidth(32)
        self.action = QComboBox()
        self.action.setObjectName("sendAction")
        self.action.setEditable(True)
        self.action.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.action.completer().setFilterMode(Qt.MatchFlag.MatchContains)
        self.action.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("sendPayload")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._highlighter = JsonHighlighter(self.editor.document())
        self.findings = QListWidget()
        self.findings.setObjectName("sendFindings")
        self.findings.setMaximumHeight(110)
        self.validity = QLabel()
        self.validity.setObjectName("sendValidity")
        self.result = QLabel()
        self.result.setObjectName("sendResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.template = QPushButton("Reset to template")
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("sendButton")
        self.send_button.setDefault(True)
        close = QPushButton("Close")
        target_row = QHBoxLayout()
        target_row.addWidget(self.target, 1)
        target_row.addWidget(refresh)
        form = QFormLayout()
        form.addRow("From:", target_row)
        form.addRow("Action:", self.action)
        buttons = QHBoxLayout()
        buttons.addWidget(self.template)
        buttons.addStretch(1)
        buttons.addWidget(self.send_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Payload (JSON):"))
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.validity)
        layout.addWidget(self.findings)
        layout.addWidget(self.result)
        layout.addLayout(buttons)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.revalidate)
        self.editor.textChanged.connect(self._debounce.start)
        self.target.currentIndexChanged.connect(lambda _: self._target_changed())
        self.action.currentTextChanged.connect(lambda _: self._action_changed())
        self.template.clicked.connect(self.load_template)
        self.send_button.clicked.connect(self.send)
        close.clicked.connect(self.close)
        refresh.clicked.connect(lambda: self.refresh_targets())
        self.confirm_box: QMessageBox | None = None
        self._targets: list[SendTarget] = []
        self._version: str | None = None
        self._preset_payload = payload
        self.refresh_targets(target_key, direction)
        if action:
            self.action.setCurrentText(action)
        self._action_changed()
        self._preset_payload = None
        self.revalidate()

    # ---- targets and actions ----------------------------------------------------------------

    def refresh_targets(self, key: tuple | None = None, direction: str | None = None) -> None:
        current = self.current_target()
        key = key or (current.key if current else None)
        self._targets = self.host.send_targets()
        self.target.blockSignals(True)
        self.target.clear()
        for target in self._targets:
            self.target.addItem(target.label, target.key)
        keys = [tuple(t.key) for t in self._targets]
        index = keys.index(tuple(key)) if key and tuple(key) in keys else -1
        if index < 0 and direction:
            index = next((i for i, t in enumerate(self._targets) if t.direction == direction), -1)
        self.target.setCurrentIndex(max(index, 0) if self._targets else -1)
        self.target.blockSignals(False)
        if not self._targets:
            self.result.setText("Nothing to send from: start the fake CSMS with a charge point "
                                "connected, or a fake charger that stays connected.")
        self._target_changed()

    def current_target(self) -> SendTarget | None:
        index = self.target.currentIndex()
        return self._targets[index] if 0 <= index < len(self._targets) else None

    def _target_changed(self) -> None:
        target = self.current_target()
        version = target.version if target else self._version or "1.6"
        self.send_button.setEnabled(target is not None)
        if version == self._version:
            return
        self._version = version
        action = self.action.currentText()
        self.action.blockSignals(True)
        self.action.clear()
        self.action.addItems(list(schemas.actions(version)))
        self.action.setCurrentText(action or ("GetConfiguration" if "GetConfiguration" in
                                              schemas.actions(version) else "GetVariables"))
        self.action.blockSignals(False)
        self._action_changed()

    def _action_changed(self) -> None:
        if self._preset_payload is not None:
            self.editor.setPlainText(json.dumps(self._preset_payload, indent=2, ensure_ascii=False))
        else:
            self.load_template()

    def load_template(self) -> None:
        action = self.action.currentText().strip()
        version = self._version or "1.6"
        if action in schemas.actions(version):
            payload = defaults.request_template(version, action, now=datetime.now(timezone.utc))
            self.editor.setPlainText(json.dumps(payload, indent=2, ensure_ascii=False))

    # ---- validation and sending ---------------------------------------------------------

    def problems(self) -> list[str]:
        return check(self._version or "1.6", self.action.currentText().strip(),
                     self.editor.toPlainText())

    def revalidate(self) -> list[str]:
        problems = self.problems()
        self.findings.clear()
        self.findings.addItems(problems)
        self.findings.setVisible(bool(problems))
        if problems:
            self.validity.setText(f"<span style='color:#b00020'>✗ {len(problems)} problem(s): "
                                  "can still be sent, after a confirmation</span>")
        else:
            self.validity.setText(f"<span style='color:#1b7f3b'>✓ valid {self.action.currentText()}"
                                  f" request for OCPP {self._version}</span>")
        return problems

    def send(self) -> None:
        target = self.current_target()
        if target is None:
            self.result.setText("Nothing to send from (see above).")
            return
        action = self.action.currentText().strip()
        if not action:
            self.result.setText("Choose an action.")
            return
        problems = self.revalidate()
        if not problems:
            self._send_now()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "Send an invalid frame?",
                          f"This {action} frame does not pass validation:\n\n"
                          + "\n".join(f"• {p}" for p in problems[:8])
                          + "\n\nSend it anyway?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("confirmInvalid")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda result: self._confirmed(box, result))
        self.confirm_box = box
        box.open()

    def _confirmed(self, box: QMessageBox, result: int) -> None:
        self.confirm_box = None
        if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
            self._send_now()
        else:
            self.result.setText("Not sent.")

    def _send_now(self) -> None:
        target = self.current_target()
        raw = build_call(self.action.currentText().strip(), self.editor.toPlainText())
        self.result.setText(f"Sending from {target.label}…")
        self.host.spawn(self._send(target, raw), "send frame")
        self.sent.emit(raw)

    async def _send(self, target: SendTarget, raw: str) -> None:
        from inspector.rpc import CallTimeout
        endpoint = target.endpoint
        if endpoint.closed.is_set():
            self.result.setText(f"{target.charge_point_id} is no longer connected.")
            return
        try:
            answer = await self.host.on_roles(endpoint.call_raw(raw, timeout=30))
        except CallTimeout as exc:
            text = f"No answer: {exc}"
        except Exception as exc:  # noqa: BLE001 - connection closed and the like
            text = f"Not delivered: {describe(exc)}"
        else:
            if answer is None:
                text = "Sent (not a CALL, so no answer is awaited)."
            elif answer.type.value == "CALLERROR":
                text = f"Answered with CALLERROR {answer.error_code}: {answer.error_description}"
            else:
                text = f"Answered with {answer.type.value}: " + json.dumps(
                    answer.payload, ensure_ascii=False)[:300]
        try:
            self.result.setText(text)
        except RuntimeError:  # the dialog was closed and deleted meanwhile
            pass
