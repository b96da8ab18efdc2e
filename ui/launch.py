"""`ocpp-inspector gui --csms ... --proxy ... --charger ... --view ...`: start roles from the
command line, through the same panels (and so the same checks and messages) as a user's
clicks, so a lab can script the window and the GUI benchmark can drive it."""

from __future__ import annotations

import asyncio
from urllib.parse import unquote


async def apply_launch(window, launch: dict) -> None:
    """Start what `launch` (from inspector.cli.gui_launch) names; servers first, so chargers
    given with them find them listening."""
    roles = window.roles
    starting = []
    if launch.get("csms"):
        listen = launch["csms"]
        roles.csms.listen.setText(f"{listen.host}:{listen.port}")
        starting.append(roles.csms.start())
    if launch.get("proxy"):
        listen = launch["proxy"]
        roles.proxy.listen.setText(f"{listen.host}:{listen.port}")
        roles.proxy.upstream.setText(launch["upstream"])
        if launch.get("rules") is not None:
            roles.proxy.use_rules_text(launch["rules"])
        starting.append(roles.proxy.start())
    started = [task for task in starting if task is not None]
    if started:
        await asyncio.wait(started, timeout=30)
    for url in launch.get("chargers") or []:
        base, _, charge_point = url.rstrip("/").rpartition("/")
        roles.charger.csms_url.setText(base + "/")
        roles.charger.charge_point.setText(unquote(charge_point))
        roles.charger.stay.setChecked(True)
        roles.charger.start()
    if launch.get("view"):
        window.show_view(launch["view"])
