"""OCPP 2.0.1 cases for a CSMS (TC_X_NN_CSMS): the engine plays the Charging Station.

Most cases start "booted". Prompts ask the tester to make the CSMS send a request (in
--auto mode the simulated CSMS sends it). Transaction ids are generated per case.
"""

from __future__ import annotations

import uuid

from inspector.conformance.model import (Case, Connect, Disconnect, Expect, Handshake, IntV, NOW, Now, Prompt, Send, absent, ne,
                                         V, Wait, Calc, answer, eq, eq_or_absent, gt, is_datetime, is_int,
                                         length, nonempty_str, one_of, setup_check, tag_check)
from inspector.conformance.payloads import (boot201, evse, id_token, meter201, status201,
                                            transaction_event)

VERSION = "2.0.1"
EVSE = IntV("evse")


def case(case_id: str, title: str, group: str, steps: list, **kw) -> Case:
    kw.setdefault("vars", {"tx": lambda: "TX-" + uuid.uuid4().hex[:12]})
    return Case(case_id, title, VERSION, "csms", group, steps, **kw)


def status(value: str) -> Send:
    return Send("StatusNotification", status201(value, EVSE),
                title=f"send StatusNotification {value} (EVSE <evse>)")


def authorize(tag=V("valid_tag"), expected="Accepted") -> Send:
    check = tag_check(one_of("idTokenInfo.status", expected) if isinstance(expected, list)
                       else eq("idTokenInfo.status", expected), tag)
    shown = " or ".join(expected) if isinstance(expected, list) else expected
    return Send("Authorize", {"idToken": id_token(tag)}, checks=[check],
                title=f"send Authorize ({tag}); the CSMS answers {shown}")


def event(event_type: str, trigger: str, seq_no: int, *, token_accepted: bool = False, **fields) -> Send:
    checks = ([tag_check(eq("idTokenInfo.status", "Accepted"), V("valid_tag"))]
              if token_accepted else [])
    what = f"TransactionEvent {event_type} ({trigger}, seqNo {seq_no})"
    return Send("TransactionEvent", transaction_event(event_type, trigger, seq_no, **fields),
                checks=checks, title=f"send {what}" + ("; idTokenInfo Accepted" if token_accepted else ""))


def ask_csms(text: str, action: str, payload: dict) -> Prompt:
    return Prompt(text, action="csms_call", args={"action": action, "payload": payload})


def started_with_token(seq_no: int = 0) -> Send:
    return event("Started", "Authorized", seq_no, charging_state="EVConnected",
                 idToken=id_token(), evse=evse(), token_accepted=True)


def started_with_token_for(tx) -> Send:
    """TransactionEvent Started (seqNo 0) of another transaction than <tx>."""
    send = event("Started", "Authorized", 0, charging_state="EVConnected", idToken=id_token(),
                 evse=evse(), token_accepted=True, tx=tx)
    send.title = "send TransactionEvent Started of a second transaction, seqNo 0 again"
    return send


def _refused(case_id: str, title: str, tag: str, expected: list) -> Case:
    return case(case_id, title, "C Authorization", [
        authorize(V(tag), expected),
    ], preconditions=f"The CSMS knows the idToken <{tag}> as {expected[0]}.",
        needs=("tag:" + tag.removesuffix("_tag"),),
        auto_csms={"Authorize": {"idTokenInfo": {"status": expected[0]}}})


SIGNATURE = "c2lnbmF0dXJlIG9mIHRoZSB0ZXN0IGltYWdl"  # what the simulated CSMS sends (base64)
CERTIFICATE = "-----BEGIN CERTIFICATE-----\nTUlJQ0lqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FnOEFNSUlD\n-----END CERTIFICATE-----"


def firmware_update(*statuses: str, secure: bool = True, install_in: float | None = None,
                    retrieve_in: float = -60, answer_status: str = "Accepted",
                    request_id: int = 2001, again: bool = False) -> list:
    """The CSMS sends UpdateFirmware; the station answers `answer_status` and reports
    `statuses` with the update's requestId, which the CSMS must take. `again`: a second
    update while the first runs, whose requestId must be a new one."""
    firmware = {"location": "https://127.0.0.1:1/fw-octt-2.0.bin",
                "retrieveDateTime": Now(retrieve_in)}
    checks = [is_int("requestId"), nonempty_str("firmware.location"),
              is_datetime("firmware.retrieveDateTime")]
    if again:
        checks.append(ne("requestId", V("request")))
    if install_in is not None:  # the install waits for installDateTime (InstallScheduled)
        firmware["installDateTime"] = Now(install_in)
        checks.append(is_datetime("firmware.installDateTime"))
    if secure:  # a secure update (L01) comes with the image's signature and certificate
        firmware.update(signature=SIGNATURE, signingCertificate=CERTIFICATE)
        checks += [nonempty_str("firmware.signature"), nonempty_str("firmware.signingCertificate")]
    what = "another UpdateFirmware while the first runs" if again else "UpdateFirmware"
    return [ask_csms(f"Make the CSMS send {what} to this Charging Station", "UpdateFirmware",
                     {"requestId": request_id, "retries": 1, "firmware": firmware}),
            Expect("UpdateFirmware", checks=checks, save={"request": "requestId"},
                   reply=answer(status=answer_status)),
            *(firmware_status(value) for value in statuses)]


def installed_after_reboot() -> list:
    """The station reboots to install: a new connection, its boot (reason FirmwareUpdate),
    its status, then Installed."""
    return [Disconnect(title="the Charging Station reboots to install: close the connection"),
            Connect(title="reconnect after the reboot"),
            Send("BootNotification", boot201("FirmwareUpdate"), checks=[eq("status", "Accepted")],
                 title="send BootNotification (reason FirmwareUpdate)"),
            status("Available"),
            firmware_status("Installed")]


def security_event(kind: str) -> Send:
    return Send("SecurityEventNotification", {"type": kind, "timestamp": NOW},
                title=f"send SecurityEventNotification {kind}")


def firmware_status(value: str) -> Send:
    return Send("FirmwareStatusNotification", {"status": value, "requestId": V("request")},
                title=f"send FirmwareStatusNotification {value} (requestId <request>)")


def log_status(value: str) -> Send:
    return Send("LogStatusNotification", {"status": value, "requestId": V("request")},
                title=f"send LogStatusNotification {value} (requestId <request>)")


def get_log(log_type: str, request_id: int, answer_status: str = "Accepted", *,
            again: bool = False) -> list:
    """The CSMS sends GetLog for `log_type` with an upload location and a requestId (with
    `again`, a second one while the first runs, with a new requestId); the station answers
    `answer_status`."""
    checks = [eq("logType", log_type), is_int("requestId"), nonempty_str("log.remoteLocation")]
    if again:
        checks.append(ne("requestId", V("request")))
    what = f"another GetLog ({log_type}) while the first runs" if again else f"GetLog ({log_type})"
    return [ask_csms(f"Make the CSMS send {what} to this Charging Station", "GetLog",
                     {"logType": log_type, "requestId": request_id,
                      "log": {"remoteLocation": "https://127.0.0.1:1/logs/"}}),
            Expect("GetLog", checks=checks, save={"request": "requestId"},
                   reply=answer(status=answer_status, filename="octt-" + log_type.lower() + ".log"))]


LOGS = {"needs": ("feature:Diagnostics",),
        "preconditions": "The CSMS supports the Diagnostics functional block."}


def retrieve_log(case_id: str, title: str, log_type: str, request_id: int) -> Case:
    """GetLog for `log_type`; the CSMS takes the upload's statuses."""
    return case(case_id, title, "N Diagnostics", [
        *get_log(log_type, request_id),
        log_status("Uploading"),
        log_status("Uploaded"),
    ], **LOGS, description=f"GetLog asks for the {log_type} with an upload location and a "
                           "requestId; the CSMS takes the upload's statuses.")


def transaction_status(queued: bool, *, named: bool = True, ongoing: bool = True) -> list:
    """The CSMS asks GetTransactionStatus (for <tx> when `named`); the station answers
    whether messages are queued (and, named, whether the transaction goes on)."""
    if named:
        ask = ask_csms("Make the CSMS ask this Charging Station for the status of transaction "
                       "<tx> (GetTransactionStatus)", "GetTransactionStatus", {"transactionId": V("tx")})
        checks, reply = [eq("transactionId", V("tx"))], answer(messagesInQueue=queued,
                                                              ongoingIndicator=ongoing)
    else:
        ask = ask_csms("Make the CSMS ask this Charging Station whether it has queued "
                       "transaction messages (GetTransactionStatus without a transactionId)",
                       "GetTransactionStatus", {})
        checks, reply = [absent("transactionId")], answer(messagesInQueue=queued)
    return [ask, Expect("GetTransactionStatus", checks=checks, reply=reply)]


def customer_information(case_id: str, title: str, *, report: bool, clear: bool,
                         data: str | None = None, answer_status: str = "Accepted",
                         by_token: bool = False) -> Case:
    """The CSMS asks for (report) and / or removes (clear) what the station keeps about a
    customer; the station answers `answer_status` and, when reporting, sends what it has
    (`data`, empty for none) in NotifyCustomerInformation, which the CSMS must take. The
    customer is named by customerIdentifier, or with `by_token` by an idToken."""
    who = {"idToken": id_token()} if by_token else {"customerIdentifier": "OCTT-CUSTOMER-1"}
    named = nonempty_str("idToken.idToken") if by_token else nonempty_str("customerIdentifier")
    steps = [ask_csms(f"Make the CSMS send CustomerInformation (report {str(report).lower()}, "
                      f"clear {str(clear).lower()}) for "
                      + ("the customer of card {valid_tag}" if by_token else "customer OCTT-CUSTOMER-1"),
                      "CustomerInformation", {"requestId": 2700, "report": report, "clear": clear,
                                              **who}),
             Expect("CustomerInformation",
                    checks=[eq("report", report), eq("clear", clear), is_int("requestId"), named],
                    save={"request": "requestId"}, reply=answer(status=answer_status))]
    if report and answer_status == "Accepted":
        steps.append(Send("NotifyCustomerInformation",
                          {"data": data or "", "tbc": False, "seqNo": 0, "generatedAt": NOW,
                           "requestId": V("request")},
                          title="send NotifyCustomerInformation "
                                + ("with the customer's data" if data else "without data")))
    else:
        steps.append(Send("Heartbeat", {}, checks=[is_datetime("currentTime")],
                          title="send Heartbeat: the CSMS goes on"))
    return case(case_id, title, "N Diagnostics", steps, needs=("feature:Diagnostics",),
                preconditions="The CSMS supports customer information (block N).")


FIRMWARE = {"needs": ("feature:FirmwareManagement",),
            "preconditions": "The CSMS supports the FirmwareManagement functional block."}


def _boot_on_kept_connection() -> Send:
    return Send("BootNotification", boot201(), checks=[eq("status", "Accepted")],
                title="BootNotification on that connection is Accepted")


CASES = [
    case("TC_A_01_CSMS", "Basic Authentication - Valid username/password combination",
         "A Security", [
             Handshake(credentials="run", expect="accepted", keep=True,
                       title="upgrade with Authorization: Basic <station id>:<password> and "
                             "ocpp2.0.1: accepted"),
             _boot_on_kept_connection(),
         ], before="none", needs=("security:basic_auth",),
        preconditions="The CSMS knows this station with the run's --password (security "
                      "profile 1 or 2).",
        description="HTTP Basic authentication with the station identity as user name and "
                    "the configured password is accepted."),

    case("TC_A_03_CSMS", "Basic Authentication - Invalid username/password combination",
         "A Security", [
             Handshake(credentials="wrong", expect="refused_401",
                       title="upgrade with a wrong password: HTTP 401"),
             Handshake(credentials="none", expect="refused_401",
                       title="upgrade without an Authorization header: HTTP 401"),
             Handshake(credentials="run", expect="accepted", keep=True,
                       title="upgrade with the right password: accepted"),
             _boot_on_kept_connection(),
         ], before="none", needs=("security:basic_auth",),
        preconditions="The CSMS knows this station with the run's --password (security "
                      "profile 1 or 2).",
        description="A CSMS refuses a wrong or missing password with HTTP 401 and still "
                    "accepts the right one afterwards."),

    case("TC_B_01_CSMS", "Cold Boot Charging Station - Accepted", "B Provisioning", [
        Connect(),
        Send("BootNotification", boot201(),
             checks=[eq("status", "Accepted"), gt("interval", 0), is_datetime("currentTime")]),
        status("Available"),
        Send("Heartbeat", {}, checks=[is_datetime("currentTime")]),
    ], before="none"),

    case("TC_B_02_CSMS", "Cold Boot Charging Station - Pending", "B Provisioning", [
        Connect(),
        Send("BootNotification", boot201(),
             checks=[setup_check(eq("status", "Pending"), "boot:pending"), gt("interval", 0)],
             save={"interval": "interval"}),
        Wait(seconds=Calc(lambda c: min(float(c.value("interval")), c.step_timeout),
                          "the interval (at most the step timeout)")),
        Send("BootNotification", boot201(), checks=[one_of("status", ["Pending", "Accepted"])],
             title="send BootNotification again after the interval"),
    ], before="none", preconditions="The CSMS is set to answer this station's boot with Pending.",
        needs=("boot:pending",),
        auto_csms={"BootNotification": {"status": "Pending", "interval": 1}}),

    case("TC_B_30_CSMS", "Cold Boot Charging Station - Pending/Rejected - SecurityError",
         "B Provisioning", [
             Connect(),
             Send("BootNotification", boot201(),
                  checks=[setup_check(one_of("status", ["Pending", "Rejected"]),
                                      "boot:pending_or_rejected")]),
             Send("StatusNotification", status201("Available", EVSE), expect_error=["SecurityError"],
                  title="a message other than BootNotification before being Accepted gets "
                        "CALLERROR SecurityError"),
         ], before="none",
        preconditions="The CSMS is set to answer this station's boot with Pending or Rejected.",
        needs=("boot:pending_or_rejected",),
        auto_csms={"BootNotification": {"status": "Rejected", "interval": 5},
                   "StatusNotification": {"$error": ["SecurityError", "station not accepted"]}}),

    case("TC_B_06_CSMS", "Get Variables - single value", "B Provisioning", [
        ask_csms("Make the CSMS request one variable (GetVariables OCPPCommCtrlr.HeartbeatInterval)",
                 "GetVariables", {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                                       "variable": {"name": "HeartbeatInterval"}}]}),
        Expect("GetVariables", checks=[length("getVariableData", 1),
                                       eq("getVariableData[0].component.name", "OCPPCommCtrlr"),
                                       eq("getVariableData[0].variable.name", "HeartbeatInterval")]),
    ]),

    case("TC_B_09_CSMS", "Set Variables - single value", "B Provisioning", [
        ask_csms("Make the CSMS set one variable (SetVariables OCPPCommCtrlr.HeartbeatInterval = 120)",
                 "SetVariables", {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                                       "variable": {"name": "HeartbeatInterval"},
                                                       "attributeValue": "120"}]}),
        Expect("SetVariables", checks=[length("setVariableData", 1),
                                       eq("setVariableData[0].component.name", "OCPPCommCtrlr"),
                                       eq("setVariableData[0].variable.name", "HeartbeatInterval"),
                                       eq("setVariableData[0].attributeValue", "120")]),
    ]),

    case("TC_B_20_CSMS", "Reset Charging Station - Without ongoing transaction - OnIdle",
         "B Provisioning", [
             ask_csms("Make the CSMS reset this station (Reset OnIdle)", "Reset", {"type": "OnIdle"}),
             Expect("Reset", checks=[eq("type", "OnIdle")], reply=answer(status="Accepted")),
             Disconnect(title="the station reboots: close the connection"),
             Connect(title="reconnect after the reboot"),
             Send("BootNotification", boot201("RemoteReset"), checks=[eq("status", "Accepted")]),
             status("Available"),
         ]),

    _refused("TC_C_02_CSMS", "Local start transaction - Authorization Invalid/Unknown", "invalid_tag",
             ["Invalid", "Unknown"]),
    _refused("TC_C_06_CSMS", "Local start transaction - Authorization Blocked", "blocked_tag",
             ["Blocked"]),
    _refused("TC_C_07_CSMS", "Local start transaction - Authorization Expired", "expired_tag",
             ["Expired"]),

    case("TC_E_03_CSMS", "Local start transaction - Cable plugin first", "E Transactions", [
        status("Occupied"),
        event("Started", "CablePluggedIn", 0, charging_state="EVConnected", evse=evse()),
        authorize(),
        event("Updated", "Authorized", 1, idToken=id_token(), token_accepted=True),
        event("Updated", "ChargingStateChanged", 2, charging_state="Charging"),
        event("Updated", "MeterValuePeriodic", 3, meterValue=meter201(500.0)),
        event("Ended", "StopAuthorized", 4, charging_state="EVConnected", stoppedReason="Local",
              meterValue=meter201(900.0, "Transaction.End")),
        status("Available"),
    ], preconditions="The CSMS knows <valid_tag> as valid.", needs=("tag:valid",)),

    case("TC_E_04_CSMS", "Local start transaction - Authorization first", "E Transactions", [
        authorize(),
        started_with_token(),
        status("Occupied"),
        event("Updated", "CablePluggedIn", 1, charging_state="Charging"),
        event("Ended", "StopAuthorized", 2, stoppedReason="Local"),
        status("Available"),
    ], preconditions="The CSMS knows <valid_tag> as valid.", needs=("tag:valid",)),

    case("TC_E_53_CSMS", "Reset Sequence Number", "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local"),
        started_with_token_for(V("tx2")),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local", tx=V("tx2")),
        status("Available"),
    ], needs=("tag:valid",),
        vars={"tx": lambda: "TX-" + uuid.uuid4().hex[:12], "tx2": lambda: "TX-" + uuid.uuid4().hex[:12]},
        preconditions="The CSMS knows <valid_tag> as valid.",
        description="seqNo counts per transaction: a second transaction starts again at 0 and "
                    "the CSMS accepts both."),

    case("TC_E_15_CSMS", "Stop transaction options - StopAuthorized - Local", "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        authorize(),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local", idToken=id_token(),
              token_accepted=True),
        status("Available"),
    ], needs=("tag:valid",)),

    case("TC_E_29_CSMS", "Check Transaction status - id ongoing - with message in queue",
         "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        *transaction_status(True),
        event("Updated", "MeterValuePeriodic", 1, charging_state="Charging", offline=True,
              meterValue=meter201(400.0)),
        event("Ended", "StopAuthorized", 2, stoppedReason="Local"),
        status("Available"),
    ], needs=("tag:valid",), description="The CSMS asks about a transaction that goes on with "
                                         "messages still queued; the queued event follows."),

    case("TC_E_30_CSMS", "Check Transaction status - id ongoing - without message in queue",
         "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        *transaction_status(False),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local"),
        status("Available"),
    ], needs=("tag:valid",)),

    case("TC_E_31_CSMS", "Check Transaction status - id ended - with message in queue",
         "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        *transaction_status(True, ongoing=False),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local", offline=True),
        status("Available"),
    ], needs=("tag:valid",), description="The transaction ended while its Ended event was still "
                                         "queued; the CSMS takes it afterwards."),

    case("TC_E_33_CSMS", "Check Transaction status - without transactionId - with message in queue",
         "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        *transaction_status(True, named=False),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local", offline=True),
        status("Available"),
    ], needs=("tag:valid",)),

    case("TC_E_34_CSMS", "Check Transaction status - without transactionId - without message in queue",
         "E Transactions", [
        *transaction_status(False, named=False),
    ]),

    case("TC_E_21_CSMS", "Stop transaction options - StopAuthorized - Remote", "E Transactions", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        ask_csms("Make the CSMS stop transaction {tx} remotely (RequestStopTransaction)",
                 "RequestStopTransaction", {"transactionId": V("tx")}),
        Expect("RequestStopTransaction", checks=[eq("transactionId", V("tx"))],
               reply=answer(status="Accepted")),
        event("Ended", "RemoteStop", 1, stoppedReason="Remote"),
        status("Available"),
    ], needs=("tag:valid",)),

    case("TC_F_01_CSMS", "Remote start transaction - Cable plugin first", "F RemoteControl", [
        status("Occupied"),
        ask_csms("Make the CSMS start a transaction remotely on EVSE {evse} "
                 "(RequestStartTransaction, idToken {valid_tag})", "RequestStartTransaction",
                 {"idToken": id_token(), "remoteStartId": 1, "evseId": EVSE}),
        Expect("RequestStartTransaction",
               checks=[nonempty_str("idToken.idToken"), is_int("remoteStartId"),
                       eq_or_absent("evseId", EVSE)],
               save={"remote_id": "remoteStartId", "remote_token": "idToken"},
               reply=answer(status="Accepted")),
        event("Started", "RemoteStart", 0, charging_state="EVConnected", remoteStartId=V("remote_id"),
              idToken=V("remote_token"), evse=evse(), token_accepted=True),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local"),
        status("Available"),
    ], needs=("tag:valid",)),

    case("TC_F_06_CSMS", "Remote unlock Connector - Without ongoing transaction - Accepted",
         "F RemoteControl", [
             ask_csms("Make the CSMS unlock connector 1 of EVSE {evse} (UnlockConnector)",
                      "UnlockConnector", {"evseId": EVSE, "connectorId": 1}),
             Expect("UnlockConnector", checks=[eq("evseId", EVSE), is_int("connectorId")],
                    reply=answer(status="Unlocked")),
         ]),

    case("TC_F_20_CSMS", "Trigger message - Heartbeat", "F RemoteControl", [
        ask_csms("Make the CSMS send TriggerMessage for a Heartbeat", "TriggerMessage",
                 {"requestedMessage": "Heartbeat"}),
        Expect("TriggerMessage", checks=[eq("requestedMessage", "Heartbeat")],
               reply=answer(status="Accepted")),
        Send("Heartbeat", {}, checks=[is_datetime("currentTime")], title="send the triggered Heartbeat"),
    ]),

    case("TC_G_03_CSMS", "Change Availability EVSE - Operative to inoperative", "G Availability", [
        ask_csms("Make the CSMS set EVSE {evse} Inoperative (ChangeAvailability)", "ChangeAvailability",
                 {"operationalStatus": "Inoperative", "evse": {"id": EVSE}}),
        Expect("ChangeAvailability", checks=[eq("operationalStatus", "Inoperative"), eq("evse.id", EVSE)],
               reply=answer(status="Accepted")),
        status("Unavailable"),
    ]),

    case("TC_J_09_CSMS", "Sampled Meter Values - EventType Updated", "J MeterValues", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        event("Updated", "MeterValuePeriodic", 1, charging_state="Charging", meterValue=meter201(400.0)),
        event("Updated", "MeterValuePeriodic", 2, meterValue=meter201(800.0)),
        event("Ended", "StopAuthorized", 3, stoppedReason="Local",
              meterValue=meter201(900.0, "Transaction.End")),
        status("Available"),
    ], needs=("tag:valid",)),

    case("TC_C_08_CSMS", "Authorization through authorization cache - Accepted", "C Authorization", [
        status("Occupied"),
        event("Started", "Authorized", 0, charging_state="EVConnected", idToken=id_token(),
              evse=evse(), token_accepted=True),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local"),
        status("Available"),
    ], needs=("tag:valid",), description="A card the station accepted from its cache, without an "
                                         "Authorize: the CSMS confirms it in the TransactionEvent "
                                         "answer (idTokenInfo Accepted)."),

    case("TC_C_20_CSMS", "Authorization through authorization cache - Invalid", "C Authorization", [
        status("Occupied"),
        Send("TransactionEvent", transaction_event("Started", "Authorized", 0,
                                                   charging_state="EVConnected",
                                                   idToken=id_token(V("invalid_tag")), evse=evse()),
             checks=[tag_check(one_of("idTokenInfo.status", ["Invalid", "Unknown"]), V("invalid_tag"))],
             title="send TransactionEvent Started with a card from the cache the CSMS does not "
                   "accept; the answer says Invalid (or Unknown)"),
        event("Ended", "Deauthorized", 1, stoppedReason="DeAuthorized"),
        status("Available"),
    ], needs=("tag:invalid",), preconditions="The CSMS knows <invalid_tag> as invalid.",
        auto_csms={"TransactionEvent": {"idTokenInfo": {"status": "Invalid"}}}),

    case("TC_C_37_CSMS", "Clear Authorization Cache - Accepted", "C Authorization", [
        ask_csms("Make the CSMS clear this Charging Station's authorization cache (ClearCache)",
                 "ClearCache", {}),
        Expect("ClearCache", reply=answer(status="Accepted")),
    ]),

    case("TC_C_38_CSMS", "Clear Authorization Cache - Rejected", "C Authorization", [
        ask_csms("Make the CSMS clear this Charging Station's authorization cache (ClearCache)",
                 "ClearCache", {}),
        Expect("ClearCache", reply=answer(status="Rejected"),
               title="ClearCache; answer Rejected (the cache is disabled)"),
        Send("Heartbeat", {}, checks=[is_datetime("currentTime")],
             title="send Heartbeat: the CSMS goes on after the refusal"),
    ]),

    case("TC_L_01_CSMS", "Secure Firmware Update - Installation successful", "L FirmwareManagement", [
        *firmware_update("Downloading", "Downloaded", "SignatureVerified", "Installing",
                         "InstallRebooting"),
        *installed_after_reboot(),
    ], **FIRMWARE, description="UpdateFirmware names the image, when to fetch it, its signature "
                               "and certificate and a requestId; the CSMS takes every status "
                               "of the update and the boot after the reboot."),

    case("TC_L_02_CSMS", "Secure Firmware Update - InstallScheduled", "L FirmwareManagement", [
        *firmware_update("Downloading", "Downloaded", "SignatureVerified", "InstallScheduled",
                         install_in=3600),
    ], **FIRMWARE, description="UpdateFirmware with an installDateTime: the CSMS takes "
                               "InstallScheduled."),

    case("TC_L_03_CSMS", "Secure Firmware Update - DownloadScheduled", "L FirmwareManagement", [
        *firmware_update("DownloadScheduled", retrieve_in=3600),
    ], **FIRMWARE, description="UpdateFirmware to be fetched later: the CSMS takes "
                               "DownloadScheduled."),

    case("TC_L_04_CSMS", "Secure Firmware Update - RevokedCertificate", "L FirmwareManagement", [
        *firmware_update(answer_status="RevokedCertificate"),
        security_event("InvalidFirmwareSigningCertificate"),
    ], **FIRMWARE, description="The station refuses an image signed with a revoked certificate "
                               "in its answer and reports the security event, which the CSMS takes."),

    case("TC_L_05_CSMS", "Secure Firmware Update - InvalidCertificate", "L FirmwareManagement", [
        *firmware_update(answer_status="InvalidCertificate"),
        security_event("InvalidFirmwareSigningCertificate"),
    ], **FIRMWARE),

    case("TC_L_06_CSMS", "Secure Firmware Update - InvalidSignature", "L FirmwareManagement", [
        *firmware_update("Downloading", "Downloaded", "InvalidSignature"),
        security_event("InvalidFirmwareSignature"),
    ], **FIRMWARE),

    case("TC_L_07_CSMS", "Secure Firmware Update - DownloadFailed", "L FirmwareManagement", [
        *firmware_update("Downloading", "DownloadFailed"),
    ], **FIRMWARE, description="The CSMS takes a DownloadFailed report."),

    case("TC_L_08_CSMS", "Secure Firmware Update - InstallVerificationFailed",
         "L FirmwareManagement", [
        *firmware_update("Downloading", "Downloaded", "SignatureVerified", "Installing",
                         "InstallVerificationFailed"),
    ], **FIRMWARE),

    case("TC_L_09_CSMS", "Secure Firmware Update - InstallationFailed", "L FirmwareManagement", [
        *firmware_update("Downloading", "Downloaded", "SignatureVerified", "Installing",
                         "InstallationFailed"),
    ], **FIRMWARE, description="The CSMS takes an InstallationFailed report."),

    case("TC_L_13_CSMS", "Secure Firmware Update - with ongoing transaction - "
                         "AllowNewSessionsPendingFirmwareUpdate=false", "L FirmwareManagement", [
        status("Occupied"),
        authorize(),
        started_with_token(),
        *firmware_update("Downloading", "Downloaded", "SignatureVerified"),
        event("Ended", "StopAuthorized", 1, stoppedReason="Local"),
        status("Unavailable"),
        firmware_status("Installing"),
        firmware_status("InstallRebooting"),
        *installed_after_reboot(),
    ], **{**FIRMWARE, "needs": ("tag:valid", "feature:FirmwareManagement")},
        description="An update during a transaction: the station installs once the transaction "
                    "is over and takes no new session meanwhile (Unavailable); the CSMS takes "
                    "every report."),

    case("TC_L_10_CSMS", "Secure Firmware Update - AcceptedCanceled", "L FirmwareManagement", [
        *firmware_update("Downloading"),
        *firmware_update(answer_status="AcceptedCanceled", request_id=2010, again=True),
        firmware_status("Downloading"),
    ], **FIRMWARE, description="A second update while one runs gets a new requestId; the station "
                               "cancels the first (AcceptedCanceled) and the CSMS takes it."),

    case("TC_L_11_CSMS", "Secure Firmware Update - Unable to cancel", "L FirmwareManagement", [
        *firmware_update("Downloading", "Downloaded", "Installing"),
        *firmware_update(answer_status="Rejected", request_id=2011, again=True),
    ], **FIRMWARE, description="A second update while the first installs gets a new requestId; "
                               "the station cannot cancel (Rejected)."),

    retrieve_log("TC_N_25_CSMS", "Retrieve Log - Diagnostics - Success", "DiagnosticsLog", 2025),
    retrieve_log("TC_N_35_CSMS", "Retrieve Log - Security Log - Success", "SecurityLog", 2035),
    customer_information("TC_N_27_CSMS", "Get Customer Information - Accepted + data",
                         report=True, clear=False, data="card OCTT-CUSTOMER-1: 3 sessions"),
    customer_information("TC_N_28_CSMS", "Get Customer Information - Accepted + no data",
                         report=True, clear=False),
    customer_information("TC_N_29_CSMS", "Get Customer Information - Not Accepted",
                         report=True, clear=False, answer_status="Rejected"),
    customer_information("TC_N_30_CSMS", "Clear Customer Information - Clear and report + data",
                         report=True, clear=True, data="card OCTT-CUSTOMER-1: cleared"),
    customer_information("TC_N_31_CSMS", "Clear Customer Information - Clear and report + no data",
                         report=True, clear=True),
    customer_information("TC_N_32_CSMS", "Clear Customer Information - Clear and no report",
                         report=False, clear=True, by_token=True),
    customer_information("TC_N_62_CSMS", "Clear Customer Information - customerIdentifier",
                         report=False, clear=True),

    case("TC_N_34_CSMS", "Retrieve Log - Rejected", "N Diagnostics", [
        *get_log("DiagnosticsLog", 2034, "Rejected"),
        Send("Heartbeat", {}, checks=[is_datetime("currentTime")],
             title="send Heartbeat: the CSMS goes on after the refusal"),
    ], **LOGS),

    case("TC_N_36_CSMS", "Retrieve Log - Second Request", "N Diagnostics", [
        *get_log("DiagnosticsLog", 2036),
        log_status("Uploading"),
        *get_log("DiagnosticsLog", 2037, "AcceptedCanceled", again=True),
        log_status("Uploading"),
        log_status("Uploaded"),
    ], **LOGS, description="A second GetLog while one uploads gets a new requestId; the "
                           "station cancels the first (AcceptedCanceled) and uploads the second."),


    case("TC_P_02_CSMS", "Data Transfer to the CSMS - Unknown VendorId", "P DataTransfer", [
        Send("DataTransfer", {"vendorId": V("vendor_id"), "messageId": "Test", "data": "ping"},
             checks=[eq("status", "UnknownVendorId")],
             title="DataTransfer with a vendor id the CSMS does not know: UnknownVendorId"),
    ], auto_csms={"DataTransfer": {"status": "UnknownVendorId"}}),
]
