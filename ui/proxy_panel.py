"""The Proxy panel: a MITM proxy between chargers and an upstream CSMS."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton

from inspector.intercept import Interceptor
from inspector.roles.common import Listen
from inspector.roles.proxy import Proxy
from inspector.rules import RuleBook, RuleError
from inspector.rules_toml import parse_snippet, split_rules

from .intercept_view import InterceptDialog, PauseSignals
from .role_panel import ServerPanel
from .rules_dialog import RulesDialog
from .security import check_tls_url, proxy_security


class ProxyPanel(ServerPanel):
    kind = "proxy"
    default_listen = "127.0.0.1:9100"  # the fake CSMS has 9000

    def __init__(self, host, parent=None):
        super().__init__(host, parent)
        self.upstream = QLineEdit()
        self.upstream.setObjectName("proxyUpstream")
        self.upstream.setPlaceholderText("ws://csms.example.com:9000/ocpp")
        settings = host.settings
        self.listen.setText(settings.value("proxy/listen", self.default_listen))
        self.inputs.append(self.upstream)
        self.upstream.setText(settings.value("proxy/upstream", ""))
        self.form.addRow("Listen on:", self.listen)
        self.form.addRow("Upstream CSMS:", self.upstream)
        # one book for the panel's life: a running proxy reads it, the Rules window edits it
        self.rules = RuleBook()
        self.rule_snippets: list[str] = []
        self.rules_state = QLabel()
        self.rules_state.setObjectName("proxyRulesState")
        self.rules_button = QPushButton("Rules…")
        self.rules_button.setObjectName("proxyRules")
        self.rules_button.setToolTip("drop, delay, patch, answer or duplicate frames that "
                                     "match; editable while the proxy runs")
        self.rules_button.clicked.connect(self.show_rules)
        rules_row = QHBoxLayout()
        rules_row.addWidget(self.rules_state, 1)
        rules_row.addWidget(self.rules_button)
        self.form.addRow("Rules:", rules_row)
        self.rules_dialog: RulesDialog | None = None
        self.use_rules_text(settings.value("proxy/rules", "") or "")
        # frames `intercept` rules pause wait in the Intercepted frames window
        self.interceptor = Interceptor(host.hub)
        self.intercept_dialog: InterceptDialog | None = None
        self.pause_signals = PauseSignals(self)
        self.pause_signals.attach(host.hub)
        self.pause_signals.paused.connect(self._paused)
        self.pause_signals.ended.connect(self._pause_ended)
        self.paused_state = QLabel("none paused")
        self.paused_state.setObjectName("proxyPausedState")
        self.intercept_button = QPushButton("Intercepted…")
        self.intercept_button.setObjectName("proxyIntercepted")
        self.intercept_button.clicked.connect(self.show_intercepted)
        intercept_row = QHBoxLayout()
        intercept_row.addWidget(self.paused_state, 1)
        intercept_row.addWidget(self.intercept_button)
        self.form.addRow("Intercept:", intercept_row)
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
                     upstream_tls=upstream_tls, rules=self.rules, interceptor=self.interceptor)

    # ---- rules ----------------------------------------------------------------------------

    def use_rules_text(self, text: str) -> None:
        """Rules from TOML text (saved settings, `gui --rules`); ones that do not read are
        kept for editing but none applies until all do."""
        self.rule_snippets = split_rules(text)
        try:
            self.rules.replace([parse_snippet(s) for s in self.rule_snippets])
        except RuleError as exc:
            self.rules.replace([])
            self.error.setText(f"Proxy rules not applied (open Rules… to mend): {exc}")
            self.error.show()
        if self.rules_dialog is not None:
            self.rules_dialog.deleteLater()
            self.rules_dialog = None
        self._say_rules()

    def show_rules(self) -> RulesDialog:
        if self.rules_dialog is None:
            self.rules_dialog = RulesDialog(self.rules, self.rule_snippets, self.host.settings, self)
            self.rules_dialog.applied.connect(self._rules_applied)
        self.rules_dialog.show()
        self.rules_dialog.raise_()
        return self.rules_dialog

    def show_intercepted(self) -> InterceptDialog:
        if self.intercept_dialog is None:
            self.intercept_dialog = InterceptDialog(self.interceptor, self)
        self.intercept_dialog.show()
        self.intercept_dialog.raise_()
        return self.intercept_dialog

    def _paused(self, paused) -> None:
        dialog = self.show_intercepted()  # a paused frame waits for someone: show it
        dialog.add(paused)
        self._say_paused()

    def _pause_ended(self, event) -> None:
        if self.intercept_dialog is not None:
            self.intercept_dialog.ended(event)
        self._say_paused()

    def _say_paused(self) -> None:
        count = len(self.interceptor.paused)
        self.paused_state.setText(f"{count} frame(s) paused" if count else "none paused")

    def _rules_applied(self) -> None:
        self.rule_snippets = list(self.rules_dialog.snippets)
        self._say_rules()

    def _say_rules(self) -> None:
        rules = self.rules.rules
        on = sum(r.enabled for r in rules)
        self.rules_state.setText("none (byte pipe)" if not rules else
                                 f"{on} of {len(rules)} rule(s) on")
        self.rules_state.setToolTip("\n".join(f"{'☑' if r.enabled else '☐'} {r.name}: "
                                               f"{r.describe()}" for r in rules)
                                    or "no rules: the proxy forwards bytes as they come")

    def save_settings(self) -> None:
        self.host.settings.setValue("proxy/listen", self.listen.text())
        self.host.settings.setValue("proxy/upstream", self.upstream.text())
        self.security.save_settings()
