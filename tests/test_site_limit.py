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
from inspector.events import FrameLogged, Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from tests.roles_helpers import csms, running

SITE_W = 7400.0


class LibraryStation(ChargePoint):
    """A 1.6 station on the `ocpp` library that records the profiles it is sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.limits: list[float] = []
        self.changed = asyncio.Event()

    @on("SetChargingProfile")
    async def on_profile(self, connector_id, cs_charging_profiles, **_):
        periods = cs_charging_profiles["charging_schedule"]["charging_schedule_period"]
        self.limits.append(float(periods[0]["limit"]))
        self.changed.set()
        return call_result.SetChargingProfile(status="Accepted")


async def next_limit(station: LibraryStation, timeout: float = 10) -> float:
    await asyncio.wait_for(station.changed.wait(), timeout)
    station.changed.clear()
    return station.limits[-1]


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
                started = await station.call(call.StartTransaction(
                    connector_id=1, id_tag="TAG1", meter_start=0,
                    timestamp="2026-11-30T10:00:00Z"))
                assert await next_limit(station) == SITE_W  # alone on the site

                ours = FakeCharger(hub, ChargerOptions(url=server.url + "OURS"))
                await ours.connect()
                try:
                    await ours.boot()
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
