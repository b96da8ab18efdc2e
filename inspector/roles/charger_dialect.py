"""What differs between OCPP versions for the fake charger, chosen once per charger.

1.6 and 2.0.1/2.1 say the same things with different messages: a transaction is
StartTransaction / MeterValues / StopTransaction in 1.6 and one TransactionEvent stream in
2.x; a card is an `idTag` or an `idToken`; a setting is a configuration key or a
Component/Variable. The charger's concerns (transactions here; metering, offline, local
list, firmware, smart charging and faults in their modules) ask the charger's `dialect`
instead of testing the version, so a version's behaviour reads in one place and a new
version is one more class.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from ..versions import V16
from .common import ChargerError


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Setting:
    """One setting of the charger's configuration, named per version."""

    v16: str | None  # the 1.6 configuration key (None: 1.6 has no such setting)
    v2: str | None  # the 2.x "Component/Variable" (None: 2.x has none)
    default: str
    read_only: bool = False
    whole_number: bool = False  # seconds, attempts: a whole number, 0 or more


def whole_number_keys(*tables: dict[str, Setting]) -> frozenset[str]:
    """Every name, in both versions, of the whole-number settings of `tables`."""
    return frozenset(name for table in tables for s in table.values() if s.whole_number
                     for name in (s.v16, s.v2) if name)


# 1.6 statuses a 2.x connector reports as Occupied (2.x has no session states on the connector)
_OCCUPIED = frozenset({"Preparing", "Charging", "Finishing", "SuspendedEV", "SuspendedEVSE"})
# how a 1.6 stop reason reads as a 2.x TransactionEvent trigger
_STOP_TRIGGERS = {"Local": "StopAuthorized", "Remote": "RemoteStop", "SoftReset": "ResetCommand",
                  "HardReset": "ResetCommand", "ImmediateReset": "ResetCommand",
                  "DeAuthorized": "Deauthorized"}
# the FirmwareStatus values plain 1.6 knows (TriggerMessage reports others as Idle)
_FIRMWARE_16 = frozenset({"Downloaded", "DownloadFailed", "Downloading", "Idle",
                          "InstallationFailed", "Installing", "Installed"})
_LOG_16 = frozenset({"Uploaded", "UploadFailed", "Uploading"})


class Dialect:
    """The version-specific half of a fake charger (see the module's doc)."""

    version: str
    card_info_field: str  # the CSMS's verdict on a card: idTagInfo / idTokenInfo
    connector_field: str  # where a request names its connector: connectorId / evseId
    unknown_connector: str  # UnlockConnector's answer for a connector the charger lacks
    upload_failed: str  # the log upload's failure status
    log_status_action: str  # the message that reports a log upload
    reboot_boot_reason: str | None  # BootNotification's reason after a Reset (None: no field)
    security_event_on_reboot: bool  # a reboot is a SecurityEventNotification ResetOrReboot
    queued_actions: frozenset[str]  # the transaction messages kept while offline
    local_list_needs_enabling: bool  # SendLocalList is NotSupported while the list is off
    transaction_on_connector_zero: bool  # a RemoteStart may name connector / EVSE 0
    signed_firmware_flow: bool  # UpdateFirmware reports requestId, InstallRebooting, events
    signed_status_action: str  # the message SignedUpdateFirmware (1.6 extension) reports in
    firmware_boot_reason: str | None  # BootNotification's reason after a firmware install
    firmware_reboot_kind: str  # the reset a firmware install reboots with

    def key(self, setting: Setting) -> str | None:
        raise NotImplementedError

    def configuration(self, *tables: dict[str, Setting]) -> dict:
        """The initial configuration entries of `tables`: name -> (value, read-only)."""
        return {self.key(s): (s.default, s.read_only) for table in tables for s in table.values()
                if self.key(s)}

    def card_of(self, entry: dict) -> str | None:
        """The card a message or a local list entry names."""
        raise NotImplementedError

    # ---- messages the charger sends ---------------------------------------------------------

    def boot_request(self, model, serial: str, firmware: str, reason: str | None) -> dict:
        raise NotImplementedError

    def status_request(self, status: str, connector: int, error_code: str) -> dict:
        raise NotImplementedError

    def authorize_request(self, tag: str) -> dict:
        raise NotImplementedError

    def sampled_values(self, sample, context: str, measurands) -> list[dict]:
        raise NotImplementedError

    async def start_transaction(self, charger, tag: str, remote_start_id, trigger: str) -> None:
        raise NotImplementedError

    async def meter_values(self, charger, sample, context: str, measurands, trigger: str,
                           stamp: str) -> None:
        raise NotImplementedError

    async def ev_full(self, charger) -> None:
        raise NotImplementedError

    async def stop_transaction(self, charger, reason: str, fault: bool) -> None:
        raise NotImplementedError

    def fault_stop_reason(self, code: str, reasons: dict[str, str]) -> str:
        raise NotImplementedError

    async def report_fault(self, charger, code: str) -> None:
        """Beyond the Faulted status: what else this version reports of a fault."""

    def offline_answer(self, action: str, local_id) -> dict:
        """What the charger tells itself for a transaction message it queued offline."""
        return {}

    def offline_authorization(self, status: str) -> dict:
        return {self.card_info_field: {"status": status}}

    def queues(self, action: str, payload: dict) -> bool:
        return action in self.queued_actions

    def refused_transaction(self, action: str, payload: dict, answer: dict):
        """The transaction whose card the CSMS refused in `answer` to a delivered message
        (None: none refused)."""
        raise NotImplementedError

    async def energy_suspended(self, charger) -> None:
        """Report that the charger stopped the energy while the transaction goes on."""
        raise NotImplementedError

    # ---- answers to the CSMS ----------------------------------------------------------------

    def profile_rejected(self, reason: str) -> dict:
        return {"status": "Rejected"}

    def composite_schedule(self, where: int, start: str, duration: int, unit: str,
                           periods: list[dict]) -> dict:
        raise NotImplementedError

    def local_list_version(self, version: int, enabled: bool) -> dict:
        raise NotImplementedError

    def firmware_request(self, payload: dict) -> tuple[str, str, object, dict | None]:
        """UpdateFirmware's location, retrieve time, requestId and firmware object."""
        raise NotImplementedError

    def firmware_answer(self) -> dict:
        return {"status": "Accepted"}

    def reported_firmware_status(self, status: str) -> str:
        return status

    def log_status_report(self, status: str) -> dict:
        return {"status": status}


class Ocpp16(Dialect):
    version = V16
    card_info_field, connector_field = "idTagInfo", "connectorId"
    unknown_connector = "NotSupported"
    upload_failed = "UploadFailed"
    log_status_action = "DiagnosticsStatusNotification"
    reboot_boot_reason = None
    security_event_on_reboot = False
    queued_actions = frozenset({"StartTransaction", "StopTransaction", "MeterValues"})
    local_list_needs_enabling = True
    transaction_on_connector_zero = False
    signed_firmware_flow = False  # plain UpdateFirmware: the four statuses of FirmwareStatus
    signed_status_action = "SignedFirmwareStatusNotification"
    firmware_boot_reason = None
    firmware_reboot_kind = "Hard"

    def key(self, setting: Setting) -> str | None:
        return setting.v16

    def card_of(self, entry: dict) -> str | None:
        return entry.get("idTag")

    def boot_request(self, model, serial, firmware, reason):
        return {"chargePointVendor": model.vendor[:20], "chargePointModel": model.model[:20],
                "chargePointSerialNumber": serial[:25], "firmwareVersion": firmware[:50]}

    def status_request(self, status, connector, error_code):
        return {"connectorId": connector, "errorCode": error_code, "status": status,
                "timestamp": now_iso()}

    def authorize_request(self, tag):
        return {"idTag": tag}

    def sampled_values(self, sample, context, measurands):
        return sample.v16(context, measurands=measurands)

    async def start_transaction(self, charger, tag, remote_start_id, trigger):
        answer = await charger.call("StartTransaction", {
            "connectorId": charger.options.connector, "idTag": tag,
            "meterStart": int(charger.meter.energy_wh), "timestamp": now_iso()})
        status = answer.get("idTagInfo", {}).get("status")
        charger.transaction_id = answer.get("transactionId")
        if status != "Accepted":
            await charger.call("StopTransaction", self._stop_request(charger, "DeAuthorized", tag))
            charger.transaction_id = None
            charger.transaction_started_at = None
            raise ChargerError(f"CSMS did not accept StartTransaction: idTag {status}")

    async def meter_values(self, charger, sample, context, measurands, trigger, stamp):
        payload = {"connectorId": charger.options.connector,
                   "meterValue": [{"timestamp": stamp,
                                   "sampledValue": self.sampled_values(sample, context, measurands)}]}
        if charger.transaction_id is not None:
            payload["transactionId"] = charger.transaction_id
        await charger.call("MeterValues", payload)

    async def ev_full(self, charger):
        await charger.send_status("SuspendedEV")

    async def stop_transaction(self, charger, reason, fault):
        await charger.call("StopTransaction", self._stop_request(charger, reason, charger.options.id_tag))

    @staticmethod
    def _stop_request(charger, reason: str, tag: str) -> dict:
        payload = {"transactionId": charger.transaction_id, "meterStop": int(charger.meter.energy_wh),
                   "timestamp": now_iso(), "reason": reason, "idTag": tag}
        if charger.meter.last is not None:
            payload["transactionData"] = [{"timestamp": now_iso(),
                                           "sampledValue": charger.meter.last.v16()}]
        return payload

    def fault_stop_reason(self, code, reasons):
        return "Other"  # 1.6's Reason has no fault values

    def queues(self, action, payload):
        # a MeterValues outside a transaction is not a transaction message
        return action in self.queued_actions and (action != "MeterValues" or "transactionId" in payload)

    def refused_transaction(self, action, payload, answer):
        if action != "StartTransaction":
            return None
        status = (answer.get("idTagInfo") or {}).get("status")
        return None if status in (None, "Accepted") else answer.get("transactionId")

    async def energy_suspended(self, charger):
        await charger.send_status("SuspendedEVSE")

    def offline_answer(self, action, local_id):
        if action == "StartTransaction":
            return {"transactionId": local_id, "idTagInfo": {"status": "Accepted"}}
        return {"idTagInfo": {"status": "Accepted"}} if action == "StopTransaction" else {}

    def composite_schedule(self, where, start, duration, unit, periods):
        # 1.6 errata v4.0 3.57: no startSchedule in the composite (scheduleStart says it)
        return {"status": "Accepted", "connectorId": where, "scheduleStart": start,
                "chargingSchedule": {"duration": duration, "chargingRateUnit": unit,
                                     "chargingSchedulePeriod": periods}}

    def local_list_version(self, version, enabled):
        return {"listVersion": version if enabled else -1}

    def firmware_request(self, payload):
        return payload["location"], payload["retrieveDate"], None, None

    def firmware_answer(self):
        return {}

    def reported_firmware_status(self, status):
        return status if status in _FIRMWARE_16 else "Idle"

    def log_status_report(self, status):
        return {"status": status if status in _LOG_16 else "Idle"}


class Ocpp2(Dialect):
    """2.0.1, and 2.1 where it says the same."""

    card_info_field, connector_field = "idTokenInfo", "evseId"
    unknown_connector = "UnknownConnector"
    upload_failed = "UploadFailure"
    log_status_action = "LogStatusNotification"
    reboot_boot_reason = "RemoteReset"
    security_event_on_reboot = True  # a 2.0.1 station reports every reboot as a security event
    queued_actions = frozenset({"TransactionEvent"})
    local_list_needs_enabling = False
    transaction_on_connector_zero = True
    signed_firmware_flow = True
    signed_status_action = "FirmwareStatusNotification"
    firmware_boot_reason = "FirmwareUpdate"
    firmware_reboot_kind = "Immediate"

    def __init__(self, version: str):
        self.version = version

    def key(self, setting: Setting) -> str | None:
        return setting.v2

    def card_of(self, entry: dict) -> str | None:
        return (entry.get("idToken") or {}).get("idToken")

    @staticmethod
    def id_token(tag: str) -> dict:
        return {"idToken": tag, "type": "ISO14443"}

    def boot_request(self, model, serial, firmware, reason):
        return {"reason": reason or "PowerUp",
                "chargingStation": {"model": model.model[:20], "vendorName": model.vendor[:50],
                                    "serialNumber": serial[:25], "firmwareVersion": firmware[:50]}}

    def status_request(self, status, connector, error_code):
        return {"timestamp": now_iso(),
                "connectorStatus": "Occupied" if status in _OCCUPIED else status,
                "evseId": max(connector, 1), "connectorId": 1}

    def authorize_request(self, tag):
        return {"idToken": self.id_token(tag)}

    def sampled_values(self, sample, context, measurands):
        return sample.v2(context=context, measurands=measurands)

    async def start_transaction(self, charger, tag, remote_start_id, trigger):
        charger.transaction_id = uuid.uuid4().hex[:16]
        charger.seq_no = 0
        info = {"transactionId": charger.transaction_id, "chargingState": "Charging"}
        if remote_start_id is not None:
            info["remoteStartId"] = remote_start_id
        await self._event(charger, "Started", trigger, info, idToken=self.id_token(tag),
                          evse={"id": charger.options.connector, "connectorId": 1})

    async def meter_values(self, charger, sample, context, measurands, trigger, stamp):
        values = [{"timestamp": stamp, "sampledValue": self.sampled_values(sample, context, measurands)}]
        if charger.transaction_id is None:
            await charger.call("MeterValues", {"evseId": charger.options.connector, "meterValue": values})
            return
        state = "SuspendedEV" if charger.status == "SuspendedEV" else "Charging"
        await self._event(charger, "Updated", trigger,
                          {"transactionId": charger.transaction_id, "chargingState": state},
                          meterValue=values)

    async def ev_full(self, charger):
        charger.status = "SuspendedEV"
        await self._event(charger, "Updated", "ChargingStateChanged",
                          {"transactionId": charger.transaction_id, "chargingState": "SuspendedEV"})

    async def stop_transaction(self, charger, reason, fault):
        trigger = "AbnormalCondition" if fault else _STOP_TRIGGERS.get(reason, "StopAuthorized")
        await self._event(charger, "Ended", trigger,
                          {"transactionId": charger.transaction_id, "stoppedReason": reason,
                           "chargingState": "Idle"},
                          meterValue=[{"timestamp": now_iso(),
                                       "sampledValue": charger.meter.last.v2(ending=True)}])

    @staticmethod
    async def _event(charger, event_type: str, trigger: str, info: dict, **extra) -> None:
        payload = {"eventType": event_type, "timestamp": now_iso(), "triggerReason": trigger,
                   "seqNo": charger.seq_no, "transactionInfo": info, **extra}
        charger.seq_no += 1
        await charger.call("TransactionEvent", payload)

    def fault_stop_reason(self, code, reasons):
        return reasons[code]

    def refused_transaction(self, action, payload, answer):
        if action != "TransactionEvent" or payload.get("eventType") == "Ended":
            return None
        status = (answer.get("idTokenInfo") or {}).get("status")
        if status in (None, "Accepted"):
            return None
        return (payload.get("transactionInfo") or {}).get("transactionId")

    async def energy_suspended(self, charger):
        charger.status = "SuspendedEVSE"
        await self._event(charger, "Updated", "ChargingStateChanged",
                          {"transactionId": charger.transaction_id, "chargingState": "SuspendedEVSE"})

    async def report_fault(self, charger, code):
        await charger.call("NotifyEvent", {
            "generatedAt": now_iso(), "seqNo": 0, "tbc": False,
            "eventData": [{"eventId": 1, "timestamp": now_iso(), "trigger": "Delta",
                           "actualValue": "true", "eventNotificationType": "HardWiredNotification",
                           "techInfo": code, "component": {"name": "ChargingStation"},
                           "variable": {"name": "Problem"}}]})

    def profile_rejected(self, reason):
        return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidProfile",
                                                     "additionalInfo": reason[:512]}}

    def composite_schedule(self, where, start, duration, unit, periods):
        return {"status": "Accepted",
                "schedule": {"evseId": where, "duration": duration, "scheduleStart": start,
                             "chargingRateUnit": unit, "chargingSchedulePeriod": periods}}

    def local_list_version(self, version, enabled):
        return {"versionNumber": version}

    def firmware_request(self, payload):
        firmware = payload["firmware"]
        return firmware["location"], firmware["retrieveDateTime"], payload["requestId"], firmware


def dialect_for(version: str) -> Dialect:
    return Ocpp16() if version == V16 else Ocpp2(version)
