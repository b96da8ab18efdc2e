"""A station with two connectors (model ac-22kw-2c) on one connection, over real sockets
against our fake CSMS: one boot, a status per connector, a transaction on each at once,
and CSMS calls routed to the connector they name."""

from __future__ import annotations

import pytest

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.roles.charger_models import BUILT_IN, ModelError, load_model
from inspector.roles.station import ChargingStation, make_charger
from tests.roles_helpers import csms, running
from tests.test_charger_metering import Frames

TWIN = BUILT_IN["ac-22kw-2c"]


def station_options(url: str, version: str, **kw) -> ChargerOptions:
    return ChargerOptions(url=url, version=version, model=TWIN, interval=0.05, meter_values=3, **kw)


def where(payload: dict) -> int | None:
    return payload.get("connectorId") if "connectorId" in payload and "evseId" not in payload \
        else payload.get("evseId", (payload.get("evse") or {}).get("id"))


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_two_connectors_boot_once_and_charge_at_the_same_time(version):
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        station = make_charger(hub, station_options(server.url + "TWIN", version))
        assert isinstance(station, ChargingStation) and len(station.connectors) == 2
        await station.connect()
        try:
            await station.run_session()
        finally:
            await station.close()
    actions = [a for a, _ in frames.calls]
    assert actions.count("BootNotification") == 1
    statuses = [p for a, p in frames.calls if a == "StatusNotification"]
    assert {where(p) for p in statuses} == {1, 2}
    if version == "1.6":
        starts = [p for a, p in frames.calls if a == "StartTransaction"]
        assert sorted(p["connectorId"] for p in starts) == [1, 2]
        meters = [p for a, p in frames.calls if a == "MeterValues"]
        assert sorted({p["connectorId"] for p in meters}) == [1, 2]
        assert len({p["transactionId"] for p in meters}) == 2  # one transaction each
    else:
        started = [p for a, p in frames.calls
                   if a == "TransactionEvent" and p["eventType"] == "Started"]
        assert sorted(p["evse"]["id"] for p in started) == [1, 2]
        assert len({p["transactionInfo"]["transactionId"] for p in started}) == 2
    # both were charging at once: the second transaction started before the first ended
    events = [("start" if a == "StartTransaction" or (a == "TransactionEvent" and p["eventType"] == "Started")
               else "end") for a, p in frames.calls
              if a in ("StartTransaction", "StopTransaction")
              or (a == "TransactionEvent" and p["eventType"] in ("Started", "Ended"))]
    assert events[:2] == ["start", "start"], events


async def test_csms_calls_reach_the_connector_they_name():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        station = make_charger(hub, station_options(server.url + "ROUTE", "1.6"))
        await station.connect()
        try:
            await station.boot()
            await station.report_connectors()
            config = await server.call("ROUTE", "GetConfiguration", {"key": ["NumberOfConnectors"]})
            assert config.payload["configurationKey"][0]["value"] == "2"
            # a remote start without a connector takes the first free one; the next, the other
            for expected in (1, 2):
                answer = await server.call("ROUTE", "RemoteStartTransaction", {"idTag": "TAG1"})
                assert answer.payload == {"status": "Accepted"}
                start = await frames.wait_for(lambda a, p: a == "StartTransaction", expected)
                assert start[-1]["connectorId"] == expected
            answer = await server.call("ROUTE", "RemoteStartTransaction", {"idTag": "TAG1"})
            assert answer.payload == {"status": "Rejected"}  # nothing free
            unlock = await server.call("ROUTE", "UnlockConnector", {"connectorId": 3})
            assert unlock.payload == {"status": "NotSupported"}
            # a profile for connector 2 limits connector 2 only
            profile = {"connectorId": 2, "csChargingProfiles": {
                "chargingProfileId": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile",
                "transactionId": station.connector(2).transaction_id,
                "chargingProfileKind": "Relative", "chargingSchedule": {
                    "chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3700}]}}}
            answer = await server.call("ROUTE", "SetChargingProfile", profile)
            assert answer.payload == {"status": "Accepted"}
            assert station.connector(2).limit_now_w() == 3700
            assert station.connector(1).limit_now_w() is None
            # a remote stop finds the connector of its transaction
            second = station.connector(2).transaction_id
            answer = await server.call("ROUTE", "RemoteStopTransaction", {"transactionId": second})
            assert answer.payload == {"status": "Accepted"}
            stops = await frames.wait_for(lambda a, p: a == "StopTransaction")
            assert stops[0]["transactionId"] == second
            assert station.connector(1).transaction_id is not None  # still charging
            # Inoperative for the whole station: the busy connector is Scheduled
            answer = await server.call("ROUTE", "ChangeAvailability",
                                       {"connectorId": 0, "type": "Inoperative"})
            assert answer.payload == {"status": "Scheduled"}
        finally:
            await station.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_charge_points_maximum_caps_the_station_not_each_connector(version):
    """ChargePointMaxProfile (2.x ChargingStationMaxProfile) limits the station's total:
    two connectors charging share it, the composite schedule reports it, and clearing it
    lifts the cap."""
    hub = Hub()
    async with running(csms()) as server:
        station = make_charger(hub, station_options(server.url + "SHARE", version))
        await station.connect()
        try:
            await station.boot()
            for connector in station.connectors:
                await connector.present_card()
                await connector.plug_in()
                await connector.start_transaction()
            schedule = {"chargingRateUnit": "W", "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 11000}]}
            if version == "1.6":
                request = {"connectorId": 0, "csChargingProfiles": {
                    "chargingProfileId": 1, "stackLevel": 0,
                    "chargingProfilePurpose": "ChargePointMaxProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {**schedule, "startSchedule": "2020-01-01T00:00:00Z"}}}
            else:
                request = {"evseId": 0, "chargingProfile": {
                    "id": 1, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
                    "chargingProfileKind": "Absolute", "chargingSchedule": [
                        {"id": 1, "startSchedule": "2020-01-01T00:00:00Z", **schedule}]}}
            answer = await server.call("SHARE", "SetChargingProfile", request)
            assert answer.payload["status"] == "Accepted"
            assert [c.limit_now_w() for c in station.connectors] == [5500, 5500]
            for connector in station.connectors:
                await connector.send_meter_values()
            drawn = [c.meter.last.power_w for c in station.connectors]  # what was just sent
            assert all(0 < watts <= 5500 for watts in drawn), drawn
            assert sum(drawn) <= 11000
            field = "connectorId" if version == "1.6" else "evseId"
            composite = await server.call("SHARE", "GetCompositeSchedule",
                                          {field: 0, "duration": 60, "chargingRateUnit": "W"})
            body = composite.payload.get("chargingSchedule") or composite.payload["schedule"]
            assert body["chargingSchedulePeriod"][0]["limit"] == 11000
            # one connector ends its transaction: the other may take the whole maximum
            await station.connector(2).stop_transaction()
            assert station.connector(1).limit_now_w() == 11000
            clear = {"chargingProfilePurpose": "ChargePointMaxProfile"} if version == "1.6" else \
                {"chargingProfileCriteria": {"chargingProfilePurpose": "ChargingStationMaxProfile"}}
            answer = await server.call("SHARE", "ClearChargingProfile", clear)
            assert answer.payload["status"] == "Accepted"
            assert station.connector(1).limit_now_w() is None
        finally:
            await station.close()


async def test_a_reset_stops_every_transaction_and_boots_the_station_once():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        station = make_charger(hub, station_options(server.url + "RESET", "1.6"))
        await station.connect()
        try:
            await station.boot()
            await station.report_connectors()
            for connector in station.connectors:
                await connector.plug_in()
                await connector.start_transaction()
            answer = await server.call("RESET", "Reset", {"type": "Soft"})
            assert answer.payload == {"status": "Accepted"}
            await frames.wait_for(lambda a, p: a == "BootNotification", 2)
            after_boot = await frames.wait_for(lambda a, p: a == "StatusNotification"
                                               and p["status"] == "Available", 4)
            stops = [p for a, p in frames.calls if a == "StopTransaction"]
            assert sorted(p["reason"] for p in stops) == ["SoftReset", "SoftReset"]
            assert {p["connectorId"] for p in after_boot[-2:]} == {1, 2}
        finally:
            await station.close()


def test_a_single_connector_model_stays_a_fake_charger(tmp_path):
    assert type(make_charger(Hub(), ChargerOptions(url="ws://127.0.0.1:9/X"))) is FakeCharger
    model = tmp_path / "quad.json"
    model.write_text('{"connectors": 4, "phases": 3, "max_current_a": 16}')
    assert load_model(str(model)).connectors == 4
    model.write_text('{"connectors": 0}')
    with pytest.raises(ModelError, match="connectors must be 1 to 8"):
        load_model(str(model))
    assert "2 x 22.08 kW" in TWIN.summary()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_station_offline_queues_every_connector_and_delivers_in_order(version):
    """The station's one connection goes: both connectors go on charging and queue into one
    queue; a 1.6 transaction started offline on connector 2 gets its real id; back online,
    every connector reports its status, then the queue goes out in the order it was made."""
    hub = Hub()
    frames = Frames(hub)
    quick = {"1.6": {"RetryBackOffWaitMinimum": "0", "RetryBackOffRandomRange": "0"},
             "2.0.1": {"OCPPCommCtrlr/RetryBackOffWaitMinimum": "0",
                       "OCPPCommCtrlr/RetryBackOffRandomRange": "0"}}[version]
    async with running(csms()) as server:
        station = make_charger(hub, station_options(server.url + "NET", version, reconnect=True,
                                                    configuration=quick))
        one, two = station.connectors
        await station.connect()
        try:
            await station.boot()
            await station.report_connectors()
            for connector in (one,):
                await connector.present_card()
                await connector.plug_in()
                await connector.start_transaction()
            await station.go_offline(600)  # until come_online()
            assert not station.online and not two.online
            await two.present_card()  # from the cache or the local rules: offline
            await two.plug_in()
            await two.start_transaction()  # offline: a local id (1.6)
            await one.send_meter_values()
            await two.send_meter_values()
            await one.stop_transaction()
            assert len(station.queue) == 4 and station.queue is two.queue
            station.come_online()
            await station.wait_delivered(30)
            assert two.online and one.endpoint is two.endpoint
        finally:
            await station.close()
    boots = [a for a, _ in frames.calls].count("BootNotification")
    assert boots == 1  # a network loss is not a reboot
    if version == "1.6":
        delivered = [(a, p) for a, p in frames.calls
                     if a in ("StartTransaction", "MeterValues", "StopTransaction")][1:]
        assert [a for a, _ in delivered] == ["StartTransaction", "MeterValues", "MeterValues",
                                             "StopTransaction"]
        real = two.transaction_id
        assert isinstance(real, int) and real > 0  # the CSMS's id, not the local -1
        assert delivered[2][1]["transactionId"] == real and delivered[2][1]["connectorId"] == 2
    else:
        events = [p for a, p in frames.calls if a == "TransactionEvent" and p.get("offline")]
        assert [(e["eventType"], (e.get("evse") or {}).get("id")) for e in events][:1] == \
            [("Started", 2)]
        assert [e["eventType"] for e in events] == ["Started", "Updated", "Updated", "Ended"]
    # back online, both connectors said where they stand before the queue went out
    statuses = [i for i, (a, _) in enumerate(frames.calls) if a == "StatusNotification"]
    assert len(statuses) >= 4
