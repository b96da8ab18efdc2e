"""The shared base of the role panels: form, Start/Stop, state line and inline errors.

Each panel validates its inputs before starting, shows failures (port in use, bad URL,
upstream down, charger errors) inline and through the window, and offers the URL to give
to a charger, read-only and copyable. `ServerPanel` is what the proxy and the fake CSMS
share: a listen address, start/stop of a server role, and the URL for chargers.
"""

from __future__ import annotations

import asyncio
import errno
from dataclasses import dataclass

from PySide6.QtWidgets import (QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
                               QVBoxLayout, QWidget)

from inspector.roles.common import Listen
from inspector.versions import VERSIONS

from .security import SecurityGroup
from .widgets import UrlBox, describe, error_label, hint_label


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
        self.error = error_label(f"{self.kind}Error")
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
        # what cannot change under a running role (its listen address, upstream, TLS files):
        # locked while it runs, so the form always shows what is running
        self.inputs: list[QWidget] = []

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
        for widget in self.inputs + ([self.security] if self.inputs and self.security else []):
            widget.setEnabled(not running)

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


class ServerPanel(RolePanel):
    """Shared by the proxy and the fake CSMS: listen, start/stop, URL for chargers."""

    default_listen = "127.0.0.1:9000"  # each server role its own, so both can run at once

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        self.listen = QLineEdit()
        self.listen.setObjectName(f"{self.kind}Listen")
        self.listen.setPlaceholderText(self.default_listen)
        self.inputs.append(self.listen)
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
        self.form.addRow("", hint_label("give chargers this URL + their id, e.g. …/CP001"))
        self.buttons.addWidget(self.use_for_charger)

    def _make(self, listen: Listen):
        raise NotImplementedError

    def start(self):
        """Start the role; returns the task starting it (None when it cannot start)."""
        if self.role is not None or self.busy:
            return None
        self.clear_error()
        try:
            listen = Listen.parse(self.listen.text() or self.default_listen)
            role = self._make(listen)
        except ValueError as exc:  # bad listen address, bad URL, bad overrides file
            self.fail(str(exc))
            return None
        self.save_settings()
        self.host.ensure_capture()
        self.busy = True
        self.set_running(True, "starting…")
        self.stop_button.setEnabled(False)
        return self.host.spawn(self._start(role, listen), f"start {self.kind}")

    async def _start(self, role, listen: Listen) -> None:
        try:
            await self.host.on_roles(role.start())
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
            await asyncio.wait_for(self.host.on_roles(role.stop()), 10)
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

