"""An independent charging station for conformance tests, built on the PyPI `ocpp` library.

It is not our simulator: it routes, serialises and answers with the library's own code,
and behaves like a real station does around a boot (its StatusNotification comes a moment
after the BootNotification answer, on its own clock). `broken` names one behaviour to get
wrong, so a case's mutant is one flag away from the correct station:

- ``trigger_ignored``: TriggerMessage is answered Accepted, the message is never sent;
- ``reset_ignored``: Reset is answered Accepted, the station goes on as if nothing happened;
- ``reset_reconnects``: Reset closes the connection and reconnects without booting again;
- ``reset_reason_power_up`` (2.0.1): after a Reset it boots with reason PowerUp;
- ``connectors_unordered`` (1.6): GetConfiguration answers every key, HeartbeatInterval
  first, whatever keys were asked for (allowed: it is the order the engine must not rely on).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16, call as call16, call_result as result16
from ocpp.v201 import ChargePoint as ChargePoint201, call as call201, call_result as result201
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

BOOT_STATUS_DELAY = 0.2  # a real station reports its connectors a moment after the boot answer


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


class _Station:
    """What both versions share: the connection, the boot, and background work."""

    subprotocol = ""

    def __init__(self, url: str, broken: str = ""):
        self.url = url
        self.broken = broken
        self.ws = None
        self.cp = None
        self.tasks: set[asyncio.Task] = set()
        self.boots = 0

    def later(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def power_on(self, reason: str = "PowerUp") -> None:
        await self._disconnect()
        self.ws = await connect(self.url, subprotocols=[self.subprotocol])
        self.cp = self.make_cp()
        self.later(self._serve(self.cp))
        await self.boot(reason)
        self.later(self._status_after_boot())

    async def _serve(self, cp) -> None:
        try:
            await cp.start()
        except ConnectionClosed:
            pass

    async def _status_after_boot(self) -> None:
        await asyncio.sleep(BOOT_STATUS_DELAY)
        await self.status("Available")

    async def _disconnect(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def reboot(self, reason: str) -> None:
        await self._disconnect()
        if self.broken == "reset_reconnects":
            self.ws = await connect(self.url, subprotocols=[self.subprotocol])
            self.cp = self.make_cp()
            self.later(self._serve(self.cp))
            await self.status("Available")
            return
        await self.power_on(reason)

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await self._disconnect()

    # per version
    def make_cp(self):  # pragma: no cover - interface
        raise NotImplementedError

    async def boot(self, reason: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    async def status(self, value: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


# ---- OCPP 1.6 ------------------------------------------------------------------------------------

class _Cp16(ChargePoint16):
    station: "Station16"

    @on("GetConfiguration")
    async def on_get_configuration(self, key=None, **_):
        config = self.station.config
        if self.station.broken == "connectors_unordered":
            keys = list(config)
        else:
            keys = key or list(config)
        known = [{"key": k, "readonly": k == "NumberOfConnectors", "value": config[k]}
                 for k in keys if k in config]
        unknown = [k for k in keys if k not in config]
        return result16.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on("UnlockConnector")
    async def on_unlock(self, connector_id, **_):
        return result16.UnlockConnector(status="Unlocked" if connector_id == 1 else "NotSupported")

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id, **_):
        return result16.DataTransfer(status="UnknownVendorId")

    @on("TriggerMessage")
    async def on_trigger(self, requested_message, connector_id=None, **_):
        return result16.TriggerMessage(status="Accepted")

    @after("TriggerMessage")
    async def after_trigger(self, requested_message, connector_id=None, **_):
        if self.station.broken != "trigger_ignored":
            self.station.later(self.station.send_triggered(requested_message))

    @on("Reset")
    async def on_reset(self, type, **_):
        return result16.Reset(status="Accepted")

    @after("Reset")
    async def after_reset(self, type, **_):
        if self.station.broken != "reset_ignored":
            self.station.later(self.station.reboot("PowerUp"))


class Station16(_Station):
    subprotocol = "ocpp1.6"

    def __init__(self, url: str, broken: str = ""):
        super().__init__(url, broken)
        self.config = {"HeartbeatInterval": "300", "NumberOfConnectors": "1",
                       "MeterValueSampleInterval": "60"}

    def make_cp(self):
        cp = _Cp16("INDEP16", self.ws, response_timeout=10)
        cp.station = self
        return cp

    async def boot(self, reason: str) -> None:
        self.boots += 1
        await self.cp.call(call16.BootNotification(charge_point_model="IndepModel",
                                                   charge_point_vendor="IndepVendor"))

    async def status(self, value: str) -> None:
        await self.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError",
                                                     status=value, timestamp=now()))

    async def send_triggered(self, message: str) -> None:
        if message == "Heartbeat":
            await self.cp.call(call16.Heartbeat())
        elif message == "StatusNotification":
            await self.status("Available")
        elif message == "MeterValues":
            await self.cp.call(call16.MeterValues(connector_id=1, meter_value=[
                {"timestamp": now(), "sampledValue": [{"value": "1000"}]}]))


# ---- OCPP 2.0.1 ----------------------------------------------------------------------------------

class _Cp201(ChargePoint201):
    station: "Station201"

    @on("GetVariables")
    async def on_get_variables(self, get_variable_data, **_):
        results = []
        for item in get_variable_data:
            known = (item["component"]["name"], item["variable"]["name"]) == (
                "OCPPCommCtrlr", "HeartbeatInterval")
            results.append({"attribute_status": "Accepted" if known else "UnknownVariable",
                            "component": item["component"], "variable": item["variable"],
                            **({"attribute_value": "300"} if known else {})})
        return result201.GetVariables(get_variable_result=results)

    @on("TriggerMessage")
    async def on_trigger(self, requested_message, evse=None, **_):
        return result201.TriggerMessage(status="Accepted")

    @after("TriggerMessage")
    async def after_trigger(self, requested_message, evse=None, **_):
        if self.station.broken != "trigger_ignored":
            self.station.later(self.station.send_triggered(requested_message))

    @on("Reset")
    async def on_reset(self, type, **_):
        return result201.Reset(status="Accepted")

    @after("Reset")
    async def after_reset(self, type, **_):
        if self.station.broken != "reset_ignored":
            reason = "PowerUp" if self.station.broken == "reset_reason_power_up" else "RemoteReset"
            self.station.later(self.station.reboot(reason))


class Station201(_Station):
    """A 2.0.1 station with TxStartPoint EVConnected: the transaction starts on plug-in
    (``broken="starts_on_authorization"``: only once authorized, as PowerPathClosed would)."""

    subprotocol = "ocpp2.0.1"
    transaction_id: str | None = None
    seq_no = 0
    charging = False

    async def operate(self, request):
        """The operator's hands, for a prompt handler: plug in, present a card, unplug."""
        from inspector.conformance import PromptReply
        if request.action == "plug_in":
            self.later(self.plug_in())
        elif request.action == "present_card":
            self.later(self.present_card(request.args.get("tag", "TAG0001")))
        elif request.action == "unplug":
            self.later(self.status("Available"))
        else:
            return PromptReply.skip(f"cannot {request.action}")
        return PromptReply.done(f"independent station: {request.action}")

    async def _event(self, event_type: str, trigger: str, **extra) -> None:
        info = {"transaction_id": self.transaction_id, **extra.pop("info", {})}
        await self.cp.call(call201.TransactionEvent(
            event_type=event_type, timestamp=now(), trigger_reason=trigger, seq_no=self.seq_no,
            transaction_info=info, evse={"id": 1, "connector_id": 1}, **extra))
        self.seq_no += 1

    async def plug_in(self) -> None:
        await self.status("Occupied")
        if self.broken != "starts_on_authorization":
            self.transaction_id, self.seq_no = "INDEP-TX-1", 0
            await self._event("Started", "CablePluggedIn", info={"charging_state": "EVConnected"})

    async def present_card(self, tag: str) -> None:
        token = {"id_token": tag, "type": "ISO14443"}
        if self.charging:  # the same card again stops the transaction
            self.charging = False
            await self._event("Ended", "StopAuthorized", id_token=token,
                              info={"stopped_reason": "Local"})
            self.transaction_id = None
            return
        await self.cp.call(call201.Authorize(id_token=token))
        if self.transaction_id is None:  # the broken station starts only now
            self.transaction_id, self.seq_no = "INDEP-TX-1", 0
            await self._event("Started", "Authorized", id_token=token,
                              info={"charging_state": "EVConnected"})
        else:
            await self._event("Updated", "Authorized", id_token=token)
        self.charging = True
        await self._event("Updated", "ChargingStateChanged", info={"charging_state": "Charging"})

    def make_cp(self):
        cp = _Cp201("INDEP201", self.ws, response_timeout=10)
        cp.station = self
        return cp

    async def boot(self, reason: str) -> None:
        self.boots += 1
        await self.cp.call(call201.BootNotification(
            charging_station={"model": "IndepModel", "vendor_name": "IndepVendor"}, reason=reason))

    async def status(self, value: str) -> None:
        await self.cp.call(call201.StatusNotification(timestamp=now(), connector_status=value,
                                                      evse_id=1, connector_id=1))

    async def send_triggered(self, message: str) -> None:
        if message == "Heartbeat":
            await self.cp.call(call201.Heartbeat())
        elif message == "StatusNotification":
            await self.status("Available")


def station(version: str, url: str, broken: str = "") -> _Station:
    return (Station16 if version == "1.6" else Station201)(url, broken)


# ---- an independent 2.0.1 CSMS ---------------------------------------------------------------

class Csms201(ChargePoint201):
    """A CSMS on the `ocpp` library that knows the tags in `tags` (others: `unknown_tag`) and
    answers every boot with `boot_status`."""

    tags: dict = {}
    unknown_tag = "Unknown"
    boot_status = "Accepted"

    @on("BootNotification")
    async def on_boot(self, charging_station, reason, **_):
        return result201.BootNotification(current_time=now(), interval=30, status=self.boot_status)

    @on("StatusNotification")
    async def on_status(self, **_):
        return result201.StatusNotification()

    @on("Heartbeat")
    async def on_heartbeat(self):
        return result201.Heartbeat(current_time=now())

    @on("Authorize")
    async def on_authorize(self, id_token, **_):
        return result201.Authorize(id_token_info={"status": self.status_of(id_token)})

    @on("TransactionEvent")
    async def on_transaction_event(self, event_type, id_token=None, **_):
        info = {"status": self.status_of(id_token)} if id_token else None
        return result201.TransactionEvent(id_token_info=info)

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id, **_):
        return result201.DataTransfer(status="UnknownVendorId")

    @on("FirmwareStatusNotification")
    async def on_firmware_status(self, status, **_):
        return result201.FirmwareStatusNotification()

    @on("LogStatusNotification")
    async def on_log_status(self, status, **_):
        return result201.LogStatusNotification()

    @on("SecurityEventNotification")
    async def on_security_event(self, type, timestamp, **_):
        return result201.SecurityEventNotification()

    @on("NotifyCustomerInformation")
    async def on_customer_information(self, data, seq_no, generated_at, request_id, **_):
        return result201.NotifyCustomerInformation()

    def status_of(self, id_token: dict) -> str:
        return self.tags.get(id_token["id_token"], self.unknown_tag)


async def serve_csms(cls, subprotocol: str = "ocpp2.0.1", **serve_options):
    """A websockets server on 127.0.0.1 running `cls` (an `ocpp` ChargePoint) per connection,
    the charge point id taken from the path (use with `async with await serve_csms(...)`)."""
    from websockets.asyncio.server import serve

    async def handler(ws):
        cp = cls(ws.request.path.rstrip("/").rsplit("/", 1)[-1], ws)
        try:
            await cp.start()
        except ConnectionClosed:
            pass
    return serve(handler, "127.0.0.1", 0, subprotocols=[subprotocol], **serve_options)
