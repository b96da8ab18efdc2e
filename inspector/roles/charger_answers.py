"""How the fake charger answers CSMS-initiated calls, as a real charger would.

A mixin of `FakeCharger`: each `_handle_<Action>` answers one action and, where a real
charger would act afterwards (start a transaction, reboot, send a triggered message), it
schedules that with `_later()` so the CALLRESULT goes out first. Actions without a handler
get the schema-valid default answer.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from .. import defaults
from ..rpc import CallError
from .charger_dialect import Setting, whole_number_keys
from .charger_models import feature_of
from .charger_metering import METERING_SETTINGS
from .charger_offline import OFFLINE_SETTINGS
from .common import ChargerError

# what every charger has; read-only ones answer Rejected on change
GENERAL_SETTINGS = {
    "heartbeat": Setting("HeartbeatInterval", "OCPPCommCtrlr/HeartbeatInterval", "300",
                         whole_number=True),
    "connection_timeout": Setting("ConnectionTimeOut", "TxCtrlr/EVConnectionTimeOut", "60"),
    "authorize_remote": Setting("AuthorizeRemoteTxRequests", "AuthCtrlr/AuthorizeRemoteStart",
                                "false"),
    "stop_on_ev_disconnect": Setting("StopTransactionOnEVSideDisconnect", None, "true"),
    "connectors": Setting("NumberOfConnectors", None, "1", read_only=True),
    "profiles": Setting("SupportedFeatureProfiles", None,
                        "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger,"
                        "Reservation,SmartCharging", read_only=True),
    "items_per_message": Setting(None, "DeviceDataCtrlr/ItemsPerMessage", "10", read_only=True),
    # the HTTP Basic password (profiles 1 and 2): write-only, never read back (A01; the 1.6
    # security whitepaper's AuthorizationKey)
    "password": Setting("AuthorizationKey", "SecurityCtrlr/BasicAuthPassword", ""),
}
# its names in both versions, from the table rather than written out again
WRITE_ONLY_KEYS = frozenset({GENERAL_SETTINGS["password"].v16, GENERAL_SETTINGS["password"].v2})

# keys whose value is a whole number, 0 or more: intervals, attempts, back-off seconds
_WHOLE_NUMBER_KEYS = whole_number_keys(GENERAL_SETTINGS, METERING_SETTINGS, OFFLINE_SETTINGS)


def invalid_value(key: str, value: str) -> bool:
    """A value this key cannot take (intervals are whole seconds, 0 or more; a Basic auth
    password 16 to 40 characters, as security profiles 1 and 2 ask)."""
    if key in WRITE_ONLY_KEYS:
        return not 16 <= len(value) <= 40
    return key in _WHOLE_NUMBER_KEYS and not value.isdigit()


class AnswersCsms:
    """Handlers for CSMS-initiated calls; needs FakeCharger's state and user-level actions."""

    # ---- CSMS-initiated calls ---------------------------------------------------------------

    def supports(self, feature: str) -> bool:
        """Whether the model implements this 1.6 feature profile (charger_models.FEATURES);
        the security extension only when the model names it."""
        if self.model.features is None:
            return feature != "Security"
        return feature in self.model.features

    def reports_security_events(self) -> bool:
        """2.x always; 1.6 with the security extension (a model whose features name it)."""
        return self.dialect.security_event_on_reboot or self.supports("Security")

    def _later(self, coroutine) -> None:
        """Run a follow-up (after our CALLRESULT went out) in the background."""
        async def after_answer():
            await asyncio.sleep(0)
            try:
                await coroutine
            except ChargerError as exc:
                self.hub.notice("warning", f"{self.charge_point_id}: {exc}", "charger")
        task = asyncio.create_task(after_answer())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_call(self, frame) -> dict:
        action, payload = frame.action, frame.payload
        feature = feature_of(action)
        if feature is not None and not self.supports(feature) and not (
                feature == "LocalAuthListManagement" and self.dialect.local_list_needs_enabling):
            # a profile the model does not implement: CALLERROR NotSupported (1.6 answers a
            # local list it lacks in the payload instead: NotSupported, version -1)
            raise CallError("NotSupported", f"{action}: this charger does not support {feature}")
        handler = getattr(self, f"_handle_{action}", None)
        if handler is not None:
            return await handler(payload)
        return defaults.default_response(self.version, action, payload, now=datetime.now(timezone.utc))

    async def _remote_start(self, tag: str, remote_start_id: int | None = None) -> None:
        if self.status == "Available":
            if self.waits_for_cable:
                self.pending_remote_start = (tag, remote_start_id)
                return
            await self.plug_in()
        await self.start_transaction(tag, remote_start_id=remote_start_id, trigger="RemoteStart")

    async def _handle_RemoteStartTransaction(self, payload) -> dict:
        if self.transaction_id is not None or payload.get("connectorId") == 0:
            return {"status": "Rejected"}
        self._later(self._remote_start(payload["idTag"]))
        return {"status": "Accepted"}

    async def _handle_RequestStartTransaction(self, payload) -> dict:
        if self.transaction_id is not None:
            return {"status": "Rejected"}
        self._later(self._remote_start(payload["idToken"]["idToken"], payload.get("remoteStartId")))
        return {"status": "Accepted"}

    async def _handle_RemoteStopTransaction(self, payload) -> dict:
        if self.transaction_id is None or payload.get("transactionId") != self.transaction_id:
            return {"status": "Rejected"}
        self._later(self._stop_and_unplug("Remote"))
        return {"status": "Accepted"}

    async def _handle_RequestStopTransaction(self, payload) -> dict:
        if self.transaction_id is None or payload.get("transactionId") != self.transaction_id:
            return {"status": "Rejected"}
        self._later(self._stop_and_unplug("Remote"))
        return {"status": "Accepted"}

    async def _stop_and_unplug(self, reason: str) -> None:
        await self.stop_transaction(reason)
        await self.unplug()

    async def _handle_Reset(self, payload) -> dict:
        kind = payload.get("type", "Soft")
        if kind == "OnIdle" and self.transaction_id is not None:
            # 2.x: reset once the transaction is over (and the cable is out), not now
            self.scheduled_reset = kind
            return {"status": "Scheduled"}
        self._later(self._reboot(kind))
        return {"status": "Accepted"}

    async def _reboot(self, kind: str) -> None:
        if self.transaction_id is not None:
            await self.stop_transaction(f"{kind}Reset" if kind in ("Soft", "Hard", "Immediate") else "Reboot")
        await self.reconnect_for_reboot(self.connect)
        await self.boot(reason=self.reset_boot_reason)
        await self.send_status("Available")
        if self.reports_security_events():
            await self.security_event("ResetOrReboot", f"{kind} reset")

    async def _password_changed(self, password: str) -> None:
        """A new Basic auth password (A01): reported as a security event, then used from a
        new connection on (closed and opened again: not a loss, not a reboot)."""
        self.options.password = password
        if self.reports_security_events():
            await self.security_event("ReconfigurationOfSecurityParameters", "Basic auth password")
        await self.reconnect_for_reboot(self.connect)

    async def reconnect_for_reboot(self, connect) -> None:
        """Close the connection as a reboot does (not a loss: nothing goes offline) and open
        a new one with `connect`."""
        self._closing = True
        try:
            await self.endpoint.close(1000, "reset")
            self.reset_requested.set()
            await connect()
        finally:
            self._closing = False

    async def _handle_GetConfiguration(self, payload) -> dict:
        keys = payload.get("key") or list(self.config)
        known = [{"key": k, "readonly": self.config[k][1],
                  **({} if k in WRITE_ONLY_KEYS else {"value": self.config[k][0]})}
                 for k in keys if k in self.config]
        unknown = [k for k in keys if k not in self.config]
        return {"configurationKey": known, **({"unknownKey": unknown} if unknown else {})}

    async def _handle_ChangeConfiguration(self, payload) -> dict:
        key, value = payload["key"], payload["value"]
        if key not in self.config:
            return {"status": "NotSupported"}
        if self.config[key][1]:
            return {"status": "Rejected"}
        if invalid_value(key, value):
            return {"status": "Rejected"}
        self.config[key] = (value, False)
        self.settings_changed()
        if key == "HeartbeatInterval":
            self.heartbeat_interval = int(value)
        if key in WRITE_ONLY_KEYS:
            self._later(self._password_changed(value))
        return {"status": "Accepted"}

    async def _handle_GetVariables(self, payload) -> dict:
        results = []
        for item in payload.get("getVariableData", []):
            key = f"{item['component']['name']}/{item['variable']['name']}"
            result = {"component": item["component"], "variable": item["variable"]}
            if key in WRITE_ONLY_KEYS:
                result["attributeStatus"] = "Rejected"  # WriteOnly: never read back
            elif key in self.config:
                result.update(attributeStatus="Accepted", attributeValue=self.config[key][0])
            else:
                result["attributeStatus"] = "UnknownVariable"
            results.append(result)
        return {"getVariableResult": results}

    async def _handle_SetVariables(self, payload) -> dict:
        results = []
        for item in payload.get("setVariableData", []):
            key = f"{item['component']['name']}/{item['variable']['name']}"
            result = {"component": item["component"], "variable": item["variable"]}
            if key not in self.config:
                result["attributeStatus"] = "UnknownVariable"
            elif self.config[key][1] or invalid_value(key, str(item["attributeValue"])):
                result["attributeStatus"] = "Rejected"
            else:
                self.config[key] = (str(item["attributeValue"]), False)
                self.settings_changed()
                result["attributeStatus"] = "Accepted"
                if key in WRITE_ONLY_KEYS:
                    self._later(self._password_changed(str(item["attributeValue"])))
            results.append(result)
        return {"setVariableResult": results}

    async def _handle_TriggerMessage(self, payload) -> dict:
        message = payload.get("requestedMessage")
        senders = {"BootNotification": self.boot, "Heartbeat": self.heartbeat,
                   "StatusNotification": lambda: self.send_status(self.status),
                   "MeterValues": self.send_meter_values,
                   # where a firmware update or an upload stands (Idle when none ran)
                   "FirmwareStatusNotification": self.report_firmware_status,
                   self.dialect.log_status_action: self.report_log_status}
        if message not in senders:
            return {"status": "NotImplemented"}
        self._later(senders[message]())
        return {"status": "Accepted"}

    async def _handle_UnlockConnector(self, payload) -> dict:
        connector = payload.get("connectorId", 1)
        if connector != self.options.connector:
            return {"status": self.dialect.unknown_connector}
        if self.transaction_id is not None:
            self._later(self._stop_and_unplug("UnlockCommand"))
        return {"status": "Unlocked"}

    async def _handle_ReserveNow(self, payload) -> dict:
        """Reserve the connector (1.6 connectorId, 2.x evseId) if it is free."""
        where = payload.get("connectorId", payload.get("evseId", self.options.connector))
        if where not in (0, self.options.connector, None):
            return {"status": "Rejected"}
        if self.status == "Unavailable":
            return {"status": "Unavailable"}
        if self.status == "Faulted":
            return {"status": "Faulted"}
        if self.transaction_id is not None or self.status not in ("Available", "Reserved"):
            return {"status": "Occupied"}
        tag = payload.get("idTag") or (payload.get("idToken") or {}).get("idToken")
        self.reservation = {"id": payload.get("reservationId", payload.get("id")), "tag": tag}
        if self.status != "Reserved":
            self._later(self.send_status("Reserved"))
        return {"status": "Accepted"}

    async def _handle_CancelReservation(self, payload) -> dict:
        if self.reservation is None or self.reservation["id"] != payload.get("reservationId"):
            return {"status": "Rejected"}
        self.reservation = None
        if self.status == "Reserved":
            self._later(self.send_status("Available"))
        return {"status": "Accepted"}

    async def _handle_ChangeAvailability(self, payload) -> dict:
        """1.6 type / 2.x operationalStatus; while a transaction runs it is Scheduled and
        applied when the connector is free again (`became_idle`)."""
        wanted = payload.get("type", payload.get("operationalStatus"))
        if self.transaction_id is not None:
            self.scheduled_availability = wanted
            return {"status": "Scheduled"}
        if wanted == "Inoperative" and self.status != "Unavailable":
            self._later(self.send_status("Unavailable"))
        elif wanted == "Operative" and self.status == "Unavailable":
            self._later(self.send_status("Available"))
        return {"status": "Accepted"}

    async def became_idle(self) -> bool:
        """The transaction is over and the cable out: apply what was Scheduled meanwhile
        (a reset after this status goes out). True when it sent the connector's status
        (Unavailable), so the caller does not report it Available."""
        wanted, self.scheduled_availability = self.scheduled_availability, None
        reset, self.scheduled_reset = self.scheduled_reset, None
        if reset is not None:
            self._later(self._reboot(reset))
        if wanted == "Inoperative":
            await self.send_status("Unavailable")
            return True
        return False

    async def _handle_DataTransfer(self, payload) -> dict:
        return {"status": "UnknownVendorId"}
