"""Meter values as the configuration asks: the sample interval paces a session (and a CSMS
changing it changes the pace), clock-aligned values on the wall clock's boundaries with
their own measurands, in 1.6 and 2.0.1, over real sockets against our fake CSMS."""

from __future__ import annotations

import asyncio
import json
import time

from inspector.events import FrameLogged, Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.roles.charger_metering import next_boundary
from inspector.timestamps import parse_time
from tests.roles_helpers import csms, running


class Frames:
    """The CALLs a charger sends, as (action, payload), for bounded waits."""

    def __init__(self, hub: Hub):
        self.calls: list[tuple[str, dict]] = []
        self.arrived = asyncio.Event()
        hub.subscribe(self._seen)

    def _seen(self, event) -> None:
        if isinstance(event, FrameLogged) and event.record.direction == "to_csms" \
                and event.record.frame.type.value == "CALL":
            message = json.loads(event.record.frame.raw)
            self.calls.append((message[2], message[3]))
            self.arrived.set()

    async def wait_for(self, test, count: int = 1, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = [payload for action, payload in self.calls if test(action, payload)]
            if len(found) >= count:
                return found
            left = deadline - time.monotonic()
            assert left > 0, f"only {len(found)} of {count} within {timeout} s: {self.calls[-5:]}"
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except asyncio.TimeoutError:
                pass


def clock_values_16(action, payload) -> bool:
    return action == "MeterValues" and \
        payload["meterValue"][0]["sampledValue"][0].get("context") == "Sample.Clock"


async def test_clock_aligned_values_16_follow_the_interval_and_their_own_measurands():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "ALIGN16"))
        await charger.connect()
        try:
            await charger.boot()
            answer = await server.call("ALIGN16", "ChangeConfiguration",
                                       {"key": "ClockAlignedDataInterval", "value": "1"})
            assert answer.payload == {"status": "Accepted"}
            idle = await frames.wait_for(clock_values_16, 2)
            stamps = [parse_time(p["meterValue"][0]["timestamp"]) for p in idle]
            assert stamps[1] - stamps[0] >= 1  # one value per boundary, never two
            for payload in idle:
                assert "transactionId" not in payload
                measurands = [v["measurand"] for v in payload["meterValue"][0]["sampledValue"]]
                assert measurands == ["Energy.Active.Import.Register"]  # MeterValuesAlignedData
            await server.call("ALIGN16", "ChangeConfiguration",
                              {"key": "MeterValuesAlignedData",
                               "value": "Energy.Active.Import.Register,Power.Active.Import"})
            await charger.plug_in()
            transaction = await charger.start_transaction()
            during = await frames.wait_for(
                lambda a, p: clock_values_16(a, p) and p.get("transactionId") == transaction)
            measurands = {v["measurand"] for v in during[0]["meterValue"][0]["sampledValue"]}
            assert measurands == {"Energy.Active.Import.Register", "Power.Active.Import"}
            await server.call("ALIGN16", "ChangeConfiguration",
                              {"key": "ClockAlignedDataInterval", "value": "0"})
            await charger.stop_transaction()
        finally:
            await charger.close()


async def test_clock_aligned_values_201_outside_and_inside_a_transaction():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "ALIGN2", version="2.0.1"))
        await charger.connect()
        try:
            await charger.boot()
            answer = await server.call("ALIGN2", "SetVariables", {"setVariableData": [
                {"component": {"name": "AlignedDataCtrlr"}, "variable": {"name": "Interval"},
                 "attributeValue": "1"}]})
            assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
            idle = await frames.wait_for(
                lambda a, p: a == "MeterValues"
                and p["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock")
            assert idle[0]["evseId"] == 1
            await charger.plug_in()
            await charger.start_transaction()
            during = await frames.wait_for(
                lambda a, p: a == "TransactionEvent" and p["triggerReason"] == "MeterValueClock")
            assert during[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"
            assert during[0]["transactionInfo"]["transactionId"] == charger.transaction_id
        finally:
            await charger.close()


async def test_a_csms_shortening_the_sample_interval_speeds_up_a_running_session():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        # an hour between samples: without the change the session would not end in this test
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "PACE", interval=3600,
                                                  meter_values=3))
        await charger.connect()
        try:
            session = asyncio.create_task(charger.run_session())
            await frames.wait_for(lambda a, p: a == "StartTransaction")
            answer = await server.call("PACE", "ChangeConfiguration",
                                       {"key": "MeterValueSampleInterval", "value": "1"})
            assert answer.payload == {"status": "Accepted"}
            await asyncio.wait_for(session, 30)
            sampled = [p for a, p in frames.calls if a == "MeterValues"]
            assert len(sampled) == 3
        finally:
            await charger.close()


async def test_intervals_must_be_whole_seconds():
    hub = Hub()
    async with running(csms()) as server:
        for version, cp in (("1.6", "BAD16"), ("2.0.1", "BAD2")):
            charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
            await charger.connect()
            try:
                await charger.boot()
                if version == "1.6":
                    for key in ("ClockAlignedDataInterval", "MeterValueSampleInterval"):
                        for bad in ("soon", "-5", "1.5"):
                            answer = await server.call(cp, "ChangeConfiguration",
                                                       {"key": key, "value": bad})
                            assert answer.payload == {"status": "Rejected"}, (key, bad)
                    assert charger.aligned_interval() == 0 and charger.sample_interval() == 10
                else:
                    answer = await server.call(cp, "SetVariables", {"setVariableData": [
                        {"component": {"name": "SampledDataCtrlr"},
                         "variable": {"name": "TxUpdatedInterval"}, "attributeValue": "-5"}]})
                    assert answer.payload["setVariableResult"][0]["attributeStatus"] == "Rejected"
            finally:
                await charger.close()


def test_boundaries_are_multiples_of_the_interval_from_midnight_utc():
    midnight = 1_796_083_200.0  # 2026-12-01T00:00:00Z
    assert next_boundary(midnight + 1, 900) == midnight + 900
    assert next_boundary(midnight + 899.5, 900) == midnight + 900
    assert next_boundary(midnight + 900, 900) == midnight + 1800  # strictly after
    assert next_boundary(midnight + 3599, 3600) == midnight + 3600
