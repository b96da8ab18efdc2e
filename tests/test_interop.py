"""Independent implementation on the other end: the `ocpp` library's ChargePoint."""

import asyncio
from datetime import datetime, timezone

from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16, call as call16
from ocpp.v201 import ChargePoint as ChargePoint201, call_result as result201
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from tests.roles_helpers import csms, run_charger, running


async def test_ocpp_library_charger_against_our_fake_csms():
    """mobilityhouse's v1.6 ChargePoint boots, authorizes and starts a transaction on our CSMS."""
    async with running(csms()) as server:
        async with connect(server.url + "LIB1", subprotocols=["ocpp1.6"]) as ws:
            cp = ChargePoint16("LIB1", ws)
            listener = asyncio.create_task(cp.start())
            boot = await cp.call(call16.BootNotification(charge_point_model="M", charge_point_vendor="V"))
            auth = await cp.call(call16.Authorize(id_tag="TAG1"))
            start = await cp.call(call16.StartTransaction(
                connector_id=1, id_tag="TAG1", meter_start=0,
                timestamp=datetime.now(timezone.utc).isoformat()))
            listener.cancel()
    assert boot.status == "Accepted" and boot.interval > 0
    assert auth.id_tag_info["status"] == "Accepted"
    assert start.transaction_id >= 1 and start.id_tag_info["status"] == "Accepted"


class LibraryCsms(ChargePoint201):
    """A 2.0.1 CSMS written with the ocpp library, counting what our charger sends."""

    seen: list

    @on("BootNotification")
    async def boot(self, charging_station, reason, **_):
        self.seen.append("BootNotification")
        return result201.BootNotification(current_time=datetime.now(timezone.utc).isoformat(),
                                          interval=300, status="Accepted")

    @on("StatusNotification")
    async def status(self, **_):
        self.seen.append("StatusNotification")
        return result201.StatusNotification()

    @on("Heartbeat")
    async def heartbeat(self, **_):
        self.seen.append("Heartbeat")
        return result201.Heartbeat(current_time=datetime.now(timezone.utc).isoformat())

    @on("Authorize")
    async def authorize(self, id_token, **_):
        self.seen.append("Authorize")
        return result201.Authorize(id_token_info={"status": "Accepted"})

    @on("TransactionEvent")
    async def transaction(self, event_type, **_):
        self.seen.append(f"TransactionEvent/{event_type}")
        return result201.TransactionEvent()


async def test_our_fake_charger_against_ocpp_library_csms(hub, recorder):
    """Our 2.0.1 charger completes a session against a CSMS built with the ocpp library."""
    seen: list = []

    async def handler(ws):
        cp = LibraryCsms(ws.request.path.strip("/"), ws)
        cp.seen = seen
        try:
            await cp.start()
        except Exception:
            pass

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp2.0.1"]) as server:
        port = server.sockets[0].getsockname()[1]
        await run_charger(f"ws://127.0.0.1:{port}/OURS", "2.0.1", hub=hub, meter_values=2)
    assert seen == ["BootNotification", "StatusNotification", "Heartbeat", "Authorize",
                    "StatusNotification", "TransactionEvent/Started", "StatusNotification",
                    "TransactionEvent/Updated", "TransactionEvent/Updated", "TransactionEvent/Ended",
                    "StatusNotification", "StatusNotification"]
    # and our log judged the library's answers valid
    results = [r for r in recorder.records if r.type.value == "CALLRESULT"]
    assert len(results) == 12 and all(r.valid for r in results)
