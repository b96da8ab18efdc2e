"""The Proxy panel: a MITM proxy between chargers and an upstream CSMS."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit

from inspector.roles.common import Listen
from inspector.roles.proxy import Proxy

from .role_panel import ServerPanel
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
