"""The fake charger panel's Fault and Recover buttons, on a charger connected to the
window's fake CSMS: the frames say Faulted with the chosen error code, then Available."""

from __future__ import annotations

import json

from test_ui_window import click, start_charger, start_csms
from ui_helpers import until


def logged(window):
    """The live store with every frame the roles have logged so far: the window takes them
    in batches (ui/mainwindow.py), so the last ones may still wait for the next one."""
    window.drain()
    return window.live.store


def statuses(window, charge_point: str) -> list[tuple[str, str]]:
    store = logged(window)
    out = []
    for i in range(store.count):
        row = store.row(i)
        if row.action == "StatusNotification" and row.type == "CALL" and \
                row.charge_point_id == charge_point and row.role == "charger":
            payload = json.loads(store.raw(i))[3]
            out.append((payload["status"], payload["errorCode"]))
    return out


def test_fault_and_recover_buttons(qtbot, window, run):
    panel = window.roles.charger

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        await start_charger(qtbot, window, "CP-FAULT", meter_values=2)
        panel.runs_table.selectRow(0)
        assert panel.fault_button.isEnabled() and not panel.recover_button.isEnabled()
        panel.fault_code.setCurrentText("OverCurrentFailure")
        click(qtbot, panel.fault_button)
        await until(lambda: ("Faulted", "OverCurrentFailure") in statuses(window, "CP-FAULT")
                    and not window._pending, 10, "the Faulted status")
        await until(lambda: panel.recover_button.isEnabled(), 5, "Recover")
        click(qtbot, panel.recover_button)
        await until(lambda: statuses(window, "CP-FAULT")[-1] == ("Available", "NoError"), 10,
                    "the recovery")

    run(scenario(), 60)


def test_the_model_picked_in_the_panel_is_what_the_charger_is(qtbot, window, run):
    panel = window.roles.charger
    panel.model.setCurrentIndex(panel.model.findData("ac-11kw"))

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        await start_charger(qtbot, window, "CP-MODEL", meter_values=2)

    run(scenario(), 60)
    store = logged(window)
    boot = powers = None
    powers = []
    for i in range(store.count):
        row = store.row(i)
        if row.charge_point_id != "CP-MODEL" or row.role != "charger" or row.type != "CALL":
            continue
        payload = json.loads(store.raw(i))[3]
        if row.action == "BootNotification":
            boot = payload
        elif row.action == "MeterValues":
            powers += [float(v["value"]) for v in payload["meterValue"][0]["sampledValue"]
                       if v.get("measurand") == "Power.Active.Import"]
    assert boot["chargePointModel"] == "AC 11"
    assert powers and min(powers) > 10_500


def test_the_ev_set_in_the_panel_fills_and_suspends(qtbot, window, run):
    panel = window.roles.charger
    panel.model.setCurrentIndex(panel.model.findData("ac-22kw"))
    panel.battery.setValue(0.1)  # 2 % = 2 Wh: about 0.3 s at 22 kW
    panel.soc.setValue(78)
    panel.target_soc.setValue(80)

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        await start_charger(qtbot, window, "CP-EVUI", meter_values=80)  # 80 x 0.02 s

    run(scenario(), 60)
    assert ("SuspendedEV", "NoError") in statuses(window, "CP-EVUI")


def test_a_two_connector_model_charges_on_both_connectors_from_the_panel(qtbot, window, run):
    panel = window.roles.charger
    panel.model.setCurrentIndex(panel.model.findData("ac-22kw-2c"))

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        await start_charger(qtbot, window, "CP-TWIN", meter_values=2)

    run(scenario(), 60)
    store = logged(window)
    boots, connectors = 0, set()
    for i in range(store.count):
        row = store.row(i)
        if row.charge_point_id != "CP-TWIN" or row.role != "charger" or row.type != "CALL":
            continue
        if row.action == "BootNotification":
            boots += 1
        elif row.action == "StartTransaction":
            connectors.add(json.loads(store.raw(i))[3]["connectorId"])
    assert boots == 1 and connectors == {1, 2}
    assert "2 x 22.08 kW" in panel.model.currentText()


def test_go_offline_and_back_online_from_the_panel(qtbot, window, run):
    """The selected charger loses its network from the panel: its transaction messages are
    queued (the row says how many), Back online reconnects and delivers them."""
    panel = window.roles.charger
    panel.stay.setChecked(True)

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        panel.interval.setValue(0.05)
        await start_charger(qtbot, window, "CP-NET", meter_values=2)
        panel.runs_table.selectRow(0)
        charger = panel.runs["CP-NET"].charger
        await until(lambda: panel.offline_button.isEnabled(), 10, "Go offline")
        panel.offline_for.setValue(3600)
        click(qtbot, panel.offline_button)
        await until(lambda: not charger.online and panel.online_button.isEnabled(), 10,
                    "offline")
        await window.on_roles(_queue_a_transaction(charger))
        await until(lambda: "2 message(s) queued" in panel.runs["CP-NET"].state, 10, "the row")
        click(qtbot, panel.online_button)
        await until(lambda: charger.online and not charger.queue, 20, "the delivery")
        await until(lambda: "back online" in panel.runs["CP-NET"].state, 10, "the row again")

    run(scenario(), 90)
    store = logged(window)
    delivered = [json.loads(store.raw(i))[3] for i in range(store.count)
                 if store.row(i).charge_point_id == "CP-NET" and store.row(i).role == "csms"
                 and store.row(i).type == "CALL" and store.row(i).action == "StartTransaction"]
    assert len(delivered) == 2  # the online session's and the one queued offline


async def _queue_a_transaction(charger):
    await charger.plug_in()
    await charger.start_transaction()
    await charger.stop_transaction()


def test_the_panel_shows_the_local_list_the_csms_installed(qtbot, window, run):
    """SendLocalList from the window's fake CSMS to its fake charger: the charger panel's
    device line shows the list's version and cards, and the cache the session filled."""
    panel = window.roles.charger
    panel.stay.setChecked(True)

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        panel.interval.setValue(0.05)
        await start_charger(qtbot, window, "CP-LIST", meter_values=1)
        panel.runs_table.selectRow(0)
        await until(lambda: "Local list v0: 0 card(s)" in panel.device_state.text(), 10, "empty list")
        csms = window.roles.csms.role
        await until(lambda: "CP-LIST" in csms.stations, 10, "the station")
        answer = await window.on_roles(csms.call("CP-LIST", "SendLocalList", {
            "listVersion": 7, "updateType": "Full", "localAuthorizationList": [
                {"idTag": "CARD-A", "idTagInfo": {"status": "Accepted"}},
                {"idTag": "CARD-B", "idTagInfo": {"status": "Blocked"}}]}))
        assert answer.payload == {"status": "Accepted"}
        await until(lambda: "Local list v7: 2 card(s)" in panel.device_state.text(), 10,
                    "the installed list")
        assert "cache: 1 card(s)" in panel.device_state.text()  # the session's card

    run(scenario(), 60)


def test_plug_in_present_card_and_unplug_by_hand(qtbot, window, run):
    """After its session a charger kept connected is driven by hand: Plug in, Present card
    starts a transaction (with sampled meter values), Present card again stops it, Unplug."""
    panel = window.roles.charger
    panel.stay.setChecked(True)

    async def scenario():
        url = await start_csms(qtbot, window)
        panel.csms_url.setText(url)
        panel.interval.setValue(0.05)
        await start_charger(qtbot, window, "CP-HAND", meter_values=1)
        panel.runs_table.selectRow(0)
        await until(lambda: panel.plug_button.isEnabled(), 20, "the buttons after the session")
        charger = panel.runs["CP-HAND"].charger
        click(qtbot, panel.plug_button)
        await until(lambda: panel.runs["CP-HAND"].state == "cable plugged in", 10, "plugged in")
        click(qtbot, panel.card_button)
        await until(lambda: charger.transaction_id is not None, 10, "a transaction")
        await until(lambda: _calls(window, "CP-HAND", "MeterValues") >= 3, 10, "meter values")
        click(qtbot, panel.card_button)
        await until(lambda: panel.runs["CP-HAND"].state == "transaction stopped", 10, "stopped")
        click(qtbot, panel.unplug_button)
        await until(lambda: panel.runs["CP-HAND"].state == "cable unplugged", 10, "unplugged")

    run(scenario(), 60)
    assert _calls(window, "CP-HAND", "StartTransaction") == 2  # the session's and the one by hand
    assert _calls(window, "CP-HAND", "StopTransaction") == 2


def _calls(window, charge_point: str, action: str) -> int:
    store = logged(window)
    return sum(1 for i in range(store.count)
               if store.row(i).charge_point_id == charge_point and store.row(i).role == "csms"
               and store.row(i).type == "CALL" and store.row(i).action == action)
