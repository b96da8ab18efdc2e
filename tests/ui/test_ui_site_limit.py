"""The fake CSMS's site limit from its panel: a fake charger started from the window gets
its TxProfile and charges within it; the field is locked while the CSMS runs."""

from __future__ import annotations

import json

from test_ui_framelog_live import _stream
from test_ui_window import start_csms
from ui_helpers import until


def test_site_limit_from_the_panel_caps_a_fake_charger(qtbot, window, run):
    panel = window.roles.csms
    panel.site_limit.setValue(3.7)

    async def scenario():
        url = await start_csms(qtbot, window)
        assert not panel.site_limit.isEnabled()  # what runs is what the form shows
        charger = _stream(qtbot, window, url, "CP-SITE", 12)
        await until(lambda: not charger.running, 60, "the charging session")
        await until(lambda: not window._pending, 5, "the log")

    run(scenario(), 90)
    store = window.live.store
    rows = [store.row(i) for i in range(store.count)]
    profile = next(i for i, r in enumerate(rows) if r.action == "SetChargingProfile"
                   and r.type == "CALL")
    limit = json.loads(store.raw(profile))[3]["csChargingProfiles"]["chargingSchedule"][
        "chargingSchedulePeriod"][0]["limit"]
    assert limit == 3700.0
    powers = []
    for i, r in enumerate(rows[profile:], profile):
        if r.action == "MeterValues" and r.type == "CALL" and r.role == "charger":
            for value in json.loads(store.raw(i))[3]["meterValue"][0]["sampledValue"]:
                if value.get("measurand") == "Power.Active.Import":
                    powers.append(float(value["value"]))
    assert powers and max(powers) <= 3700 * 1.02
