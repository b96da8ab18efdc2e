"""A CSMS may send ChangeAvailability or Reset at any time: during a transaction a real
charger answers Scheduled and acts once the connector is free, over real sockets."""

from __future__ import annotations

import asyncio

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from tests.roles_helpers import csms, running
from tests.test_charger_metering import Frames


async def test_inoperative_during_a_transaction_is_scheduled_and_applied_when_free():
    for version, payload in (("1.6", {"connectorId": 1, "type": "Inoperative"}),
                             ("2.0.1", {"operationalStatus": "Inoperative", "evse": {"id": 1}})):
        hub = Hub()
        frames = Frames(hub)
        async with running(csms()) as server:
            cp = f"AVAIL{version[0]}"
            charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
            await charger.connect()
            try:
                await charger.boot()
                await charger.plug_in()
                await charger.start_transaction()
                answer = await server.call(cp, "ChangeAvailability", payload)
                assert answer.payload == {"status": "Scheduled"}, version
                assert charger.status == "Charging"  # the session goes on
                await charger.stop_transaction()
                await charger.unplug()
                statuses = [p.get("status", p.get("connectorStatus"))
                            for a, p in frames.calls if a == "StatusNotification"]
                assert statuses[-1] == "Unavailable", (version, statuses)
                assert "Available" not in statuses[statuses.index("Charging" if version == "1.6"
                                                                  else "Occupied"):]
                def available(action, sent) -> bool:
                    return action == "StatusNotification" and \
                        sent.get("status", sent.get("connectorStatus")) == "Available"
                before = len([1 for a, p in frames.calls if available(a, p)])
                operative = dict(payload, **({"type": "Operative"} if version == "1.6"
                                             else {"operationalStatus": "Operative"}))
                answer = await server.call(cp, "ChangeAvailability", operative)
                assert answer.payload == {"status": "Accepted"}
                await frames.wait_for(available, before + 1)  # Operative: Available again
            finally:
                await charger.close()


async def test_reset_on_idle_during_a_transaction_waits_for_the_end_then_reboots():
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "IDLE2", version="2.0.1"))
        await charger.connect()
        try:
            await charger.boot()
            await charger.plug_in()
            await charger.start_transaction()
            answer = await server.call("IDLE2", "Reset", {"type": "OnIdle"})
            assert answer.payload == {"status": "Scheduled"}
            await asyncio.sleep(0.3)  # nothing happens meanwhile: the transaction goes on
            assert [a for a, _ in frames.calls].count("BootNotification") == 1
            await charger.stop_transaction()
            await charger.unplug()
            boots = await frames.wait_for(lambda a, p: a == "BootNotification", 2)
            assert boots[-1]["reason"] == "RemoteReset"
        finally:
            await charger.close()
