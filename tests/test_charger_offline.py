"""A charger that loses its CSMS mid-transaction carries on offline, reconnects with
back-off and delivers what it queued, in order, over real sockets: a network loss
(`go_offline`), a CSMS that is killed and started again on the same port, in 1.6 and 2.0.1."""

from __future__ import annotations

import asyncio
import socket

import pytest

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.roles.charger_offline import back_off
from inspector.roles.common import Listen
from inspector.roles.csms import FakeCsms
from tests.roles_helpers import csms, running
from tests.test_charger_metering import Frames

QUICK = {"RetryBackOffWaitMinimum": "0", "RetryBackOffRandomRange": "0",
         "OCPPCommCtrlr/RetryBackOffWaitMinimum": "0", "OCPPCommCtrlr/RetryBackOffRandomRange": "0"}


def options(url: str, version: str, **kw) -> ChargerOptions:
    config = {k: v for k, v in QUICK.items() if ("/" in k) != (version == "1.6")}
    return ChargerOptions(url=url, version=version, reconnect=True, interval=0.05,
                          configuration=config, deliver_timeout=30, **kw)


def energy_16(payload: dict) -> float:
    return float(payload["meterStop"])


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_network_loss_mid_transaction_is_queued_and_delivered_in_order(version):
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + f"OFF{version[0]}", version))
        await charger.connect()
        try:
            await charger.boot()
            await charger.send_status("Available")
            await charger.present_card()
            await charger.plug_in()
            await charger.start_transaction()
            online_tx = charger.transaction_id
            await charger.go_offline(600)  # until come_online(): no race with a busy host
            assert not charger.online
            for _ in range(3):
                await charger.send_meter_values()  # metering goes on, into the queue
            await charger.stop_transaction()
            await charger.unplug()
            assert len(charger.queue) == 4 and not charger.online
            charger.come_online()
            await charger.wait_delivered(30)
        finally:
            await charger.close()
    actions = [a for a, _ in frames.calls]
    assert actions.count("BootNotification") == 1  # a connection loss is not a reboot
    if version == "1.6":
        after = [(a, p) for a, p in frames.calls if a in ("MeterValues", "StopTransaction")]
        assert [a for a, _ in after] == ["MeterValues"] * 3 + ["StopTransaction"]
        assert all(p["transactionId"] == online_tx for _, p in after)
        assert energy_16(after[-1][1]) >= float(
            after[-2][1]["meterValue"][0]["sampledValue"][0]["value"]) - 1
    else:
        events = [p for a, p in frames.calls if a == "TransactionEvent"]
        assert [e["seqNo"] for e in events] == list(range(len(events)))  # no gap, no repeat
        queued = [e for e in events if e.get("offline")]
        assert [e["eventType"] for e in queued] == ["Updated"] * 3 + ["Ended"]
        assert all(not e.get("offline") for e in events[:-4])
    assert charger.delivered == 4 and not charger.queue


async def test_a_transaction_started_offline_gets_its_real_id_when_delivered():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + "REMAP", "1.6"))
        await charger.connect()
        try:
            await charger.boot()
            assert await charger.present_card() == "Accepted"  # now in the cache
            await charger.go_offline(600)
            assert await charger.present_card() == "Accepted"  # offline: from the cache
            assert await charger.present_card("NEVERSEEN") == "Invalid"  # unknown: refused
            await charger.plug_in()
            local = await charger.start_transaction()
            assert local < 0  # a local id until the CSMS gives one
            await charger.send_meter_values()
            charger.come_online()
            await charger.wait_delivered(30)
            real = charger.transaction_id
            assert real > 0
            await charger.send_meter_values()
            await charger.stop_transaction()
        finally:
            await charger.close()
    ids = [p.get("transactionId") for a, p in frames.calls if a in ("MeterValues", "StopTransaction")]
    assert ids == [real, real, real]  # the queued one remapped, the later ones with it


async def test_a_csms_killed_mid_transaction_and_restarted_receives_everything():
    """The done-means of issue 15, in small: the CSMS process goes away mid-transaction and
    comes back on the same port; the charger delivers the queue and the CSMS sees the full
    energy in StopTransaction."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    hub, csms_hub = Hub(), Hub()
    seen_by_csms = Frames(csms_hub)
    first = FakeCsms(csms_hub, Listen("127.0.0.1", port))
    await first.start()
    charger = FakeCharger(hub, options(f"ws://127.0.0.1:{port}/KILLED", "1.6"))
    await charger.connect()
    second = None
    try:
        await charger.boot()
        await charger.present_card()
        await charger.plug_in()
        await charger.start_transaction()
        await first.stop()  # the CSMS dies
        await asyncio.wait_for(_until(lambda: not charger.online), 10)
        for _ in range(3):
            await charger.send_meter_values()
        await charger.stop_transaction()
        await charger.unplug()
        second = FakeCsms(csms_hub, Listen("127.0.0.1", port))
        await second.start()  # and comes back
        await charger.wait_delivered(30)
    finally:
        await charger.close()
        if second is not None:
            await second.stop()
    stops = await seen_by_csms.wait_for(lambda a, p: a == "StopTransaction")
    meters = [p for a, p in seen_by_csms.calls if a == "MeterValues"]
    register = max(float(v["value"]) for p in meters for v in p["meterValue"][0]["sampledValue"]
                   if v.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register")
    assert len(meters) == 3 and stops[0]["meterStop"] >= int(register)


async def _until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.02)


def test_back_off_doubles_up_to_the_repeat_limit():
    assert [back_off(n, 2, 0, 3) for n in range(6)] == [2, 4, 8, 16, 16, 16]
    assert 2 <= back_off(0, 2, 1, 3) <= 3


# ---- a CSMS that is not ours: the ocpp library's ---------------------------------------------

class LibraryCsms:
    """A 1.6 central system on the `ocpp` library that records what it receives."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.transaction_ids = iter(range(500, 600))

    def charge_point(self, cp_id, ws):
        from ocpp.routing import on
        from ocpp.v16 import ChargePoint, call_result
        from datetime import datetime, timezone
        csms = self

        def now():
            return datetime.now(timezone.utc).isoformat()

        class Cp(ChargePoint):
            @on("BootNotification")
            async def on_boot(self, **kw):
                csms.received.append(("BootNotification", kw))
                return call_result.BootNotification(current_time=now(), interval=300,
                                                    status="Accepted")

            @on("StatusNotification")
            async def on_status(self, **kw):
                csms.received.append(("StatusNotification", kw))
                return call_result.StatusNotification()

            @on("Heartbeat")
            async def on_heartbeat(self):
                return call_result.Heartbeat(current_time=now())

            @on("Authorize")
            async def on_authorize(self, id_tag):
                return call_result.Authorize(id_tag_info={"status": "Accepted"})

            @on("StartTransaction")  # not named `start`: that is ChargePoint's receive loop
            async def on_start_transaction(self, **kw):
                csms.received.append(("StartTransaction", kw))
                return call_result.StartTransaction(transaction_id=next(csms.transaction_ids),
                                                    id_tag_info={"status": "Accepted"})

            @on("MeterValues")
            async def on_meter_values(self, **kw):
                csms.received.append(("MeterValues", kw))
                return call_result.MeterValues()

            @on("StopTransaction")
            async def on_stop(self, **kw):
                csms.received.append(("StopTransaction", kw))
                return call_result.StopTransaction(id_tag_info={"status": "Accepted"})
        return Cp(cp_id, ws)

    async def serve(self, port: int):
        from websockets.asyncio.server import serve
        from websockets.exceptions import ConnectionClosed

        async def handler(ws):
            try:
                await self.charge_point(ws.request.path.strip("/"), ws).start()
            except ConnectionClosed:
                pass
        return await serve(handler, "127.0.0.1", port, subprotocols=["ocpp1.6"])


async def test_the_ocpp_librarys_csms_receives_the_queue_after_it_was_down():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    library = LibraryCsms()
    server = await library.serve(port)
    charger = FakeCharger(Hub(), options(f"ws://127.0.0.1:{port}/LIBOFF", "1.6"))
    await charger.connect()
    try:
        await charger.boot()
        await charger.present_card()
        await charger.plug_in()
        await charger.start_transaction()
        server.close()  # the CSMS goes down, its connections with it
        await server.wait_closed()
        await asyncio.wait_for(_until(lambda: not charger.online), 10)
        for _ in range(2):
            await charger.send_meter_values()
        await charger.stop_transaction()
        server = await library.serve(port)  # and comes back
        await charger.wait_delivered(30)
    finally:
        await charger.close()
        server.close()
        await server.wait_closed()
    after = [(action, kw) for action, kw in library.received if action in ("MeterValues", "StopTransaction")]
    assert [a for a, _ in after] == ["MeterValues", "MeterValues", "StopTransaction"]
    assert {kw["transaction_id"] for _, kw in after} == {500}
    assert [a for a, _ in library.received].count("BootNotification") == 1


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_queued_message_the_csms_refuses_on_every_attempt_is_dropped_and_counted(version):
    """TransactionMessageAttempts / MessageAttemptsTransactionEvent CALLERRORs, then the
    message is dropped: a warning, the charger's `dropped` count, and a failed CLI run."""
    from inspector.cli_roles import _check_nothing_dropped
    from inspector.cli_parser import UserError
    refused = "StopTransaction" if version == "1.6" else "TransactionEvent"
    hub = Hub()
    notices = []
    hub.subscribe(lambda event: notices.append(event) if getattr(event, "level", None) else None)
    attempts = {"1.6": {"TransactionMessageAttempts": "2", "TransactionMessageRetryInterval": "0"},
                "2.0.1": {"OCPPCommCtrlr/MessageAttemptsTransactionEvent": "2",
                          "OCPPCommCtrlr/MessageAttemptIntervalTransactionEvent": "0"}}[version]
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + f"DROP{version[0]}", version))
        charger.config.update({k: (v, False) for k, v in attempts.items()})
        await charger.connect()
        try:
            await _a_transaction_stopped_offline(charger)
            assert len(charger.queue) == 1
            server.overrides = {refused: {"$error": ["InternalError", "refused for the test"]}}
            charger.come_online()
            await charger.wait_delivered(30)
        finally:
            await charger.close()
    assert charger.dropped == 1 and charger.delivered == 0 and not charger.queue
    assert any("dropped" in getattr(n, "text", "") for n in notices)
    with pytest.raises(UserError, match="1 transaction message"):
        _check_nothing_dropped(charger.dropped)
    _check_nothing_dropped(0)  # nothing lost: the run goes on


async def test_retries_wait_the_interval_times_the_sends_so_far():
    """1.6 §3.7.1: with TransactionMessageRetryInterval 1 the retries of a refused message
    come at least 1 s, then 2 s apart (lower bounds only: a busy host may be later)."""
    import time

    from inspector.events import FrameLogged
    hub = Hub()
    sent = []
    hub.subscribe(lambda e: sent.append(time.monotonic()) if isinstance(e, FrameLogged)
                  and e.record.frame.action == "StopTransaction" and e.record.direction == "to_csms"
                  and e.record.frame.type.value == "CALL" else None)
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + "RETRY", "1.6"))
        charger.config.update({"TransactionMessageAttempts": ("3", False),
                               "TransactionMessageRetryInterval": ("1", False)})
        await charger.connect()
        try:
            await _a_transaction_stopped_offline(charger)
            server.overrides = {"StopTransaction": {"$error": ["InternalError", "refused"]}}
            charger.come_online()
            await charger.wait_delivered(30)
        finally:
            await charger.close()
    assert len(sent) == 3 and charger.dropped == 1
    assert sent[1] - sent[0] >= 0.95 and sent[2] - sent[1] >= 1.95, sent


@pytest.mark.parametrize("stop", [True, False])
async def test_a_card_refused_once_back_online_stops_the_transaction_or_the_energy_201(stop):
    """2.0.1 C15: a transaction started offline whose card the CSMS answers Invalid once
    delivered ends (StopTxOnInvalidId true: Ended, Deauthorized) or only stops drawing
    (false: chargingState SuspendedEVSE, 0 W from then on)."""
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + "REFUSED", "2.0.1"))
        charger.config["TxCtrlr/StopTxOnInvalidId"] = ("true" if stop else "false", False)
        await charger.connect()
        try:
            await charger.boot()
            assert await charger.present_card() == "Accepted"  # online: into the cache
            await charger.go_offline(600)
            assert await charger.present_card() == "Accepted"  # offline, from the cache
            await charger.plug_in()
            await charger.start_transaction()
            server.overrides = {"TransactionEvent": {"idTokenInfo": {"status": "Invalid"}}}
            charger.come_online()
            await charger.wait_delivered(30)
            if not stop:
                await charger.send_meter_values()
        finally:
            await charger.close()
    events = [p for a, p in frames.calls if a == "TransactionEvent"]
    after = [e for e in events if not e.get("offline")]
    if stop:
        assert [(e["eventType"], e["triggerReason"]) for e in after][:1] == [("Ended", "Deauthorized")]
        assert after[0]["transactionInfo"]["stoppedReason"] == "DeAuthorized"
        assert charger.transaction_id is None
    else:
        assert after[0]["transactionInfo"]["chargingState"] == "SuspendedEVSE"
        assert charger.transaction_id is not None and charger.meter.last.power_w == 0


async def _a_transaction_stopped_offline(charger) -> None:
    """Boot, start a transaction online, lose the network, stop it: one queued stop."""
    await charger.boot()
    await charger.present_card()
    await charger.plug_in()
    await charger.start_transaction()
    await charger.go_offline(600)
    await charger.stop_transaction()


async def test_get_transaction_status_tells_the_queue_and_whether_it_goes_on():
    """2.0.1 E14: messagesInQueue while offline-made events wait, ongoingIndicator for a named
    transaction (and none without a transactionId)."""
    hub = Hub()
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + "TXSTATUS", "2.0.1"))
        charger.config["OCPPCommCtrlr/MessageAttemptsTransactionEvent"] = ("1", False)
        await charger.connect()
        try:
            await charger.boot()
            await charger.present_card()
            await charger.plug_in()
            await charger.start_transaction()
            tx = charger.transaction_id
            running_now = await server.call("TXSTATUS", "GetTransactionStatus", {"transactionId": tx})
            assert running_now.payload == {"messagesInQueue": False, "ongoingIndicator": True}
            # a queued event: the CSMS cannot ask while the charger is offline, so look at the
            # answer the charger would give (the handler itself) with one queued
            await charger.go_offline(600)
            await charger.send_meter_values()
            assert await charger._handle_GetTransactionStatus({"transactionId": tx}) == {
                "messagesInQueue": True, "ongoingIndicator": True}
            charger.come_online()
            await charger.wait_delivered(30)
            await charger.stop_transaction()
            ended = await server.call("TXSTATUS", "GetTransactionStatus", {"transactionId": tx})
            assert ended.payload == {"messagesInQueue": False, "ongoingIndicator": False}
            anything = await server.call("TXSTATUS", "GetTransactionStatus", {})
            assert anything.payload == {"messagesInQueue": False}
        finally:
            await charger.close()


async def test_an_error_after_reconnecting_is_reported_not_taken_for_a_new_loss():
    """Back online, the CSMS refuses the offline card (Invalid) and then the DeAuthorized
    StopTransaction with a CALLERROR: the charger stays on the connection it has and says so
    in a warning; it does not open a second connection as if the link were lost again."""
    from inspector.events import ConnectionOpened, Notice
    hub = Hub()
    opened, warnings = [], []
    hub.subscribe(lambda e: opened.append(e) if isinstance(e, ConnectionOpened) else
                  warnings.append(e.text) if isinstance(e, Notice) and e.level == "warning" else None)
    async with running(csms()) as server:
        charger = FakeCharger(hub, options(server.url + "AFTER", "1.6"))
        charger.config["TransactionMessageAttempts"] = ("1", False)
        await charger.connect()
        try:
            await charger.boot()
            await charger.present_card()  # online: into the cache
            await charger.go_offline(600)
            await charger.plug_in()
            await charger.start_transaction()  # offline, on a local id
            server.overrides = {"StartTransaction": {"idTagInfo": {"status": "Invalid"}},
                                "StopTransaction": {"$error": ["InternalError", "refused"]}}
            charger.come_online()
            await charger.wait_delivered(30)
        finally:
            await charger.close()
    assert len(opened) == 2  # the first connection and the one after the outage, no third
    assert any("StopTransaction" in text for text in warnings), warnings


async def test_the_drivers_metering_says_when_a_meter_value_is_refused():
    """A person's transaction (roles/driver.py) meters on its own; a MeterValues the CSMS
    refuses is a warning, not swallowed."""
    from inspector.events import Notice
    from inspector.roles.driver import Driver
    hub = Hub()
    warnings = []
    hub.subscribe(lambda e: warnings.append(e.text)
                  if isinstance(e, Notice) and e.level == "warning" else None)
    async with running(csms(overrides={"MeterValues": {"$error": ["InternalError", "no"]}})) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "METER", interval=0.05))
        driver = Driver(charger)
        await charger.connect()
        metering = asyncio.ensure_future(driver.metering())
        try:
            await charger.boot()
            await driver.plug_in()
            assert await driver.present_card() == "started"
            for _ in range(600):  # bounded: the first refusal shows within a few intervals
                if any("meter values not sent" in w for w in warnings):
                    break
                await asyncio.sleep(0.05)
        finally:
            metering.cancel()
            await charger.close()
    assert any("meter values not sent" in w and "MeterValues" in w for w in warnings), warnings
