"""`csms --site-limit`: the fake CSMS shares a site's power among running transactions.

Over real sockets, with a charger that is not ours (the PyPI `ocpp` library) beside our
fake charger: each gets a TxProfile of the site limit divided by the transactions running,
resent when one starts or ends, and our charger's next meter value respects its share.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from websockets.asyncio.client import connect

from inspector.cli_parser import build_parser
from inspector.events import FrameLogged, Hub, Notice
from inspector.roles.charger import ChargerOptions, FakeCharger
from tests.roles_helpers import csms, running

SITE_W = 7400.0


class LibraryStation(ChargePoint):
    """A 1.6 station on the `ocpp` library that records the profiles it is sent, per purpose."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits: dict[str, list[float]] = {"TxProfile": [], "TxDefaultProfile": []}
        self.changed = {purpose: asyncio.Event() for purpose in self.limits}
        self.connectors: list[int] = []

    @on("SetChargingProfile")
    async def on_profile(self, connector_id, cs_charging_profiles, **_):
        purpose = cs_charging_profiles["charging_profile_purpose"]
        periods = cs_charging_profiles["charging_schedule"]["charging_schedule_period"]
        self.limits[purpose].append(float(periods[0]["limit"]))
        self.connectors.append(connector_id)
        self.changed[purpose].set()
        return call_result.SetChargingProfile(status="Accepted")


async def next_limit(station: LibraryStation, purpose: str = "TxProfile",
                     timeout: float = 10) -> float:
    await asyncio.wait_for(station.changed[purpose].wait(), timeout)
    station.changed[purpose].clear()
    return station.limits[purpose][-1]


async def test_the_site_limit_is_shared_and_reshared_as_transactions_start_and_end():
    powers: list[float] = []
    hub = Hub()

    def power(event):
        record = getattr(event, "record", None)
        if isinstance(event, FrameLogged) and record.action == "MeterValues" and \
                record.direction == "to_csms":
            for value in json.loads(record.frame.raw)[3]["meterValue"][0]["sampledValue"]:
                if value.get("measurand") == "Power.Active.Import":
                    powers.append(float(value["value"]))
    hub.subscribe(power)
    async with running(csms(site_limit_w=SITE_W)) as server:
        async with connect(server.url + "LIB1", subprotocols=["ocpp1.6"]) as ws:
            station = LibraryStation("LIB1", ws, response_timeout=10)
            serving = asyncio.create_task(station.start())
            try:
                await station.call(call.BootNotification(charge_point_model="Lib",
                                                         charge_point_vendor="PyPI"))
                # at boot: a TxDefaultProfile for every connector, the share a transaction
                # starting now would get (the whole site: nothing else runs)
                assert await next_limit(station, "TxDefaultProfile") == SITE_W
                assert station.connectors == [0]
                started = await station.call(call.StartTransaction(
                    connector_id=1, id_tag="TAG1", meter_start=0,
                    timestamp="2026-11-30T10:00:00Z"))
                assert await next_limit(station) == SITE_W  # alone on the site

                ours = FakeCharger(hub, ChargerOptions(url=server.url + "OURS"))
                await ours.connect()
                try:
                    await ours.boot()
                    for _ in range(100):  # its TxDefaultProfile: half, one already runs
                        if ours.profiles.profiles:
                            break
                        await asyncio.sleep(0.05)
                    assert [(p.purpose_name, p.connector) for p in ours.profiles.profiles] == \
                        [("TxDefaultProfile", 0)]
                    await ours.plug_in()
                    await ours.start_transaction()
                    assert await next_limit(station) == SITE_W / 2  # two share it now
                    for _ in range(100):  # our charger got its TxProfile too (bounded wait)
                        if ours.limit_now_w() is not None:
                            break
                        await asyncio.sleep(0.05)
                    assert ours.limit_now_w() == SITE_W / 2
                    await ours.send_meter_values()
                    assert powers[-1] <= SITE_W / 2 * 1.02
                    await ours.stop_transaction()
                    assert await next_limit(station) == SITE_W  # alone again
                    assert station.limits["TxDefaultProfile"] == [SITE_W]  # sent at boot only
                finally:
                    await ours.close()
                await station.call(call.StopTransaction(
                    transaction_id=started.transaction_id, meter_stop=10,
                    timestamp="2026-11-30T10:05:00Z"))
                assert not server.site.running
            finally:
                serving.cancel()


def test_the_cli_takes_the_site_limit_in_kw():
    args = build_parser().parse_args(["csms", "--site-limit", "22"])
    assert args.site_limit == 22.0
    for bad in ("0", "-3", "nan", "lots"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["csms", "--site-limit", bad])


class PlainStation(ChargePoint):
    """A 1.6 station without smart charging: SetChargingProfile is not implemented."""


async def test_a_charger_without_smart_charging_refusing_the_default_profile_is_a_notice():
    hub = Hub()
    notices: list = []
    hub.subscribe(lambda event: notices.append(event) if isinstance(event, Notice) else None)
    async with running(csms(hub, site_limit_w=SITE_W)) as server:
        async with connect(server.url + "PLAIN", subprotocols=["ocpp1.6"]) as ws:
            station = PlainStation("PLAIN", ws, response_timeout=10)
            serving = asyncio.create_task(station.start())
            try:
                await station.call(call.BootNotification(charge_point_model="Plain",
                                                         charge_point_vendor="PyPI"))
                for _ in range(200):  # bounded: the refusal comes back within milliseconds
                    if any("TxDefaultProfile" in n.text for n in notices):
                        break
                    await asyncio.sleep(0.05)
            finally:
                serving.cancel()
    refusal = [n for n in notices if "TxDefaultProfile" in n.text]
    assert refusal and refusal[0].level == "info", notices
    assert "PLAIN answered CALLERROR to a TxDefaultProfile of 7400 W" in refusal[0].text


async def test_a_201_charger_gets_its_default_profile_for_evse_0_at_boot():
    hub = Hub()
    async with running(csms(hub, site_limit_w=SITE_W)) as server:
        ours = FakeCharger(hub, ChargerOptions(url=server.url + "V201", version="2.0.1"))
        await ours.connect()
        try:
            await ours.boot()
            for _ in range(200):
                if ours.profiles.profiles:
                    break
                await asyncio.sleep(0.05)
            assert [(p.purpose_name, p.connector) for p in ours.profiles.profiles] == \
                [("TxDefaultProfile", 0)]
            assert ours.limit_now_w() is None  # relative: it limits transactions from their start
            await ours.plug_in()
            await ours.start_transaction()
            assert ours.limit_now_w() == SITE_W  # from the default, or the TxProfile after it
        finally:
            await ours.close()
