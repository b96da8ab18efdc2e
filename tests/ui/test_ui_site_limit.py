"""The fake CSMS's site limit from its panel: a fake charger started from the window gets
its TxProfile and charges within it; the field is locked while the CSMS runs."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from test_ui_framelog_live import _stream
from test_ui_window import click, start_csms
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


def test_the_limit_is_drawn_beside_the_power_live_and_from_the_capture(qtbot, window, run):
    from ui.metering import LIMIT

    window.roles.csms.site_limit.setValue(3.7)

    async def scenario():
        url = await start_csms(qtbot, window)
        charger = _stream(qtbot, window, url, "CP-LINE", 8)
        await until(lambda: not charger.running, 60, "the charging session")
        await until(lambda: not window._pending, 5, "the log")
        window.show_view("meter-values")
        window.plot.select("Power.Active.Import")
        window.plot.flush()
        def limits(meters):  # NaN (no limit in force) as None, so equal stretches compare
            return {key: (list(s.times), [None if v != v else v for v in s.values])
                    for key, s in meters.series.items() if key[3] == LIMIT}
        live = limits(window.live.meters)
        await asyncio.get_running_loop().run_in_executor(None, window.writer.flush)
        await window.open_capture(window.live.path)
        offline = limits(window.shown.meters)
        return live, offline

    import asyncio
    live, offline = run(scenario(), 90)
    key = ("CP-LINE", 1, "Power.Active.Import", LIMIT)
    assert key in live and 3.7 in live[key][1]  # kW, at the charger's connector
    assert offline == live  # the capture tells the same limits
    assert "CP-LINE c1 limit" in window.plot.series_shown()
    curve = window.plot.curves[key]
    assert curve.pen.style() == Qt.PenStyle.DashLine and curve.step


def test_the_charging_profiles_view_shows_the_installed_profile_and_its_schedule(
        qtbot, window, run):
    window.roles.csms.site_limit.setValue(3.7)
    view = window.profiles_view

    async def scenario():
        url = await start_csms(qtbot, window)
        panel = window.roles.charger
        panel.csms_url.setText(url)
        panel.charge_point.setText("CP-VIEW")
        panel.meter_values.setValue(400)
        panel.interval.setValue(0.05)
        panel.stay.setChecked(False)
        click(qtbot, panel.start_button)
        run_ = panel.runs["CP-VIEW"]
        await until(lambda: "CP-VIEW" in window.live.profiles
                    and window.live.profiles["CP-VIEW"].limited and not window._pending, 30,
                    "the TxProfile in the frames")
        window.show_view("profiles")
        view.refresh()
        assert view.charge_point.currentText() == "CP-VIEW"
        # the TxDefaultProfile the site limit sent at boot and the transaction's TxProfile
        rows = {view.profiles.item(row, 2).text(): row for row in range(view.profiles.rowCount())}
        assert sorted(rows) == ["TxDefaultProfile", "TxProfile"]
        assert view.profiles.item(rows["TxProfile"], 7).text() == "0 s: 3700 W"
        assert view.profiles.item(rows["TxDefaultProfile"], 7).text() == "0 s: 3700 W"
        assert view.composite.item(0, 1).text() == "3700"
        run_.task.cancel()

    run(scenario(), 60)


def test_the_files_folder_from_the_panel_serves_firmware_to_a_charger(qtbot, window, run, tmp_path):
    import urllib.request
    (tmp_path / "fw-9.bin").write_bytes(b"image")
    panel = window.roles.csms
    panel.files.setText(str(tmp_path))

    async def scenario():
        await start_csms(qtbot, window)
        await until(lambda: panel.role is not None and panel.role.files is not None, 10, "files")
        assert "files at http://127.0.0.1:" in panel.state.text()
        url = panel.role.files.url + "fw-9.bin"
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, lambda: urllib.request.urlopen(url, timeout=10).read())
        assert body == b"image"
        assert not panel.files.isEnabled()  # what runs is what the form shows

    import asyncio
    run(scenario(), 60)
