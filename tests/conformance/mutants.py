"""Mutant SUTs for test_suite_mutation_coverage.py: our simulators with one behaviour wrong.

Charger mutants subclass `FakeCharger` and change one handler or user-level action; CSMS
mutants subclass `FakeCsms` and change what it sends when the engine's prompt asks it to
send a request (`call`), how it answers one kind of message (`_respond`), how it opens
connections (subprotocol, Basic auth), or one thing the RPC endpoint of each connection
does (`PatchedEndpointCsms`). Each docstring says, in words, the one thing it gets wrong.
"""

from __future__ import annotations

import copy
import dataclasses
from datetime import datetime, timedelta, timezone

from inspector import codec, defaults
from inspector.conformance.sut_config import SutDescription
from inspector.roles.charger import FakeCharger
from inspector.roles.charger_models import BUILT_IN
from inspector.roles.csms import SUPPORTED, FakeCsms
from inspector.rpc import CallError, new_unique_id


def charger(cls):
    """`run(charger_factory=...)` for a FakeCharger subclass."""
    return lambda hub, options: cls(hub, options)


def csms(cls, **extra):
    """`run(csms_factory=...)` for a FakeCsms subclass (extra keywords go to its __init__)."""
    return lambda hub, listen, **kw: cls(hub, listen, **kw, **extra)


# ---- charging stations -----------------------------------------------------------------------

class IgnoresHeartbeatInterval(FakeCharger):
    """Keeps heartbeating every 300 s whatever interval the CSMS grants at boot."""

    async def boot(self, *, retries=3, reason=None, retry_rejected=False):
        status = await super().boot(retries=retries, reason=reason, retry_rejected=retry_rejected)
        self.heartbeat_interval = defaults.HEARTBEAT_INTERVAL
        return status


class GivesUpWhenPending(FakeCharger):
    """Sends BootNotification once and never again after a Pending answer."""

    async def boot(self, *, retries=3, reason=None, retry_rejected=False):
        return await super().boot(retries=0, reason=reason, retry_rejected=retry_rejected)


class IgnoresCardWhilePlugged(FakeCharger):
    """A card accepted while the cable is already plugged in does not start a transaction."""

    async def present_card(self, id_tag=None):
        status = await super().present_card(id_tag)
        if self.status != "Available" and self.transaction_id is None:
            return "Ignored"  # the simulator only starts on an Accepted card
        return status


class ForgetsAuthorizationOnPlugIn(FakeCharger):
    """A card accepted before the cable was plugged in is forgotten: plugging in starts nothing."""

    _just_plugged = False

    async def plug_in(self):
        await super().plug_in()
        self._just_plugged = True

    async def present_card(self, id_tag=None):
        self._just_plugged = False
        return await super().present_card(id_tag)

    async def start_transaction(self, id_tag=None, *, remote_start_id=None, trigger="Authorized"):
        if self._just_plugged and trigger == "Authorized":
            self._just_plugged = False
            return None
        return await super().start_transaction(id_tag, remote_start_id=remote_start_id,
                                               trigger=trigger)


class StartsDespiteRefusal(FakeCharger):
    """Starts charging for a card whatever the CSMS answers to its Authorize."""

    async def present_card(self, id_tag=None):
        await super().present_card(id_tag)
        return "Accepted"


class RemoteStartWithOwnTag(FakeCharger):
    """Accepts RemoteStartTransaction but starts the transaction for an idTag of its own."""

    async def _handle_RemoteStartTransaction(self, payload):
        return await super()._handle_RemoteStartTransaction({**payload, "idTag": "OWNTAG99"})


class RemoteStartWithoutRemoteStartId(FakeCharger):
    """Starts the transaction a RequestStartTransaction asked for without its remoteStartId."""

    async def _handle_RequestStartTransaction(self, payload):
        return await super()._handle_RequestStartTransaction(
            {k: v for k, v in payload.items() if k != "remoteStartId"})


class RemoteStopReportedAsLocal(FakeCharger):
    """Stops a transaction on a remote request but reports it as stopped locally."""

    async def _stop_and_unplug(self, reason):
        await super()._stop_and_unplug("Local" if reason == "Remote" else reason)


class LocalStopReportedDeauthorized(FakeCharger):
    """Ends a transaction stopped with the driver's card with triggerReason Deauthorized
    instead of StopAuthorized (2.0.1)."""

    async def call(self, action, payload):
        if action == "TransactionEvent" and payload.get("eventType") == "Ended" and \
                payload.get("triggerReason") == "StopAuthorized":
            payload = {**payload, "triggerReason": "Deauthorized"}
        return await super().call(action, payload)


class ResetIgnored(FakeCharger):
    """Accepts Reset and does nothing: no reboot."""

    async def _handle_Reset(self, payload):
        return {"status": "Accepted"}


class ResetStopsWithWrongReason(FakeCharger):
    """Stops the running transaction on a Reset with reason Reboot instead of Hard/SoftReset."""

    async def stop_transaction(self, reason="Local"):
        await super().stop_transaction("Reboot" if reason.endswith("Reset") else reason)


class ListsOnlyAskedKeys(FakeCharger):
    """GetConfiguration without keys answers an empty list instead of every key."""

    async def _handle_GetConfiguration(self, payload):
        if not payload.get("key"):
            return {"configurationKey": []}
        return await super()._handle_GetConfiguration(payload)


class ChangeNotApplied(FakeCharger):
    """Answers ChangeConfiguration / SetVariables Accepted but keeps the old value."""

    async def _unchanged(self, handler, payload):
        config, interval = dict(self.config), self.heartbeat_interval
        answer = await handler(payload)
        self.config, self.heartbeat_interval = config, interval
        return answer

    async def _handle_ChangeConfiguration(self, payload):
        return await self._unchanged(super()._handle_ChangeConfiguration, payload)

    async def _handle_SetVariables(self, payload):
        return await self._unchanged(super()._handle_SetVariables, payload)


class VariablesUnknown(FakeCharger):
    """Answers GetVariables UnknownVariable for variables it has (HeartbeatInterval too)."""

    async def _handle_GetVariables(self, payload):
        answer = await super()._handle_GetVariables(payload)
        for result in answer["getVariableResult"]:
            result.pop("attributeValue", None)
            result["attributeStatus"] = "UnknownVariable"
        return answer


class RejectsUnknownKey(FakeCharger):
    """Answers a ChangeConfiguration of a key it does not have Rejected, not NotSupported."""

    async def _handle_ChangeConfiguration(self, payload):
        answer = await super()._handle_ChangeConfiguration(payload)
        return {"status": "Rejected"} if answer["status"] == "NotSupported" else answer


class AcceptsInvalidValue(FakeCharger):
    """Accepts any text as a new configuration value, "not-a-number" for HeartbeatInterval too."""

    async def _handle_ChangeConfiguration(self, payload):
        key = payload["key"]
        if key not in self.config:
            return {"status": "NotSupported"}
        self.config[key] = (payload["value"], False)
        return {"status": "Accepted"}


class UnlockFails(FakeCharger):
    """Cannot unlock its connector: UnlockConnector answers UnlockFailed."""

    async def _handle_UnlockConnector(self, payload):
        return {"status": "UnlockFailed"}


class UnlocksAnyConnector(FakeCharger):
    """Answers Unlocked to UnlockConnector for a connector it does not have."""

    async def _handle_UnlockConnector(self, payload):
        return {"status": "Unlocked"}


class AcceptsRemoteStartOnConnectorZero(FakeCharger):
    """Accepts a RemoteStartTransaction for connector 0 (and starts on its connector)."""

    async def _handle_RemoteStartTransaction(self, payload):
        return await super()._handle_RemoteStartTransaction(
            {**payload, "connectorId": self.options.connector})


class AcceptsAnyRemoteStop(FakeCharger):
    """Accepts a remote stop of a transaction it does not know."""

    async def _handle_RemoteStopTransaction(self, payload):
        return {"status": "Accepted"}

    async def _handle_RequestStopTransaction(self, payload):
        return {"status": "Accepted"}


class TriggerIgnored(FakeCharger):
    """Accepts TriggerMessage but never sends the requested message."""

    async def _handle_TriggerMessage(self, payload):
        return {"status": "Accepted"}


class TriggersAnything(FakeCharger):
    """Answers Accepted to a TriggerMessage for a message it cannot send."""

    async def _handle_TriggerMessage(self, payload):
        answer = await super()._handle_TriggerMessage(payload)
        return {"status": "Accepted"} if answer["status"] == "NotImplemented" else answer


class InoperativeIgnored(FakeCharger):
    """Accepts ChangeAvailability Inoperative but stays available."""

    async def _handle_ChangeAvailability(self, payload):
        if payload.get("type", payload.get("operationalStatus")) == "Inoperative":
            return {"status": "Accepted"}
        return await super()._handle_ChangeAvailability(payload)


class OperativeIgnored(FakeCharger):
    """Accepts ChangeAvailability Operative but stays unavailable."""

    async def _handle_ChangeAvailability(self, payload):
        if payload.get("type", payload.get("operationalStatus")) == "Operative":
            return {"status": "Accepted"}
        return await super()._handle_ChangeAvailability(payload)


class ReservesOccupiedConnector(FakeCharger):
    """Accepts a ReserveNow for a connector that is in use."""

    async def _handle_ReserveNow(self, payload):
        answer = await super()._handle_ReserveNow(payload)
        return {"status": "Accepted"} if answer["status"] == "Occupied" else answer


class CancelRejected(FakeCharger):
    """Answers CancelReservation Rejected even for its own reservation."""

    async def _handle_CancelReservation(self, payload):
        return {"status": "Rejected"}


class CancelsUnknownReservation(FakeCharger):
    """Answers CancelReservation Accepted for a reservation it does not have."""

    async def _handle_CancelReservation(self, payload):
        await super()._handle_CancelReservation(payload)
        return {"status": "Accepted"}


class AcceptsUnknownVendor(FakeCharger):
    """Accepts a DataTransfer from a vendor it does not know."""

    async def _handle_DataTransfer(self, payload):
        return {"status": "Accepted"}


class MeterValuesWithoutTransactionId(FakeCharger):
    """Sends its sampled meter values during a transaction without the transaction id (1.6)."""

    async def send_meter_values(self):
        transaction, self.transaction_id = self.transaction_id, None
        try:
            await super().send_meter_values()
        finally:
            self.transaction_id = transaction


class SamplesInBursts(FakeCharger):
    """Sends two samples each sample interval: the second comes long before the interval."""

    async def send_meter_values(self):
        await super().send_meter_values()
        await super().send_meter_values()


class MeterValuesOutsideTransactionEvent(FakeCharger):
    """Sends its periodic samples during a 2.0.1 transaction as MeterValues messages, not as
    TransactionEvent Updated."""

    async def send_meter_values(self):
        transaction, self.transaction_id = self.transaction_id, None
        try:
            await super().send_meter_values()
        finally:
            self.transaction_id = transaction


LONG_ID = "ocpp-inspector-mutant-id-of-40-characters"[:40]
assert len(LONG_ID) == 40


class OwnIdsTooLong(FakeCharger):
    """Uses unique ids longer than 36 characters in its own (triggered) Heartbeat CALLs."""

    async def heartbeat(self):
        await self.endpoint.send_frame(codec.call(LONG_ID, "Heartbeat", {}))


class NoPayloadValidation(FakeCharger):
    """Does not validate incoming CALLs: a schema-invalid CALL is processed, not refused with
    the CALLERROR for its constraint."""

    async def connect(self):
        endpoint = await super().connect()
        endpoint.strict = False
        return endpoint


class DoesNotWaitForAnswers(FakeCharger):
    """Sends its Heartbeat without waiting for the answer, so its next CALL overlaps it."""

    async def heartbeat(self):
        await self.endpoint.send_frame(codec.call(new_unique_id(), "Heartbeat", {}))


class PlainWebSocket(FakeCharger):
    """Connects with plain ws:// where the CSMS offers wss:// (no TLS: security profile 1)."""

    def __init__(self, hub, options):
        super().__init__(hub, dataclasses.replace(
            options, url=options.url.replace("wss://", "ws://", 1), tls=None))


class NoCredentials(FakeCharger):
    """Connects without HTTP Basic credentials although it has a password (profile 0)."""

    def __init__(self, hub, options):
        super().__init__(hub, dataclasses.replace(options, password=None))


class StartsBeforeTheCable(FakeCharger):
    """A remote start while nothing is plugged in starts charging at once."""

    def __init__(self, hub, options):
        super().__init__(hub, options)
        self._cable_first = False

    @property
    def waits_for_cable(self) -> bool:
        return self._cable_first

    @waits_for_cable.setter
    def waits_for_cable(self, value: bool) -> None:
        pass  # never waits, whatever the simulator asks


# ---- smart charging (1.6 Smart Charging profile) -----------------------------------------------

def _profile_of(payload: dict) -> dict:
    return payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}


class IgnoresTxDefaultProfile(FakeCharger):
    """Accepts a TxDefaultProfile but never applies it: the composite shows no limit."""

    async def _handle_SetChargingProfile(self, payload):
        if _profile_of(payload).get("chargingProfilePurpose") == "TxDefaultProfile":
            return {"status": "Accepted"}
        return await super()._handle_SetChargingProfile(payload)


class RejectsTxProfile(FakeCharger):
    """Rejects every TxProfile, even for the transaction in progress."""

    async def _handle_SetChargingProfile(self, payload):
        if _profile_of(payload).get("chargingProfilePurpose") == "TxProfile":
            return {"status": "Rejected"}
        return await super()._handle_SetChargingProfile(payload)


class TxProfileWithoutTransaction(FakeCharger):
    """Accepts a TxProfile when no transaction is in progress."""

    async def _handle_SetChargingProfile(self, payload):
        if self.transaction_id is None and \
                _profile_of(payload).get("chargingProfilePurpose") == "TxProfile":
            return {"status": "Accepted"}
        return await super()._handle_SetChargingProfile(payload)


class TxProfileForAnyTransaction(FakeCharger):
    """Takes a TxProfile for another transaction id as one for its own transaction."""

    async def _handle_SetChargingProfile(self, payload):
        profile = _profile_of(payload)
        if self.transaction_id is not None and profile.get("chargingProfilePurpose") == "TxProfile":
            payload = {**payload, "csChargingProfiles": {**profile,
                                                         "transactionId": self.transaction_id}}
        return await super()._handle_SetChargingProfile(payload)


class CompositeFirstPeriodOnly(FakeCharger):
    """Reports the composite schedule's first period for the whole duration."""

    async def _handle_GetCompositeSchedule(self, payload):
        answer = await super()._handle_GetCompositeSchedule(payload)
        schedule = answer.get("chargingSchedule")
        if schedule:
            schedule["chargingSchedulePeriod"] = schedule["chargingSchedulePeriod"][:1]
        return answer


class ClearsNothingById(FakeCharger):
    """Answers Accepted to ClearChargingProfile by id without removing the profile."""

    async def _handle_ClearChargingProfile(self, payload):
        if "id" in payload:
            return {"status": "Accepted"}
        return await super()._handle_ClearChargingProfile(payload)


class LowestStackLevelWins(FakeCharger):
    """Stacks profiles upside down: the lowest stack level overrides the higher ones."""

    async def _handle_SetChargingProfile(self, payload):
        profile = _profile_of(payload)
        if "stackLevel" in profile:
            payload = {**payload, "csChargingProfiles": {**profile,
                                                         "stackLevel": 9 - profile["stackLevel"]}}
        return await super()._handle_SetChargingProfile(payload)


# ---- local authorization ---------------------------------------------------------------------

class EmptyListKeepsItsVersion(FakeCharger):
    """Reports the version of a list that was emptied instead of 0."""

    async def _handle_GetLocalListVersion(self, payload):
        return {"listVersion": self.local_list_version}


class ForgetsTheListVersion(FakeCharger):
    """Installs the cards of a full list but keeps the old version number."""

    async def _handle_SendLocalList(self, payload):
        before = self.local_list_version
        answer = await super()._handle_SendLocalList(payload)
        self.local_list_version = before
        return answer


class AcceptsStaleDifferentials(FakeCharger):
    """Applies a differential update whatever its version."""

    async def _handle_SendLocalList(self, payload):
        if payload.get("updateType") == "Differential":
            self.local_list_version = -1  # so that any version is newer
        return await super()._handle_SendLocalList(payload)


class ForgetsItsTransactionOnLoss(FakeCharger):
    """Ends what it knows of its transaction when the connection drops (TC_036_CS)."""

    def connection_lost(self):
        self.transaction_id = None
        super().connection_lost()


class RefusesCardsOffline(FakeCharger):
    """Ignores LocalAuthorizeOffline and its cache: every card is Invalid offline."""

    def _authorize_offline(self, payload):
        return self.dialect.offline_authorization("Invalid")


class LosesItsOfflineStop(FakeCharger):
    """Does not queue a StopTransaction made offline: it is never delivered."""

    def answer_offline(self, action, payload):
        if action == "StopTransaction":
            return self.dialect.offline_answer(action, None)
        return super().answer_offline(action, payload)


class KeepsItsLocalTransactionId(FakeCharger):
    """Delivers what it queued after an offline StartTransaction with its local id, not the
    id the Central System gave (no remapping)."""

    def _remapped(self, payload):
        return payload


class IgnoresCardsRefusedLater(FakeCharger):
    """Goes on charging when the Central System refuses, once back online, the card of a
    transaction started offline."""

    async def card_refused_after_all(self):
        return None


class AlwaysStopsOnRefusedCards(FakeCharger):
    """Stops the transaction of a card refused after reconnecting, whatever
    StopTransactionOnInvalidId says."""

    async def card_refused_after_all(self):
        await self.stop_transaction("DeAuthorized")


class InstalledBeforeTheReboot(FakeCharger):
    """Reports a firmware Installed as soon as it starts installing, before its reboot."""

    async def _firmware_status(self, status, request_id, extension=False):
        if status == "Installed":
            return  # (said already)
        await super()._firmware_status(status, request_id, extension)
        if status == "Installing":
            await super()._firmware_status("Installed", request_id, extension)


class InstallsAnyImage(FakeCharger):
    """Installs whatever it downloads, an empty file too."""

    def _download(self, url):
        return super()._download(url) or b"(nothing)"


class TruncatesLongLists(FakeCharger):
    """Takes a Local Authorization List longer than it can hold by keeping its first cards."""

    async def _handle_SendLocalList(self, payload):
        entries = payload.get("localAuthorizationList") or []
        return await super()._handle_SendLocalList({**payload, "localAuthorizationList": entries[:100]})


NO_LOCAL_LIST_MODEL = dataclasses.replace(
    BUILT_IN["ac-7kw"], features=("Core", "RemoteTrigger", "Reservation", "SmartCharging",
                                  "FirmwareManagement"))
# a SUT description that says so (TC_042_1_CS and TC_043_1_CS need it)
NO_LOCAL_LIST_SUT = SutDescription(source="a test's description", tags={"valid": "TAG0001"},
                                   connectors=[1], features=set(NO_LOCAL_LIST_MODEL.features))


class WithoutLocalLists(FakeCharger):
    """A correct charger without LocalAuthListManagement (its model leaves it out)."""

    def __init__(self, hub, options):
        super().__init__(hub, dataclasses.replace(options, model=NO_LOCAL_LIST_MODEL))


class ClaimsALocalListItLacks(WithoutLocalLists):
    """Has no Local Authorization List but answers as if it had an empty one."""

    async def _handle_GetLocalListVersion(self, payload):
        return {"listVersion": 0}

    async def _handle_SendLocalList(self, payload):
        return {"status": "Accepted"}


class KeepsItsCache(FakeCharger):
    """Refuses to clear its authorization cache."""

    async def _handle_ClearCache(self, payload):
        return {"status": "Rejected"}


# ---- firmware and diagnostics ------------------------------------------------------------------

class ReportsDownloadedAnyway(FakeCharger):
    """Reports Downloaded (and goes on) when the download failed."""

    def _download(self, url):
        return b"nothing"


class ReportsUploadedAnyway(FakeCharger):
    """Reports Uploaded without the upload having worked."""

    def _upload(self, url, body):
        return None


class NeverUploads(FakeCharger):
    """Answers GetDiagnostics with a file name and never uploads anything."""

    async def _send_log(self, *args, **kwargs):
        return None


# ---- CSMSs -----------------------------------------------------------------------------------

class RewritingCsms(FakeCsms):
    """Sends what the operator asked for through `rewrite(action, payload)`."""

    def __init__(self, hub, listen, *, rewrite, **kwargs):
        super().__init__(hub, listen, **kwargs)
        self.rewrite = rewrite

    async def call(self, charge_point_id, action, payload, *, timeout=None):
        payload = self.rewrite(action, copy.deepcopy(payload))
        return await super().call(charge_point_id, action, payload, timeout=timeout)


def rewriting(rewrite):
    """A CSMS factory whose CSMS sends every prompted request through `rewrite`."""
    return csms(RewritingCsms, rewrite=rewrite)


def changed(action: str, **fields):
    """A rewrite that sets `fields` in the payload of `action` (other actions untouched)."""
    def rewrite(name, payload):
        return {**payload, **fields} if name == action else payload
    return rewrite


def full_list_without_status(name, payload):
    """A full Local Authorization List whose cards carry no idTagInfo (schema-valid)."""
    if name == "SendLocalList" and payload.get("updateType") == "Full":
        payload["localAuthorizationList"] = [{"idTag": e["idTag"]}
                                             for e in payload.get("localAuthorizationList", [])]
    return payload


def unsigned_firmware(name, payload):
    """UpdateFirmware without the image's signature and certificate (schema-valid)."""
    if name == "UpdateFirmware" and "firmware" in payload:
        payload["firmware"] = {k: v for k, v in payload["firmware"].items()
                               if k not in ("signature", "signingCertificate")}
    return payload


def without_install_date(name, payload):
    """UpdateFirmware that installs at once: no installDateTime (schema-valid)."""
    if name == "UpdateFirmware" and "firmware" in payload:
        payload["firmware"] = {k: v for k, v in payload["firmware"].items() if k != "installDateTime"}
    return payload


def flipped(action: str, field: str):
    """A rewrite that turns the boolean `field` of `action` around."""
    def rewrite(name, payload):
        if name == action and isinstance(payload.get(field), bool):
            payload[field] = not payload[field]
        return payload
    return rewrite


def wrong_transaction_id(action: str):
    def rewrite(name, payload):
        if name == action:
            tx = payload["transactionId"]
            payload["transactionId"] = tx + 1 if isinstance(tx, int) else tx + "-OTHER"
        return payload
    return rewrite


def profile_changed(**fields):
    """A rewrite that sets `fields` in the charging profile of SetChargingProfile."""
    def rewrite(name, payload):
        if name == "SetChargingProfile":
            payload["csChargingProfiles"] = {**payload["csChargingProfiles"], **fields}
        return payload
    return rewrite


def profile_for_another_transaction(name, payload):
    if name == "SetChargingProfile" and "transactionId" in payload["csChargingProfiles"]:
        payload["csChargingProfiles"]["transactionId"] += 1
    return payload


def swapped_reset(name, payload):
    if name == "Reset":
        payload["type"] = {"Hard": "Soft", "Soft": "Hard", "OnIdle": "Immediate"}[payload["type"]]
    return payload


def swapped_configuration_keys(name, payload):
    """GetConfiguration for all keys asks for one, and for one key asks for all."""
    if name == "GetConfiguration":
        return {} if payload.get("key") else {"key": ["HeartbeatInterval"]}
    return payload


def other_variable(name, payload):
    """Get/SetVariables name another variable than the one asked for, SetVariables another value."""
    field = {"GetVariables": "getVariableData", "SetVariables": "setVariableData"}.get(name)
    if field:
        payload[field][0]["variable"] = {"name": "OfflineThreshold"}
    return payload


def other_value(name, payload):
    if name == "SetVariables":
        payload["setVariableData"][0]["attributeValue"] = "300"
    return payload


def extra_variable(name, payload):
    """Get/SetVariables carry a second variable beside the one asked for."""
    field = {"GetVariables": "getVariableData", "SetVariables": "setVariableData"}.get(name)
    if field:
        item = copy.deepcopy(payload[field][0])
        item["variable"] = {"name": "OfflineThreshold"}
        payload[field] = [payload[field][0], item]
    return payload


class RespondingCsms(FakeCsms):
    """Answers the CALLs that `wrong(frame)` picks with `answer(default answer)`."""

    def __init__(self, hub, listen, *, wrong, answer, **kwargs):
        super().__init__(hub, listen, **kwargs)
        self.wrong, self.answer = wrong, answer

    async def _respond(self, version, frame):
        response = await super()._respond(version, frame)
        if self.wrong(frame):
            return self.answer(response)
        return response


def responding(wrong, answer):
    return csms(RespondingCsms, wrong=wrong, answer=answer)


def token_refused_in(event_type: str):
    """A 2.0.1 CSMS that answers the idToken of a TransactionEvent `event_type` Invalid."""
    def wrong(frame):
        return (frame.action == "TransactionEvent" and frame.payload.get("eventType") == event_type
                and "idToken" in frame.payload)
    return responding(wrong, lambda r: {**r, "idTokenInfo": {"status": "Invalid"}})


def refuses_restarted_seq_no():
    """A 2.0.1 CSMS that counts seqNo per station, not per transaction: a second
    transaction's seqNo 0 is refused with a CALLERROR."""
    seen = {"count": 0}

    def wrong(frame):
        if frame.action != "TransactionEvent":
            return False
        seen["count"] += 1
        return frame.payload.get("seqNo") == 0 and seen["count"] > 1

    def answer(response):
        raise CallError("OccurrenceConstraintViolation", "seqNo must go on rising")
    return responding(wrong, answer)


def refuses_past_start():
    """A 1.6 CSMS that refuses a StartTransaction whose timestamp is more than a minute old."""
    def wrong(frame):
        if frame.action != "StartTransaction":
            return False
        stamp = datetime.fromisoformat(frame.payload["timestamp"].replace("Z", "+00:00"))
        return datetime.now(timezone.utc) - stamp > timedelta(seconds=60)
    return responding(wrong, lambda r: {**r, "idTagInfo": {"status": "Invalid"}})


def refuses_started_transaction():
    """A 1.6 CSMS that refuses every StartTransaction (here: one it asked for remotely)."""
    return responding(lambda frame: frame.action == "StartTransaction",
                      lambda r: {**r, "idTagInfo": {"status": "Invalid"}})


def refuses_reserved_start():
    """A 1.6 CSMS that refuses the StartTransaction made on its own reservation."""
    def wrong(frame):
        return frame.action == "StartTransaction" and "reservationId" in frame.payload
    return responding(wrong, lambda r: {**r, "idTagInfo": {"status": "Invalid"}})


class RefusesPeriodicMeterValues(FakeCsms):
    """Answers a 2.0.1 TransactionEvent carrying periodic meter values with a CALLERROR."""

    async def _respond(self, version, frame):
        if (frame.action == "TransactionEvent"
                and frame.payload.get("triggerReason") == "MeterValuePeriodic"):
            raise CallError("NotSupported", "no meter values here")
        return await super()._respond(version, frame)


class RejectsRetriedBoot(FakeCsms):
    """Answers the first BootNotification as configured (Pending) and the retry Rejected."""

    boots = 0

    async def _respond(self, version, frame):
        response = await super()._respond(version, frame)
        if frame.action == "BootNotification":
            self.boots += 1
            if self.boots > 1:
                return {**response, "status": "Rejected"}
        return response


class ServesUnacceptedStation(FakeCsms):
    """Answers a station it has not accepted (boot Rejected) as if it were accepted."""

    def __init__(self, hub, listen, *, overrides=None, **kwargs):
        overrides = {k: v for k, v in (overrides or {}).items() if k != "StatusNotification"}
        super().__init__(hub, listen, overrides=overrides, **kwargs)


class PatchedEndpointCsms(FakeCsms):
    """Applies `patch(endpoint)` to the RPC endpoint of every station that connects."""

    def __init__(self, hub, listen, *, patch, **kwargs):
        super().__init__(hub, listen, **kwargs)
        self.on_station = patch


def sanitized_echoed_ids(endpoint):
    """Answers a CALL with its unique id stripped of characters other than letters, digits
    and '-' (an id "cleaned" before it is stored): the answer no longer carries the
    caller's id whenever that id holds other characters."""
    send = endpoint._safe_send

    async def safe_send(frame):
        if frame.type is codec.FrameType.CALLRESULT:
            cleaned = "".join(c for c in frame.unique_id if c.isalnum() or c == "-")
            frame = codec.call_result(cleaned, frame.payload)
        await send(frame)
    endpoint._safe_send = safe_send


def no_payload_validation(endpoint):
    """Processes schema-invalid CALLs instead of refusing them with a CALLERROR."""
    endpoint.strict = False


def with_passwords(passwords):
    """A CSMS factory whose Basic-auth passwords are `passwords` whatever the run asks for
    (None: it asks for no credentials at all)."""
    return lambda hub, listen, **kw: FakeCsms(hub, listen, **{**kw, "passwords": passwords})


class ImposesItsSubprotocol(FakeCsms):
    """Answers every opening handshake with its newest subprotocol, offered or not."""

    @staticmethod
    def _select_subprotocol(connection, offered):
        return SUPPORTED[0]


class CallsWithoutWaiting(FakeCsms):
    """Sends each prompted request without waiting for the answer to the previous one."""

    async def call(self, charge_point_id, action, payload, *, timeout=None):
        frame = codec.call(new_unique_id(), action, payload)
        await self.stations[charge_point_id].send_frame(frame)
        return frame  # its type is CALL, never CALLERROR: the simulator goes on at once

