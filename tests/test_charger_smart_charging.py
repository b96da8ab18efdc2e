"""The fake charger under smart charging, over real sockets: the CSMS installs a profile,
the next meter value respects it, GetCompositeSchedule reports it, clearing lifts it."""

from __future__ import annotations

import asyncio
import json

import pytest

from inspector.events import FrameLogged, Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.roles.charger_models import BUILT_IN
from inspector.timestamps import iso
from tests.roles_helpers import csms, recording_hub, running

LIMIT_W = 3700.0


def tx_profile(version: str, transaction_id, *, unit="W", limit=LIMIT_W) -> tuple[str, dict]:
    schedule = {"chargingRateUnit": unit,
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}
    if version == "1.6":
        return "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {
            "chargingProfileId": 7, "transactionId": transaction_id, "stackLevel": 1,
            "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
            "chargingSchedule": schedule}}
    return "SetChargingProfile", {"evseId": 1, "chargingProfile": {
        "id": 7, "transactionId": transaction_id, "stackLevel": 1,
        "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
        "chargingSchedule": [{"id": 1, **schedule}]}}


def power_of(event) -> float | None:
    """The Power.Active.Import a MeterValues / TransactionEvent CALL carries, in W."""
    record = event.record
    if record.direction != "to_csms" or record.action not in ("MeterValues", "TransactionEvent"):
        return None
    message = json.loads(record.frame.raw)
    for value in (message[3].get("meterValue") or [{}])[0].get("sampledValue", []):
        if value.get("measurand") == "Power.Active.Import":
            return float(value["value"])
    return None


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_tx_profile_caps_the_next_meter_value_and_the_composite_schedule(version):
    seen = []
    hub = Hub()
    hub.subscribe(lambda e: isinstance(e, FrameLogged) and power_of(e) is not None
                  and seen.append(power_of(e)))
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "CP-SC", version=version,
                                                  model=BUILT_IN["ac-11kw"]))
        await charger.connect()
        try:
            await charger.boot()
            await charger.plug_in()
            await charger.start_transaction()
            await charger.send_meter_values()
            assert seen[-1] > 10_500  # an 11 kW charger drawing freely
            station = server.stations["CP-SC"]
            action, payload = tx_profile(version, charger.transaction_id)
            answer = await station.call(action, payload)
            assert answer.payload["status"] == "Accepted"
            await charger.send_meter_values()
            assert seen[-1] <= LIMIT_W * 1.02  # from the next meter value on
            composite = (await station.call("GetCompositeSchedule", {
                ("connectorId" if version == "1.6" else "evseId"): 1, "duration": 600,
                "chargingRateUnit": "W"})).payload
            schedule = composite["chargingSchedule" if version == "1.6" else "schedule"]
            assert composite["status"] == "Accepted"
            assert schedule["chargingSchedulePeriod"] == [{"startPeriod": 0, "limit": LIMIT_W}]
            clear = ({"id": 7} if version == "1.6" else {"chargingProfileId": 7})
            assert (await station.call("ClearChargingProfile", clear)).payload["status"] == "Accepted"
            await charger.send_meter_values()
            assert seen[-1] > 10_500  # lifted
            assert (await station.call("ClearChargingProfile", clear)).payload["status"] == "Unknown"
        finally:
            await charger.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_profiles_a_charger_must_refuse(version):
    async with running(csms()) as server:
        charger = FakeCharger(Hub(), ChargerOptions(url=server.url + "CP-SC", version=version))
        await charger.connect()
        try:
            await charger.boot()
            station = server.stations["CP-SC"]
            transaction = 1 if version == "1.6" else "1"  # an integer in 1.6, a string in 2.0.1
            # a TxProfile with no transaction running
            action, payload = tx_profile(version, transaction)
            assert (await station.call(action, payload)).payload["status"] == "Rejected"
            # a schedule whose first period does not start at 0
            action, payload = tx_profile(version, transaction)
            body = payload["csChargingProfiles" if version == "1.6" else "chargingProfile"]
            body["chargingProfilePurpose"] = "TxDefaultProfile"
            body["chargingProfileKind"] = "Absolute"
            schedule = body["chargingSchedule"] if version == "1.6" else body["chargingSchedule"][0]
            schedule["startSchedule"] = iso(1_795_600_800.0)
            schedule["chargingSchedulePeriod"][0]["startPeriod"] = 60
            answer = (await station.call(action, payload)).payload
            assert answer["status"] == "Rejected"
            if version != "1.6":
                assert "start at 0" in answer["statusInfo"]["additionalInfo"]
        finally:
            await charger.close()


async def test_get_charging_profiles_reports_what_is_installed():
    hub, events = recording_hub()
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "CP-GP", version="2.0.1"))
        await charger.connect()
        try:
            await charger.boot()
            station = server.stations["CP-GP"]
            default = {"evseId": 0, "chargingProfile": {
                "id": 3, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Absolute", "chargingSchedule": [{
                    "id": 1, "startSchedule": iso(1_795_600_800.0), "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}]}}
            assert (await station.call("SetChargingProfile", default)).payload["status"] == "Accepted"
            none = await station.call("GetChargingProfiles", {
                "requestId": 1, "chargingProfile": {"chargingProfilePurpose": "TxProfile"}})
            assert none.payload["status"] == "NoProfiles"
            found = await station.call("GetChargingProfiles", {
                "requestId": 2, "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"}})
            assert found.payload["status"] == "Accepted"
            for _ in range(100):  # the report follows the answer (bounded wait)
                reports = [e.record for e in events if isinstance(e, FrameLogged)
                           and e.record.action == "ReportChargingProfiles"
                           and e.record.type.value == "CALL"]
                if reports:
                    break
                await asyncio.sleep(0.05)
            report = json.loads(reports[0].frame.raw)[3]
            assert reports[0].valid is not False
            assert (report["requestId"], report["evseId"], report["tbc"]) == (2, 0, False)
            assert [p["id"] for p in report["chargingProfile"]] == [3]
        finally:
            await charger.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_full_ev_stops_drawing_and_the_charger_says_suspended_ev(version):
    hub, events = recording_hub()
    async with running(csms()) as server:
        # a 10 Wh battery at 50 %, stopping at 60 %: full within a few seconds at 7.36 kW
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "CP-EV", version=version,
                                                  battery_kwh=0.01, soc=50, target_soc=60))
        await charger.connect()
        try:
            await charger.boot()
            await charger.plug_in()
            await charger.start_transaction()
            for _ in range(400):  # bounded: 400 samples, 20 s at most
                await asyncio.sleep(0.05)
                await charger.send_meter_values()
                if charger.status == "SuspendedEV":
                    break
            assert charger.status == "SuspendedEV" and charger.meter.soc == 60
            await charger.send_meter_values()
            assert charger.meter.last.power_w == 0 and charger.transaction_id is not None
        finally:
            await charger.close()
    calls_ = [(e.record.action, json.loads(e.record.frame.raw)[3]) for e in events
              if isinstance(e, FrameLogged) and e.record.type.value == "CALL"
              and e.record.direction == "to_csms"]
    if version == "1.6":
        assert ("StatusNotification", "SuspendedEV") in [(a, p.get("status")) for a, p in calls_]
    else:
        states = [p["transactionInfo"].get("chargingState") for a, p in calls_
                  if a == "TransactionEvent"]
        assert "SuspendedEV" in states
    assert all(e.record.valid is not False for e in events if isinstance(e, FrameLogged))


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_meter_values_carry_the_measurands_the_configuration_asks_for(version):
    hub, events = recording_hub()
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "CP-MV", version=version))
        await charger.connect()
        try:
            await charger.boot()
            await charger.plug_in()
            await charger.start_transaction()
            station = server.stations["CP-MV"]
            wanted = "Energy.Active.Import.Register,SoC"
            if version == "1.6":
                answer = await station.call("ChangeConfiguration", {
                    "key": "MeterValuesSampledData", "value": wanted})
                assert answer.payload["status"] == "Accepted"
            else:
                answer = await station.call("SetVariables", {"setVariableData": [{
                    "attributeValue": wanted, "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "TxUpdatedMeasurands"}}]})
                assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
            await charger.send_meter_values()
        finally:
            await charger.close()
    last = [json.loads(e.record.frame.raw)[3] for e in events if isinstance(e, FrameLogged)
            and e.record.action in ("MeterValues", "TransactionEvent")
            and e.record.type.value == "CALL" and e.record.direction == "to_csms"][-1]
    measurands = {v["measurand"] for v in last["meterValue"][0]["sampledValue"]}
    assert measurands == {"Energy.Active.Import.Register", "SoC"}
