"""The role dock: one tab per role (proxy, fake CSMS, fake charger, fleet), side by side.

The panels live in their own modules; this module assembles them and keeps the names
other modules (and the tests) import from `ui.roles`.
"""

from __future__ import annotations

import asyncio

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget

from .charger_panel import ChargerPanel, ChargerRun
from .csms_panel import CsmsPanel
from .fleet import FleetPanel
from .proxy_panel import ProxyPanel
from .role_panel import RolePanel, SendTarget, ServerPanel
from .widgets import UrlBox, describe

__all__ = ["RoleTabs", "RolePanel", "ServerPanel", "ProxyPanel", "CsmsPanel", "ChargerPanel",
           "ChargerRun", "FleetPanel", "SendTarget", "UrlBox", "describe"]


class RoleTabs(QTabWidget):
    """One tab per role; each panel scrolls when the dock is shorter than the panel."""

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.setObjectName("roleTabs")
        self.proxy = ProxyPanel(host)
        self.csms = CsmsPanel(host)
        self.charger = ChargerPanel(host)
        self.fleet = FleetPanel(host)
        self.panels = (self.proxy, self.csms, self.charger, self.fleet)
        self._scrolls: dict[int, QScrollArea] = {}
        for panel, title in zip(self.panels, ("Proxy", "Fake CSMS", "Fake charger", "Fleet")):
            panel.setMinimumWidth(330)
            scroll = QScrollArea()
            scroll.setObjectName(f"{panel.kind}Scroll")
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            scroll.setWidget(panel)
            self._scrolls[id(panel)] = scroll
            self.addTab(scroll, title)

    def _page(self, widget):
        return self._scrolls.get(id(widget), widget)

    def setCurrentWidget(self, widget) -> None:  # noqa: N802 - a panel or its tab page
        super().setCurrentWidget(self._page(widget))

    def indexOf(self, widget) -> int:  # noqa: N802
        return super().indexOf(self._page(widget))

    def current_panel(self):
        page = self.currentWidget()
        return page.widget() if isinstance(page, QScrollArea) else page

    def running(self) -> list[str]:
        return [panel.kind for panel in self.panels if panel.running]

    async def shutdown(self) -> None:
        # chargers first, so they close their connections cleanly before the servers go
        for panel in (self.charger, self.fleet, self.proxy, self.csms):
            try:
                await asyncio.wait_for(panel.shutdown(), 10)
            except Exception:  # noqa: BLE001 - stopping must go on
                pass

    def save_settings(self) -> None:
        for panel in self.panels:
            panel.save_settings()

    def send_targets(self) -> list[SendTarget]:
        return self.csms.send_targets() + self.charger.send_targets()

    def on_notice(self, notice) -> None:
        for panel in self.panels:
            if notice.source == panel.kind:
                panel.on_notice(notice)
