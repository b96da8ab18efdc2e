"""RPC_* cases: the OCPP-J RPC framework itself (no public OCTT IDs exist for these).

RPC_01 message ids (length limit, echo), RPC_02 malformed and unknown input (CALLERROR,
connection kept open), RPC_03 one outstanding CALL at a time. Generated for each version
and SUT kind, since the frames are the same and only the actions differ.
"""

from __future__ import annotations

import json

from inspector.conformance.model import (NOW, Case, Expect, Handshake, IntV, Prompt, Send, SendRaw, V,
                                         answer, eq, not_before, present)

ID36 = "ocpp-inspector-rpc-id-36-characters!"
ID37 = ID36 + "x"
assert len(ID36) == 36 and len(ID37) == 37

# CALLERROR codes accepted per version (the spec leaves some choice; 1.6 has no
# RpcFrameworkError / MessageTypeNotSupported and spells two codes differently)
CODES = {
    "1.6": {
        "not_json": ["ProtocolError", "FormationViolation", "GenericError"],
        "format": ["FormationViolation", "ProtocolError", "GenericError"],
        "occurrence": ["OccurenceConstraintViolation", "OccurrenceConstraintViolation", "ProtocolError"],
        "type": ["TypeConstraintViolation", "FormationViolation"],
    },
    "2.0.1": {
        "not_json": ["RpcFrameworkError", "FormatViolation", "ProtocolError"],
        "format": ["FormatViolation", "RpcFrameworkError", "ProtocolError"],
        "occurrence": ["OccurrenceConstraintViolation", "ProtocolError"],
        "type": ["TypeConstraintViolation", "FormatViolation"],
        "message_type": ["MessageTypeNotSupported", "RpcFrameworkError"],
    },
}


def _raw(*items) -> str:
    return json.dumps(list(items), separators=(",", ":"))


def _probe(version: str, sut: str) -> tuple[str, dict, list]:
    """A harmless CALL the SUT must answer, with a check of its answer."""
    if sut == "csms":
        return "Heartbeat", {}, [present("currentTime")]
    if version == "1.6":
        return "GetConfiguration", {"key": ["HeartbeatInterval"]}, [present("configurationKey")]
    return ("GetVariables",
            {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                  "variable": {"name": "HeartbeatInterval"}}]},
            [present("getVariableResult")])


def _incomplete(version: str, sut: str) -> tuple[str, dict, str, dict]:
    """A CALL missing a required field, and one with a field of the wrong type."""
    if sut == "csms":
        if version == "1.6":
            return "Authorize", {}, "Authorize", {"idTag": 12345}
        return "Authorize", {}, "Authorize", {"idToken": {"idToken": 12345, "type": "ISO14443"}}
    if version == "1.6":
        return ("ChangeConfiguration", {"key": "HeartbeatInterval"},
                "ChangeConfiguration", {"key": "HeartbeatInterval", "value": 300})
    return ("GetVariables", {}, "SetVariables",
            {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                  "variable": {"name": "HeartbeatInterval"}, "attributeValue": 300}]})


def cases(version: str, sut: str) -> list[Case]:
    suffix = "CS" if sut == "charger" else "CSMS"
    codes = CODES[version]
    probe, probe_payload, probe_checks = _probe(version, sut)
    missing_action, missing_payload, type_action, type_payload = _incomplete(version, sut)
    role = "charging station" if sut == "charger" else "CSMS"
    # a 1.6 charge point triggers its own messages only with the RemoteTrigger profile
    trigger_needs = ("feature:RemoteTrigger",) if (sut, version) == ("charger", "1.6") else ()

    def case(number: int, title: str, steps: list, **kw) -> Case:
        return Case(f"RPC_{number:02d}_{suffix}", title, version, sut, "RPC framework", steps, **kw)

    if sut == "charger":
        own_call = [
            Send("TriggerMessage", {"requestedMessage": "Heartbeat"}, checks=[eq("status", "Accepted")]),
            Expect("Heartbeat", title="the station's own CALL (Heartbeat) is a well-formed frame "
                                      "with a unique id of at most 36 characters"),
        ]
    else:
        own_call = [
            Send("StatusNotification",
                 {"connectorId": IntV("connector"), "errorCode": "NoError", "status": "Available",
                  "timestamp": NOW} if version == "1.6" else
                 {"timestamp": NOW, "connectorStatus": "Available",
                  "evseId": IntV("evse"), "connectorId": 1},
                 title="a second CALL with a fresh unique id is answered with that id"),
        ]

    rpc01 = case(1, "Message ids: length limit and echo", [
        Send(probe, probe_payload, checks=probe_checks, unique_id=ID36,
             title="a CALL whose unique id has 36 characters (the maximum) is answered with that "
                   "exact id"),
        SendRaw(_raw(2, ID37, probe, probe_payload), codes=codes["format"], ids=[ID37, "-1"],
                result_ok=True,
                title="a CALL whose unique id has 37 characters is refused with a CALLERROR "
                      "(or processed: the 36-character limit binds its sender)"),
        *own_call,
    ], description=f"The {role} echoes unique ids exactly, answers a CALL whose id is longer "
                   f"than 36 characters (with a CALLERROR, echoing that id or -1, or by "
                   f"processing it) and uses valid ids itself (OCPP-J: a unique id is a string "
                   f"of at most 36 characters; the limit binds the sender).",
                 needs=trigger_needs)

    rpc02_steps = [
        SendRaw("this is not JSON", codes=codes["not_json"],
                title="a text frame that is not JSON is answered with a CALLERROR"),
        SendRaw(_raw(2, "rpc02-short"), codes=codes["format"], ids=["rpc02-short", "-1"],
                title="a CALL array with missing elements is answered with a CALLERROR"),
        SendRaw(_raw(2, "rpc02-unknown", "OcppInspectorNoSuchAction", {}), codes=["NotImplemented"],
                ids=["rpc02-unknown"],
                title="a CALL of an unknown action is answered with CALLERROR NotImplemented"),
        SendRaw(_raw(2, "rpc02-missing", missing_action, missing_payload), codes=codes["occurrence"],
                ids=["rpc02-missing"],
                title=f"{missing_action} without a required field is answered with a "
                      f"CALLERROR (occurrence constraint)"),
        SendRaw(_raw(2, "rpc02-type", type_action, type_payload), codes=codes["type"],
                ids=["rpc02-type"],
                title=f"{type_action} with a field of the wrong type is answered with a CALLERROR "
                      f"(type constraint)"),
    ]
    if "message_type" in codes:
        rpc02_steps.append(SendRaw(_raw(7, "rpc02-type7", {}), codes=codes["message_type"],
                                   ids=["rpc02-type7", "-1"],
                                   title="an unknown message type (7) is answered with CALLERROR "
                                         "MessageTypeNotSupported"))
    rpc02_steps.append(Send(probe, probe_payload, checks=probe_checks,
                            title="the connection stays open: a valid CALL is still answered"))
    rpc02 = case(2, "Malformed and unknown input is answered with CALLERROR", rpc02_steps,
                 description=f"The {role} answers malformed frames, unknown actions and "
                             f"schema-invalid payloads with the CALLERROR codes of OCPP {version} "
                             f"and keeps the connection open.")

    if sut == "charger":
        sn_trigger = ({"requestedMessage": "StatusNotification", "connectorId": IntV("connector")}
                      if version == "1.6" else
                      {"requestedMessage": "StatusNotification",
                       "evse": {"id": IntV("evse"), "connectorId": 1}})
        rpc03_steps = [
            Send("TriggerMessage", {"requestedMessage": "Heartbeat"}, checks=[eq("status", "Accepted")]),
            Expect("Heartbeat", save_time="first_call", reply=answer(V("hold")),
                   title="the station sends Heartbeat; the test system holds its answer back "
                         "for <hold> s"),
            Send("TriggerMessage", sn_trigger, checks=[eq("status", "Accepted")],
                 title="ask for a StatusNotification while the Heartbeat is still unanswered"),
            Expect("StatusNotification", checks=[not_before("first_call", V("hold"))],
                   title="the StatusNotification arrives only after the Heartbeat was answered "
                         "(one outstanding CALL)"),
        ]
        rpc03_pre = "The station supports TriggerMessage for Heartbeat and StatusNotification."
    else:
        first, second = (("GetConfiguration", "ChangeConfiguration") if version == "1.6"
                         else ("GetVariables", "SetVariables"))
        payload_first = ({} if version == "1.6" else
                         {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                               "variable": {"name": "HeartbeatInterval"}}]})
        payload_second = ({"key": "HeartbeatInterval", "value": "300"} if version == "1.6" else
                          {"setVariableData": [{"component": {"name": "OCPPCommCtrlr"},
                                                "variable": {"name": "HeartbeatInterval"},
                                                "attributeValue": "300"}]})
        rpc03_steps = [
            Prompt(f"Make the CSMS send {first} and then {second} to this station",
                   action="csms_calls",
                   args={"calls": [{"action": first, "payload": payload_first},
                                   {"action": second, "payload": payload_second}]}),
            Expect(first, save_time="first_call", reply=answer(V("hold")),
                   title=f"the CSMS sends {first}; the test system holds its answer back for "
                         f"<hold> s"),
            Expect(second, checks=[not_before("first_call", V("hold"))],
                   title=f"{second} arrives only after {first} was answered (one outstanding CALL)"),
        ]
        rpc03_pre = f"An operator can make the CSMS send {first} and {second}."
    rpc03 = case(3, "One outstanding CALL at a time", rpc03_steps, preconditions=rpc03_pre,
                 needs=trigger_needs,
                 description="While its CALL is unanswered, the SUT must not send another CALL "
                             "(OCPP-J: at most one outstanding CALL per direction).")
    if sut == "charger":
        # a charger SUT offers its subprotocols to our listener, which accepts only the
        # version under test: every Connect already checks the station offered it
        return [rpc01, rpc02, rpc03]
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    rpc04 = case(4, "Subprotocol negotiation", [
        Handshake(subprotocols=["ocpp0.9"], expect="refused",
                  title="offer only an unsupported subprotocol: the CSMS refuses, or answers "
                        "without a subprotocol and closes"),
        Handshake(subprotocols=[subprotocol, "ocpp9.9"], expect="accepted", keep=True,
                  title=f"offer {subprotocol} and an unknown one: the CSMS picks {subprotocol}"),
        Send(probe, probe_payload, checks=probe_checks,
             title="the negotiated connection carries OCPP"),
    ], before="none",
        description="OCPP-J: the CSMS selects a subprotocol the station offered and supports; "
                    "when it supports none of them it answers without one and closes.")
    return [rpc01, rpc02, rpc03, rpc04]
