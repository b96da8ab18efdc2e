"""OCPP 1.6 cases for a Central System (TC_xxx_CSMS): the engine plays the Charge Point.

Most cases start "booted" (the engine connects, BootNotification is Accepted and the
connectors are reported Available). Steps marked as operator prompts ask the tester to
make the Central System send a request (in --auto mode the simulated CSMS sends it).
"""

from __future__ import annotations

from inspector.conformance.model import (NOW, Case, Connect, Disconnect, Expect, IntV, Now, Prompt,
                                         Send, V, answer, contains, eq, eq_or_absent, gt, one_of, present,
                                         is_datetime, is_int, nonempty_str, satisfies,
                                         tag_check)
from inspector.conformance.payloads import boot16, meter16, status16

VERSION = "1.6"
CONNECTOR = IntV("connector")


def case(case_id: str, title: str, group: str, steps: list, **kw) -> Case:
    return Case(case_id, title, VERSION, "csms", group, steps, **kw)


def status(value: str, connector=CONNECTOR) -> Send:
    return Send("StatusNotification", status16(value, connector),
                title=f"send StatusNotification {value} (connector {connector})")


def authorize(tag=V("valid_tag"), expected: str = "Accepted") -> Send:
    return Send("Authorize", {"idTag": tag}, checks=[tag_check(eq("idTagInfo.status", expected), tag)],
                title=f"send Authorize ({tag}); the Central System answers {expected}")


def start_transaction(tag=V("valid_tag"), **extra) -> Send:
    return Send("StartTransaction",
                {"connectorId": CONNECTOR, "idTag": tag, "meterStart": 0, "timestamp": NOW, **extra},
                checks=[tag_check(eq("idTagInfo.status", "Accepted"), tag), is_int("transactionId")],
                save={"tx": "transactionId"},
                title="send StartTransaction; the Central System accepts it and assigns a "
                      "transactionId")


def stop_transaction(reason: str = "Local", tag=V("valid_tag")) -> Send:
    return Send("StopTransaction",
                {"transactionId": V("tx"), "meterStop": 1500, "timestamp": NOW, "reason": reason,
                 "idTag": tag, "transactionData": meter16(1500)},
                checks=[eq_or_absent("idTagInfo.status", "Accepted")],
                title=f"send StopTransaction (reason {reason})")


def ask_csms(text: str, action: str, payload: dict) -> Prompt:
    return Prompt(text, action="csms_call", args={"action": action, "payload": payload})


def _version_above_zero(value) -> bool:
    # 0 means "no list" and -1 "not supported" (1.6 §5.10): an installed list is 1 or more
    return type(value) is int and value >= 1


def _every_entry_has_a_status(entries) -> bool:
    return isinstance(entries, list) and all(
        isinstance(e, dict) and isinstance(e.get("idTagInfo"), dict) for e in entries)


def send_local_list(update: str, version: int, entries: list) -> list:
    """The Central System sends a Local Authorization List update and the Charge Point
    accepts it: a version of 1 or more, the update type asked for."""
    checks = [eq("updateType", update),
              satisfies("listVersion", "is 1 or more (0 is no list, -1 not supported)",
                        _version_above_zero)]
    if update == "Full":  # a full list names every card's status (1.6 §5.15)
        checks.append(satisfies("localAuthorizationList", "gives every card an idTagInfo",
                                lambda v: v is None or _every_entry_has_a_status(v)))
    return [ask_csms(f"Make the Central System send a {update.lower()} Local Authorization "
                     "List to this Charge Point (SendLocalList)", "SendLocalList",
                     {"listVersion": version, "updateType": update,
                      "localAuthorizationList": entries}),
            Expect("SendLocalList", checks=checks, reply=answer(status="Accepted"))]


def local_list_request(action: str, payload: dict, reply: dict, text: str) -> list:
    """The Central System sends `action`, the Charge Point answers `reply`, and the Central
    System goes on (it answers a Heartbeat)."""
    return [ask_csms(f"Make the Central System send {action} to this Charge Point", action, payload),
            Expect(action, reply=answer(**reply), title=f"{action}; answer {text}"),
            Send("Heartbeat", {}, checks=[is_datetime("currentTime")],
                 title="send Heartbeat: the Central System goes on")]


FIRMWARE_URL = "http://127.0.0.1:1/fw-octt-2.0.bin"  # what the simulated CSMS sends; never fetched


def firmware_update(*statuses: str) -> list:
    """The Central System sends UpdateFirmware; the Charge Point answers and reports the
    given FirmwareStatusNotifications, which the Central System must take."""
    return [ask_csms("Make the Central System send UpdateFirmware to this Charge Point",
                     "UpdateFirmware", {"location": FIRMWARE_URL, "retrieveDate": NOW, "retries": 1}),
            Expect("UpdateFirmware", checks=[nonempty_str("location"), is_datetime("retrieveDate")],
                   reply=answer()),
            *(Send("FirmwareStatusNotification", {"status": value},
                   title=f"send FirmwareStatusNotification {value}") for value in statuses)]


def get_diagnostics(*statuses: str) -> list:
    """The Central System sends GetDiagnostics with a location; the Charge Point answers with
    a file name and reports `statuses`, which the Central System must take."""
    return [ask_csms("Make the Central System ask this Charge Point for its diagnostics "
                     "(GetDiagnostics)", "GetDiagnostics", {"location": "ftp://127.0.0.1:1/diagnostics/"}),
            Expect("GetDiagnostics", checks=[nonempty_str("location")],
                   reply=answer(fileName="octt-diagnostics.log")),
            *(Send("DiagnosticsStatusNotification", {"status": value},
                   title=f"send DiagnosticsStatusNotification {value}") for value in statuses)]


FIRMWARE = {"needs": ("feature:FirmwareManagement",),
            "preconditions": "The Central System supports the FirmwareManagement feature profile."}
LOCAL_LIST = {"needs": ("feature:LocalAuthListManagement",),
              "preconditions": "The Central System supports the LocalAuthListManagement feature "
                               "profile."}


def offline_and_back() -> list:
    return [Disconnect(title="the Charge Point goes offline: close the connection"),
            Connect(title="the connection comes back (no reboot: no BootNotification)")]


def queued_start(tag, expected: str) -> Send:
    """The StartTransaction queued offline, timestamped 2 minutes ago; the Central System
    answers `expected` for its card, with a transactionId."""
    return Send("StartTransaction",
                {"connectorId": CONNECTOR, "idTag": tag, "meterStart": 0, "timestamp": Now(-120)},
                checks=[tag_check(eq("idTagInfo.status", expected), tag), is_int("transactionId")],
                save={"tx": "transactionId"},
                title=f"send the queued StartTransaction, timestamped 2 minutes ago; {expected}, "
                      "with a transactionId")


def queued_stop() -> Send:
    """The StopTransaction of <tx> queued offline, timestamped 30 s ago; taken."""
    return Send("StopTransaction",
                {"transactionId": V("tx"), "meterStop": 1500, "timestamp": Now(-30),
                 "reason": "Local", "idTag": V("valid_tag")},
                checks=[eq_or_absent("idTagInfo.status", "Accepted")],
                title="send the queued StopTransaction, timestamped 30 s ago")


def finish() -> list:
    return [status("Finishing"), status("Available")]


def _reset(kind: str) -> Case:
    return case(f"TC_0{13 if kind == 'Hard' else 14}_CSMS", f"{kind} Reset", "Core/Provisioning", [
        ask_csms(f"Make the Central System send a {kind} Reset to this Charge Point", "Reset",
                 {"type": kind}),
        Expect("Reset", checks=[eq("type", kind)], reply=answer(status="Accepted")),
        Disconnect(title="the Charge Point reboots: close the connection"),
        Connect(title="reconnect after the reboot"),
        Send("BootNotification", boot16(), checks=[eq("status", "Accepted")]),
        status("Available", 0),
        status("Available"),
    ])


def _authorize_refused(case_id: str, title: str, tag: str, expected: str) -> Case:
    return case(case_id, title, "Core/Auth", [
        status("Preparing"),
        authorize(V(tag), expected),
        status("Available"),
    ], preconditions=f"The Central System knows the idTag <{tag}> as {expected}.",
        needs=("tag:" + tag.removesuffix("_tag"),),
        auto_csms={"Authorize": {"idTagInfo": {"status": expected}}})


# ---- Smart Charging ---------------------------------------------------------------------------
SMART = {"needs": ("feature:SmartCharging",),
         "preconditions": "The Central System implements the Smart Charging feature profile."}


def tx_default_profile(profile_id: int = 56, amps: float = 10.0) -> dict:
    """What the simulated Central System sends when asked for a TxDefaultProfile."""
    return {"connectorId": CONNECTOR, "csChargingProfiles": {
        "chargingProfileId": profile_id, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"startSchedule": NOW, "chargingRateUnit": "A",
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": amps}]}}}


def expect_profile(purpose: str, *checks, **kw) -> Expect:
    """SetChargingProfile of `purpose` from the Central System, with a schedule; Accepted."""
    return Expect("SetChargingProfile",
                  checks=[eq("csChargingProfiles.chargingProfilePurpose", purpose),
                          present("csChargingProfiles.chargingSchedule.chargingSchedulePeriod"),
                          *checks],
                  reply=answer(status="Accepted"), **kw)


CASES = [
    case("TC_001_CSMS", "Cold Boot Charging Station", "Core/Provisioning", [
        Connect(),
        Send("BootNotification", boot16(),
             checks=[eq("status", "Accepted"), gt("interval", 0), is_datetime("currentTime")]),
        status("Available", 0),
        status("Available"),
        Send("Heartbeat", {}, checks=[is_datetime("currentTime")]),
    ], before="none", preconditions="The Central System accepts this Charge Point's id.",
        description="BootNotification is Accepted with a heartbeat interval and the current time; "
                    "StatusNotification and Heartbeat are answered."),

    case("TC_003_CSMS", "Regular Charging Session - Plugin First", "Core/Transactions", [
        status("Preparing"),
        authorize(),
        start_transaction(),
        status("Charging"),
        Send("MeterValues", {"connectorId": CONNECTOR, "transactionId": V("tx"),
                             "meterValue": meter16(750)},
             title="send MeterValues during the transaction"),
        stop_transaction("Local"),
        *finish(),
    ], preconditions="The Central System knows <valid_tag> as valid.", needs=("tag:valid",)),

    case("TC_004_1_CSMS", "Regular Charging Session - Identification First", "Core/Transactions", [
        authorize(),
        status("Preparing"),
        start_transaction(),
        status("Charging"),
        stop_transaction("Local"),
        *finish(),
    ], preconditions="The Central System knows <valid_tag> as valid.", needs=("tag:valid",)),

    _authorize_refused("TC_023_1_CSMS", "Start Charging Session - Authorize invalid", "invalid_tag",
                       "Invalid"),
    _authorize_refused("TC_023_2_CSMS", "Start Charging Session - Authorize expired", "expired_tag",
                       "Expired"),
    _authorize_refused("TC_023_3_CSMS", "Start Charging Session - Authorize blocked", "blocked_tag",
                       "Blocked"),

    case("TC_037_1_CSMS", "Offline Start Transaction - Valid IdTag", "Core/Transactions", [
        *offline_and_back(),
        queued_start(V("valid_tag"), "Accepted"),
        queued_stop(),
        status("Available"),
    ], needs=("tag:valid",),
        preconditions="The CSMS knows <valid_tag> as valid.",
        description="A transaction that ran while the Charge Point was offline is delivered "
                    "after the reconnection, with its past timestamps, and accepted."),

    case("TC_039_CSMS", "Offline Transaction", "Core/Transactions", [
        *offline_and_back(),
        queued_start(V("valid_tag"), "Accepted"),
        Send("MeterValues", {"connectorId": CONNECTOR, "transactionId": V("tx"),
                             "meterValue": [{"timestamp": Now(-90), "sampledValue": [
                                 {"value": "750", "measurand": "Energy.Active.Import.Register",
                                  "unit": "Wh", "context": "Sample.Periodic"}]}]},
             title="send the queued MeterValues of that transaction, timestamped 90 s ago"),
        queued_stop(),
        status("Available"),
    ], needs=("tag:valid",), preconditions="The CSMS knows <valid_tag> as valid.",
        description="A whole transaction made offline (start, meter values, stop) is delivered "
                    "after the reconnection, with its past timestamps, and taken."),

    case("TC_037_3_CSMS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId=true",
         "Core/Transactions", [
        *offline_and_back(),
        queued_start(V("invalid_tag"), "Invalid"),
        Send("StopTransaction",
             {"transactionId": V("tx"), "meterStop": 300, "timestamp": NOW,
              "reason": "DeAuthorized", "idTag": V("invalid_tag")},
             title="send StopTransaction (reason DeAuthorized): the Charge Point stopped it"),
        status("Finishing"),
        status("Available"),
    ], needs=("tag:invalid",), preconditions="The CSMS knows <invalid_tag> as invalid.",
        auto_csms={"StartTransaction": {"idTagInfo": {"status": "Invalid"}}},
        description="A transaction started offline with a card the CSMS does not accept: the "
                    "CSMS says Invalid in its answer, and takes the DeAuthorized stop."),

    case("TC_010_CSMS", "Remote Start Charging Session - Cable Plugged in First", "Core/Remote", [
        status("Preparing"),
        ask_csms("Make the Central System start a transaction remotely on connector {connector} "
                 "(RemoteStartTransaction, idTag {valid_tag})", "RemoteStartTransaction",
                 {"connectorId": CONNECTOR, "idTag": V("valid_tag")}),
        Expect("RemoteStartTransaction", checks=[nonempty_str("idTag"), eq_or_absent("connectorId", CONNECTOR)],
               save={"remote_tag": "idTag"}, reply=answer(status="Accepted")),
        start_transaction(V("remote_tag")),
        status("Charging"),
        stop_transaction("Local", V("remote_tag")),
        *finish(),
    ], needs=("tag:valid",)),

    case("TC_012_CSMS", "Remote Stop Charging Session", "Core/Remote", [
        authorize(),
        status("Preparing"),
        start_transaction(),
        status("Charging"),
        ask_csms("Make the Central System stop transaction {tx} remotely (RemoteStopTransaction)",
                 "RemoteStopTransaction", {"transactionId": V("tx")}),
        Expect("RemoteStopTransaction", checks=[eq("transactionId", V("tx"))],
               reply=answer(status="Accepted")),
        stop_transaction("Remote"),
        *finish(),
    ], needs=("tag:valid",)),

    _reset("Hard"),
    _reset("Soft"),

    case("TC_019_1_CSMS", "Retrieve All Configuration Keys", "Core/Provisioning", [
        ask_csms("Make the Central System request all configuration keys (GetConfiguration "
                 "without keys)", "GetConfiguration", {}),
        Expect("GetConfiguration",
               checks=[satisfies("key", "is absent or empty", lambda v: not isinstance(v, list) or not v)],
               reply=answer(configurationKey=[
                   {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
                   {"key": "NumberOfConnectors", "readonly": True, "value": "1"}])),
    ]),

    case("TC_019_2_CSMS", "Retrieve Specific Configuration Key", "Core/Provisioning", [
        ask_csms("Make the Central System request the configuration key HeartbeatInterval",
                 "GetConfiguration", {"key": ["HeartbeatInterval"]}),
        Expect("GetConfiguration", checks=[contains("key[*]", "HeartbeatInterval")],
               reply=answer(configurationKey=[
                   {"key": "HeartbeatInterval", "readonly": False, "value": "300"}])),
    ]),

    case("TC_021_CSMS", "Change/set Configuration", "Core/Provisioning", [
        ask_csms("Make the Central System change HeartbeatInterval to 60 (ChangeConfiguration)",
                 "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}),
        Expect("ChangeConfiguration", checks=[eq("key", "HeartbeatInterval"), eq("value", "60")],
               reply=answer(status="Accepted")),
    ]),

    case("TC_054_CSMS", "Trigger Message", "RemoteTrigger", [
        ask_csms("Make the Central System send TriggerMessage for a Heartbeat", "TriggerMessage",
                 {"requestedMessage": "Heartbeat"}),
        Expect("TriggerMessage", checks=[eq("requestedMessage", "Heartbeat")],
               reply=answer(status="Accepted")),
        Send("Heartbeat", {}, checks=[is_datetime("currentTime")],
             title="send the triggered Heartbeat"),
    ]),

    case("TC_017_1_CSMS", "Unlock connector - no charging session", "Core/Remote", [
        ask_csms("Make the Central System unlock connector {connector} (UnlockConnector)",
                 "UnlockConnector", {"connectorId": CONNECTOR}),
        Expect("UnlockConnector", checks=[eq("connectorId", CONNECTOR)],
               reply=answer(status="Unlocked")),
    ]),

    case("TC_046_CSMS", "Reservation of a Connector - Local start transaction", "Reservation", [
        ask_csms("Make the Central System reserve connector {connector} for {valid_tag} (ReserveNow)",
                 "ReserveNow", {"connectorId": CONNECTOR, "expiryDate": Now(3600),
                                "idTag": V("valid_tag"), "reservationId": 46}),
        Expect("ReserveNow", checks=[is_int("reservationId"), is_datetime("expiryDate"),
                                     eq("connectorId", CONNECTOR), eq("idTag", V("valid_tag"))],
               save={"reservation": "reservationId", "reserved_tag": "idTag"},
               reply=answer(status="Accepted")),
        status("Reserved"),
        authorize(V("reserved_tag")),
        status("Preparing"),
        start_transaction(V("reserved_tag"), reservationId=V("reservation")),
        status("Charging"),
        stop_transaction("Local", V("reserved_tag")),
        *finish(),
    ], preconditions="The Central System supports the Reservation feature profile.",
        needs=("feature:Reservation", "tag:valid")),

    case("TC_042_1_CSMS", "Get Local List Version (not supported)", "LocalAuthList", [
        *local_list_request("GetLocalListVersion", {}, {"listVersion": -1},
                            "-1 (no Local Authorization List)"),
    ], **LOCAL_LIST),

    case("TC_042_2_CSMS", "Get Local List Version (empty)", "LocalAuthList", [
        *local_list_request("GetLocalListVersion", {}, {"listVersion": 0}, "0 (an empty list)"),
    ], **LOCAL_LIST),

    case("TC_043_1_CSMS", "Send Local Authorization List - NotSupported", "LocalAuthList", [
        *local_list_request("SendLocalList", {"listVersion": 1, "updateType": "Full",
                                              "localAuthorizationList": []},
                            {"status": "NotSupported"}, "NotSupported"),
    ], **LOCAL_LIST),

    case("TC_043_3_CSMS", "Send Local Authorization List - Failed", "LocalAuthList", [
        *local_list_request("SendLocalList", {"listVersion": 1, "updateType": "Full",
                                              "localAuthorizationList": []},
                            {"status": "Failed"}, "Failed"),
    ], **LOCAL_LIST),

    case("TC_043_4_CSMS", "Send Local Authorization List - Full", "LocalAuthList", [
        *send_local_list("Full", 1, [{"idTag": "OCTT-CARD-1", "idTagInfo": {"status": "Accepted"}}]),
    ], **LOCAL_LIST, description="A full Local Authorization List carries a version of 1 or "
                                 "more and a status for every card."),

    case("TC_043_5_CSMS", "Send Local Authorization List - Differential", "LocalAuthList", [
        *send_local_list("Differential", 2, [{"idTag": "OCTT-CARD-2",
                                              "idTagInfo": {"status": "Blocked"}}]),
    ], **LOCAL_LIST, description="A differential update carries a version of 1 or more."),

    case("TC_061_CSMS", "Clear Authorization Cache", "Core/Auth", [
        ask_csms("Make the Central System clear this Charge Point's authorization cache "
                 "(ClearCache)", "ClearCache", {}),
        Expect("ClearCache", reply=answer(status="Accepted")),
    ], description="The Central System can clear a Charge Point's authorization cache."),

    case("TC_044_1_CSMS", "Firmware Update - Download and Install", "FirmwareMgmt", [
        *firmware_update("Downloading", "Downloaded", "Installing"),
        Disconnect(title="the Charge Point reboots to install: close the connection"),
        Connect(title="reconnect after the reboot"),
        Send("BootNotification", boot16(), checks=[eq("status", "Accepted")]),
        status("Available"),
        Send("FirmwareStatusNotification", {"status": "Installed"},
             title="send FirmwareStatusNotification Installed"),
    ], **FIRMWARE, description="UpdateFirmware names where the image is and when to fetch it; "
                               "the Central System takes every status of the update, and the "
                               "boot after the reboot."),

    case("TC_044_2_CSMS", "Firmware Update - Download Failed", "FirmwareMgmt", [
        *firmware_update("Downloading", "DownloadFailed"),
    ], **FIRMWARE, description="The Central System takes a DownloadFailed report."),

    case("TC_044_3_CSMS", "Firmware Update - Installation Failed", "FirmwareMgmt", [
        *firmware_update("Downloading", "Downloaded", "Installing", "InstallationFailed"),
    ], **FIRMWARE, description="The Central System takes an InstallationFailed report."),

    case("TC_045_2_CSMS", "Get Diagnostics - Upload Failed", "FirmwareMgmt", [
        *get_diagnostics("Uploading", "UploadFailed"),
    ], **FIRMWARE, description="The Central System takes an UploadFailed report."),

    case("TC_045_1_CSMS", "Get Diagnostics", "FirmwareMgmt", [
        *get_diagnostics("Uploading", "Uploaded"),
    ], **FIRMWARE, description="GetDiagnostics names an upload location; the Central System "
                               "takes the upload's statuses."),

    case("TC_064_CSMS", "Data Transfer to a Central System", "Core", [
        Send("DataTransfer", {"vendorId": V("vendor_id"), "messageId": "Test", "data": "ping"},
             checks=[eq("status", "UnknownVendorId")],
             title="DataTransfer with a vendor id the Central System does not know: "
                   "UnknownVendorId"),
    ], description="A Central System answers a DataTransfer from a vendor it does not know "
                   "with UnknownVendorId (as TC_P_02_CSMS checks in 2.0.1)."),

    case("TC_056_CSMS", "Central Smart Charging - TxDefaultProfile", "SmartCharging", [
        ask_csms("Make the Central System set a TxDefaultProfile on connector {connector} "
                 "(SetChargingProfile)", "SetChargingProfile", tx_default_profile()),
        expect_profile("TxDefaultProfile", one_of("connectorId", [0, CONNECTOR]),
                       title="SetChargingProfile TxDefaultProfile for connector 0 or {connector}; "
                             "answer Accepted"),
    ], **SMART, description="The Central System installs a default profile for future "
                            "transactions."),

    case("TC_057_CSMS", "Central Smart Charging - TxProfile", "SmartCharging", [
        authorize(),
        status("Preparing"),
        start_transaction(),
        status("Charging"),
        ask_csms("Make the Central System limit transaction {tx} with a TxProfile "
                 "(SetChargingProfile)", "SetChargingProfile",
                 {"connectorId": CONNECTOR, "csChargingProfiles": {
                     "chargingProfileId": 57, "transactionId": V("tx"), "stackLevel": 0,
                     "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Relative",
                     "chargingSchedule": {"chargingRateUnit": "A",
                                          "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.0}]}}}),
        expect_profile("TxProfile", eq("connectorId", CONNECTOR),
                       eq("csChargingProfiles.transactionId", V("tx")),
                       title="SetChargingProfile TxProfile for transaction {tx} on connector "
                             "{connector}; answer Accepted"),
        stop_transaction(),
        *finish(),
    ], needs=("tag:valid", "feature:SmartCharging"), preconditions=SMART["preconditions"],
        description="A TxProfile names the running transaction and its connector."),

    case("TC_066_CSMS", "Get Composite Schedule", "SmartCharging", [
        ask_csms("Make the Central System ask for the composite schedule of connector "
                 "{connector} (GetCompositeSchedule)", "GetCompositeSchedule",
                 {"connectorId": CONNECTOR, "duration": 3600}),
        Expect("GetCompositeSchedule", checks=[eq("connectorId", CONNECTOR), gt("duration", 0)],
               reply=answer(status="Accepted", connectorId=CONNECTOR, scheduleStart=NOW,
                            chargingSchedule={"duration": 3600, "chargingRateUnit": "A",
                                              "chargingSchedulePeriod": [{"startPeriod": 0,
                                                                          "limit": 16.0}]}),
               title="GetCompositeSchedule for connector {connector} with a duration; answer "
                     "a 16 A schedule"),
    ], **SMART),

    case("TC_067_CSMS", "Clear Charging Profile", "SmartCharging", [
        ask_csms("Make the Central System set a TxDefaultProfile on connector {connector}",
                 "SetChargingProfile", tx_default_profile(67)),
        expect_profile("TxDefaultProfile", save={"profile_id": "csChargingProfiles.chargingProfileId"}),
        ask_csms("Make the Central System clear that profile (ClearChargingProfile, id "
                 "{profile_id})", "ClearChargingProfile", {"id": V("profile_id")}),
        Expect("ClearChargingProfile", checks=[eq("id", V("profile_id"))],
               reply=answer(status="Accepted"),
               title="ClearChargingProfile with the id of the profile it installed; answer Accepted"),
    ], **SMART, description="The Central System clears a profile it installed by its id."),
]
