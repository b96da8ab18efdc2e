"""OCPP 2.0.1 cases for a Charging Station (TC_X_NN_CS): the engine plays the CSMS.

Letters are the functional blocks of the 2.0.1 specification (B Provisioning,
C Authorization, E Transactions, F RemoteControl, G Availability, H Reservation,
J MeterValues, P DataTransfer). Transaction cases assume TxStartPoint / TxStopPoint
PowerPathClosed (the transaction starts once the EV is connected and the driver is
authorized), as their preconditions say.
"""

from __future__ import annotations

from inspector.conformance.model import (Case, Connect, Expect, ExpectDisconnect, ExpectNone,
                                         FloatV, IntV, Now, Prompt, Send, StepTimeoutPlus, StrV, V,
                                         answer, eq, eq_or_absent, is_datetime, length,
                                         nonempty_str, not_before, one_of, satisfies)
from inspector.conformance.payloads import id_token

VERSION = "2.0.1"
EVSE = IntV("evse")
ENERGY = "Energy.Active.Import.Register"
TX_POINTS = "TxStartPoint and TxStopPoint are PowerPathClosed (EVConnected + Authorized)."
HEARTBEAT_VARIABLE = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def case(case_id: str, title: str, group: str, steps: list, **kw) -> Case:
    return Case(case_id, title, VERSION, "charger", group, steps, **kw)


def status(value: str, **kw) -> Expect:
    return Expect("StatusNotification", where={"evseId": EVSE, "connectorStatus": value},
                  checks=[is_datetime("timestamp")], **kw)


def reboot() -> list:
    return [Prompt("Power-cycle (or reboot) the Charging Station so that it connects to {url}<id> "
                   "and boots", action="reboot"),
            Connect()]


def plug_in() -> list:
    return [Prompt("Plug the cable into EVSE {evse}", action="plug_in"), status("Occupied")]


def unplug() -> list:
    return [Prompt("Unplug the cable from EVSE {evse}", action="unplug"), status("Available")]


def present_card(text: str = "Present a valid card ({id_tag}) to the reader", tag=V("id_tag")) -> Prompt:
    return Prompt(text, action="present_card", args={"tag": tag})


def tx_started(*checks, **kw) -> Expect:
    return Expect("TransactionEvent", where={"eventType": "Started"},
                  checks=[eq("seqNo", 0), nonempty_str("transactionInfo.transactionId"),
                          eq("evse.id", EVSE), *checks],
                  save={"tx": "transactionInfo.transactionId"}, **kw)


def tx_ended(*checks, **kw) -> Expect:
    return Expect("TransactionEvent",
                  where={"eventType": "Ended", "transactionInfo.transactionId": V("tx")},
                  checks=list(checks), **kw)


def remote_start(remote_start_id: int = 201) -> list:
    return [Send("RequestStartTransaction",
                 {"idToken": id_token(V("id_tag")), "remoteStartId": remote_start_id, "evseId": EVSE},
                 checks=[eq("status", "Accepted")]),
            tx_started(eq("triggerReason", "RemoteStart"),
                       eq("transactionInfo.remoteStartId", remote_start_id),
                       eq("idToken.idToken", V("id_tag")))]


def remote_stop() -> list:
    return [Send("RequestStopTransaction", {"transactionId": V("tx")}, checks=[eq("status", "Accepted")]),
            tx_ended(eq("triggerReason", "RemoteStop"),
                     eq_or_absent("transactionInfo.stoppedReason", "Remote")),
            *unplug()]


def local_stop() -> list:
    return [present_card("Present the same card again to stop charging", V("card")),
            tx_ended(eq("triggerReason", "StopAuthorized"),
                     eq_or_absent("transactionInfo.stoppedReason", "Local")),
            *unplug()]


def _energy_sampled(values) -> bool:
    return any(isinstance(v, dict) and v.get("measurand", ENERGY) == ENERGY for v in values)


def _get_heartbeat(expected=None) -> Send:
    checks = [length("getVariableResult", 1), eq("getVariableResult[0].attributeStatus", "Accepted"),
              eq("getVariableResult[0].component.name", "OCPPCommCtrlr"),
              eq("getVariableResult[0].variable.name", "HeartbeatInterval"),
              eq_or_absent("getVariableResult[0].attributeType", "Actual")]
    checks.append(eq("getVariableResult[0].attributeValue", expected) if expected is not None
                  else nonempty_str("getVariableResult[0].attributeValue"))
    return Send("GetVariables", {"getVariableData": [HEARTBEAT_VARIABLE]}, checks=checks)


def _authorize_refused(case_id: str, title: str, refusal: str) -> Case:
    return case(case_id, title, "C Authorization", [
        *plug_in(),
        present_card(f"Present a card to the reader (the test system answers {refusal})"),
        Expect("Authorize", checks=[nonempty_str("idToken.idToken")],
               reply=answer(idTokenInfo={"status": refusal}),
               title=f"Authorize; answer idTokenInfo {refusal}"),
        ExpectNone("TransactionEvent", where={"transactionInfo.chargingState": "Charging"},
                   seconds=V("quiet_period"),
                   title=f"energy is not delivered for an idToken answered {refusal}"),
        *unplug(),
    ], preconditions=TX_POINTS)


def _availability(operational: str, note: str = "") -> list:
    target = "Unavailable" if operational == "Inoperative" else "Available"
    return [Send("ChangeAvailability", {"operationalStatus": operational, "evse": {"id": EVSE}},
                 checks=[eq("status", "Accepted")],
                 title=f"{note}send ChangeAvailability {operational} for EVSE <evse>; it is Accepted"),
            status(target, title=f"{note}StatusNotification {target} for the EVSE")]


CASES = [
    case("TC_B_01_CS", "Cold Boot Charging Station - Accepted", "B Provisioning", [
        *reboot(),
        Expect("BootNotification",
               checks=[eq("reason", "PowerUp"), nonempty_str("chargingStation.model"),
                       nonempty_str("chargingStation.vendorName")],
               reply=answer(status="Accepted", interval=IntV("heartbeat_interval"))),
        status("Available", title="StatusNotification Available for each connector"),
        Expect("Heartbeat", timeout=StepTimeoutPlus("heartbeat_interval"),
               title="Heartbeat within the granted interval"),
    ], before="none"),

    case("TC_B_02_CS", "Cold Boot Charging Station - Pending", "B Provisioning", [
        *reboot(),
        Expect("BootNotification", reply=answer(status="Pending", interval=IntV("boot_retry_interval")),
               title="BootNotification; answer Pending with interval <boot_retry_interval>"),
        _get_heartbeat(),
        Expect("BootNotification", reply=answer(status="Accepted", interval=IntV("heartbeat_interval")),
               title="the station sends BootNotification again; answer Accepted"),
        status("Available"),
    ], before="none", description="While Pending the station answers the CSMS's requests and "
                                   "retries BootNotification until Accepted."),

    case("TC_B_03_CS", "Cold Boot Charging Station - Rejected", "B Provisioning", [
        *reboot(),
        Expect("BootNotification", reply=answer(status="Rejected", interval=IntV("boot_retry_interval")),
               save_time="rejected_at",
               title="BootNotification; answer Rejected with interval <boot_retry_interval>"),
        ExpectNone(exclude=["BootNotification"], seconds=FloatV("boot_retry_interval", 0.8),
                   title="while Rejected the station sends nothing"),
        Expect("BootNotification", checks=[not_before("rejected_at", V("boot_retry_interval"))],
               reply=answer(status="Accepted", interval=IntV("heartbeat_interval")),
               timeout=StepTimeoutPlus("boot_retry_interval"),
               title="BootNotification again, not before the interval; answer Accepted"),
        status("Available"),
    ], before="none"),

    case("TC_B_06_CS", "Get Variables - single value", "B Provisioning", [_get_heartbeat()]),

    case("TC_B_09_CS", "Set Variables - single value", "B Provisioning", [
        Send("SetVariables", {"setVariableData": [{**HEARTBEAT_VARIABLE,
                                                   "attributeValue": StrV("set_value")}]},
             checks=[length("setVariableResult", 1),
                     one_of("setVariableResult[0].attributeStatus", ["Accepted", "RebootRequired"]),
                     eq("setVariableResult[0].variable.name", "HeartbeatInterval")]),
        _get_heartbeat(StrV("set_value")),
    ], params={"set_value": "120"}),

    case("TC_B_20_CS", "Reset Charging Station - Without ongoing transaction - OnIdle",
         "B Provisioning", [
             Send("Reset", {"type": "OnIdle"}, checks=[eq("status", "Accepted")]),
             ExpectDisconnect(),
             Connect(),
             Expect("BootNotification", checks=[eq("reason", "RemoteReset")]),
             status("Available"),
         ]),

    _authorize_refused("TC_C_02_CS", "Local start transaction - Authorization Invalid/Unknown", "Invalid"),
    _authorize_refused("TC_C_06_CS", "Local start transaction - Authorization Blocked", "Blocked"),

    case("TC_E_01_CS", "Start transaction options - PowerPathClosed", "E Transactions", [
        *plug_in(),
        present_card(),
        Expect("Authorize", checks=[nonempty_str("idToken.idToken")], save={"card": "idToken.idToken"}),
        tx_started(one_of("triggerReason", ["Authorized", "CablePluggedIn", "ChargingStateChanged"]),
                   eq("idToken.idToken", V("card")),
                   one_of("transactionInfo.chargingState",
                          ["Charging", "EVConnected", "SuspendedEV", "SuspendedEVSE"]),
                   title="TransactionEvent Started (seqNo 0) once plugged in and authorized"),
        *local_stop(),
    ], preconditions=TX_POINTS),

    case("TC_E_03_CS", "Local start transaction - Cable plugin first", "E Transactions", [
        Prompt("Plug the cable into EVSE {evse}", action="plug_in"),
        status("Occupied"),
        Expect("TransactionEvent", where={"eventType": "Started"},
               checks=[eq("triggerReason", "CablePluggedIn"), eq("seqNo", 0),
                       nonempty_str("transactionInfo.transactionId"), eq("evse.id", EVSE)],
               save={"tx": "transactionInfo.transactionId"},
               title="TransactionEvent Started (CablePluggedIn, seqNo 0) on plug-in"),
        present_card(),
        Expect("Authorize", checks=[nonempty_str("idToken.idToken")], save={"card": "idToken.idToken"}),
        Expect("TransactionEvent",
               where={"eventType": "Updated", "transactionInfo.transactionId": V("tx"),
                      "triggerReason": "Authorized"},
               checks=[eq("idToken.idToken", V("card")),
                       satisfies("seqNo", "is above 0", lambda v: isinstance(v, int) and v > 0)],
               title="TransactionEvent Updated (Authorized) with the idToken"),
        Expect("TransactionEvent",
               where={"eventType": "Updated", "transactionInfo.transactionId": V("tx"),
                      "transactionInfo.chargingState": "Charging"},
               title="TransactionEvent Updated: chargingState Charging"),
        *local_stop(),
    ], needs=("config:TxCtrlr/TxStartPoint=EVConnected",),
        preconditions="TxStartPoint is EVConnected (declare it in the SUT description's "
                      "configuration).",
        description="With TxStartPoint EVConnected the transaction starts on plug-in; the "
                    "authorization and the start of charging are reported as Updated events."),

    case("TC_E_04_CS", "Local start transaction - Authorization first - Success", "E Transactions", [
        present_card(),
        Expect("Authorize", checks=[nonempty_str("idToken.idToken")], save={"card": "idToken.idToken"}),
        Prompt("Plug the cable into EVSE {evse}", action="plug_in"),
        status("Occupied"),
        tx_started(eq("idToken.idToken", V("card"))),
        *local_stop(),
    ], preconditions=TX_POINTS),

    case("TC_E_15_CS", "Stop transaction options - StopAuthorized - Local", "E Transactions", [
        *plug_in(),
        present_card(),
        Expect("Authorize", save={"card": "idToken.idToken"}),
        tx_started(),
        present_card("Present the same card again to stop charging", V("card")),
        tx_ended(eq("triggerReason", "StopAuthorized"),
                 eq_or_absent("transactionInfo.stoppedReason", "Local"),
                 satisfies("seqNo", "is above 0", lambda v: isinstance(v, int) and v > 0)),
        *unplug(),
    ], preconditions=TX_POINTS),

    case("TC_F_01_CS", "Remote start transaction - Cable plugin first", "F RemoteControl", [
        *plug_in(),
        *remote_start(),
        *remote_stop(),
    ], preconditions=TX_POINTS + " AuthorizeRemoteStart is false."),

    case("TC_F_08_CS", "Remote stop transaction - Success", "F RemoteControl", [
        *plug_in(),
        *remote_start(208),
        *remote_stop(),
    ]),

    case("TC_F_09_CS", "Remote stop transaction - Rejected", "F RemoteControl", [
        Send("RequestStopTransaction", {"transactionId": "OCPP-INSPECTOR-UNKNOWN"},
             checks=[eq("status", "Rejected")],
             title="RequestStopTransaction for an unknown transaction is Rejected"),
    ]),

    case("TC_F_06_CS", "Remote unlock Connector - Without ongoing transaction - Accepted",
         "F RemoteControl", [
             Send("UnlockConnector", {"evseId": EVSE, "connectorId": 1}, checks=[eq("status", "Unlocked")]),
         ]),

    case("TC_F_10_CS", "Remote unlock Connector - Without ongoing transaction - UnknownConnector",
         "F RemoteControl", [
             Send("UnlockConnector", {"evseId": EVSE, "connectorId": 99},
                  checks=[eq("status", "UnknownConnector")]),
         ]),

    case("TC_F_20_CS", "Trigger message - Heartbeat", "F RemoteControl", [
        Send("TriggerMessage", {"requestedMessage": "Heartbeat"}, checks=[eq("status", "Accepted")]),
        Expect("Heartbeat"),
    ]),

    case("TC_F_23_CS", "Trigger message - StatusNotification - Specific EVSE - Available",
         "F RemoteControl", [
             Send("TriggerMessage", {"requestedMessage": "StatusNotification",
                                     "evse": {"id": EVSE, "connectorId": 1}},
                  checks=[eq("status", "Accepted")]),
             status("Available"),
         ]),

    case("TC_F_27_CS", "Trigger message - NotImplemented", "F RemoteControl", [
        Send("TriggerMessage", {"requestedMessage": V("unsupported_trigger")},
             checks=[eq("status", "NotImplemented")],
             title="TriggerMessage for a message the station does not implement"),
    ], params={"unsupported_trigger": "SignV2GCertificate"},
        preconditions="<unsupported_trigger> names a message the station cannot trigger."),

    case("TC_G_03_CS", "Change Availability EVSE - Operative to inoperative", "G Availability", [
        *_availability("Inoperative"),
        *_availability("Operative", "(restore) "),
    ], description="The EVSE becomes Unavailable, then is made Operative again (restoring the "
                   "starting state)."),

    case("TC_G_04_CS", "Change Availability EVSE - Inoperative to operative", "G Availability", [
        *_availability("Inoperative", "(setup) "),
        *_availability("Operative"),
    ]),

    case("TC_H_17_CS", "Cancel reservation of an EVSE - Success", "H Reservation", [
        Send("ReserveNow", {"id": 217, "expiryDateTime": Now(3600), "idToken": id_token(V("id_tag")),
                            "evseId": EVSE},
             checks=[eq("status", "Accepted")]),
        status("Reserved"),
        Send("CancelReservation", {"reservationId": 217}, checks=[eq("status", "Accepted")]),
        status("Available"),
    ], needs=("feature:Reservation",)),

    case("TC_H_18_CS", "Cancel reservation of an EVSE - Rejected", "H Reservation", [
        Send("CancelReservation", {"reservationId": 987654}, checks=[eq("status", "Rejected")],
             title="CancelReservation for an unknown reservation is Rejected"),
    ], needs=("feature:Reservation",)),

    case("TC_J_09_CS", "Sampled Meter Values - EventType Updated", "J MeterValues", [
        Send("SetVariables", {"setVariableData": [
            {"component": {"name": "SampledDataCtrlr"}, "variable": {"name": "TxUpdatedInterval"},
             "attributeValue": StrV("meter_interval")}]},
             checks=[eq("setVariableResult[0].attributeStatus", "Accepted")]),
        *plug_in(),
        *remote_start(209),
        Expect("TransactionEvent",
               where={"eventType": "Updated", "triggerReason": "MeterValuePeriodic"},
               checks=[eq("transactionInfo.transactionId", V("tx")),
                       satisfies("meterValue[*].sampledValue[*]", f"include {ENERGY}", _energy_sampled)],
               save_time="first_sample", timeout=StepTimeoutPlus("meter_interval"),
               title="TransactionEvent Updated with sampled meter values within TxUpdatedInterval"),
        Expect("TransactionEvent",
               where={"eventType": "Updated", "triggerReason": "MeterValuePeriodic"},
               checks=[not_before("first_sample", FloatV("meter_interval", 0.8))],
               timeout=StepTimeoutPlus("meter_interval"),
               title="the next sample one interval later"),
        *remote_stop(),
    ]),

    case("TC_P_01_CS", "Data Transfer to CS - Rejected / Unknown VendorId / Unknown MessageId",
         "P DataTransfer", [
             Send("DataTransfer", {"vendorId": V("vendor_id"), "messageId": "Test", "data": "ping"},
                  checks=[one_of("status", ["Rejected", "UnknownVendorId", "UnknownMessageId"])]),
         ]),
]
