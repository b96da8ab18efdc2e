"""Generated payloads must validate against the official schemas for every action."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from jsonschema import Draft4Validator, Draft6Validator, FormatChecker

from inspector import defaults, schemas
from inspector.versions import V16, V201, V21, VERSIONS

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=timezone.utc)
STAMP = "2026-11-25T10:00:00.000Z"

CASES = [(version, action) for version in VERSIONS for action in schemas.actions(version)]
IDS = [f"{version}-{action}" for version, action in CASES]


def _assert_valid(version: str, action: str, kind: str, payload: dict) -> None:
    schema = schemas.load(version, action, kind)
    if schema is None:  # 2.1 SEND-only messages: no response schema, nothing to answer
        assert payload == {}
        return
    cls = Draft4Validator if version == V16 else Draft6Validator
    errors = sorted(cls(schema, format_checker=FormatChecker()).iter_errors(payload), key=str)
    assert not errors, f"{version} {action} {kind}: {errors[0].message} in {payload}"


@pytest.mark.parametrize(("version", "action"), CASES, ids=IDS)
def test_example_request_is_valid(version, action):
    _assert_valid(version, action, schemas.REQUEST,
                  defaults.example(version, action, schemas.REQUEST, now=NOW))


@pytest.mark.parametrize(("version", "action"), CASES, ids=IDS)
def test_example_response_is_valid(version, action):
    _assert_valid(version, action, schemas.RESPONSE,
                  defaults.example(version, action, schemas.RESPONSE, now=NOW))


@pytest.mark.parametrize(("version", "action"), CASES, ids=IDS)
def test_request_template_is_valid(version, action):
    _assert_valid(version, action, schemas.REQUEST,
                  defaults.request_template(version, action, now=NOW))


@pytest.mark.parametrize(("version", "action"), CASES, ids=IDS)
def test_default_response_to_template_is_valid(version, action):
    request = defaults.request_template(version, action, now=NOW)
    _assert_valid(version, action, schemas.RESPONSE,
                  defaults.default_response(version, action, request, now=NOW))


@pytest.mark.parametrize(("version", "action"), CASES, ids=IDS)
def test_default_response_to_example_is_valid(version, action):
    request = defaults.example(version, action, schemas.REQUEST, now=NOW)
    _assert_valid(version, action, schemas.RESPONSE,
                  defaults.default_response(version, action, request, now=NOW))


def test_unknown_action_raises_key_error():
    with pytest.raises(KeyError):
        defaults.example(V16, "NoSuchAction", schemas.REQUEST, now=NOW)
    with pytest.raises(KeyError):
        defaults.default_response(V201, "NoSuchAction", {}, now=NOW)


def test_timestamps_come_from_now_in_utc():
    payload = defaults.example(V16, "Heartbeat", schemas.RESPONSE, now=NOW)
    assert payload == {"currentTime": STAMP}
    naive = datetime(2026, 11, 25, 10, 0, 0, 123456)
    stamp = defaults.example(V201, "Heartbeat", schemas.RESPONSE, now=naive)["currentTime"]
    assert stamp == "2026-11-25T10:00:00.123Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)


@pytest.mark.parametrize("version", VERSIONS)
def test_boot_notification_accepted_with_interval(version):
    request = defaults.request_template(version, "BootNotification", now=NOW)
    answer = defaults.default_response(version, "BootNotification", request, now=NOW)
    assert answer["status"] == "Accepted"
    assert answer["interval"] == defaults.HEARTBEAT_INTERVAL == 300
    assert answer["currentTime"] == STAMP


def test_boot_notification_templates():
    assert defaults.request_template(V16, "BootNotification", now=NOW) == {
        "chargePointVendor": "OCPP-Inspector", "chargePointModel": "Sim"}
    for version in (V201, V21):
        assert defaults.request_template(version, "BootNotification", now=NOW) == {
            "reason": "PowerUp",
            "chargingStation": {"model": "Sim", "vendorName": "OCPP-Inspector"}}


def test_start_transaction_uses_next_transaction_id():
    request = defaults.request_template(V16, "StartTransaction", now=NOW)
    assert request["idTag"] == "TAG0001" and request["connectorId"] == 1
    answer = defaults.default_response(V16, "StartTransaction", request, now=NOW,
                                       next_transaction_id=42)
    assert answer == {"transactionId": 42, "idTagInfo": {"status": "Accepted"}}


def test_authorize_and_stop_transaction_accept():
    assert defaults.default_response(V16, "Authorize", {"idTag": "X"}, now=NOW) == {
        "idTagInfo": {"status": "Accepted"}}
    assert defaults.default_response(V16, "StopTransaction", {}, now=NOW)["idTagInfo"] == {
        "status": "Accepted"}
    for version in (V201, V21):
        request = defaults.request_template(version, "Authorize", now=NOW)
        assert request["idToken"] == {"idToken": "TAG0001", "type": "ISO14443"}
        answer = defaults.default_response(version, "Authorize", request, now=NOW)
        assert answer["idTokenInfo"] == {"status": "Accepted"}


@pytest.mark.parametrize("version", [V201, V21])
def test_transaction_event_answers_id_token_only_when_present(version):
    request = defaults.request_template(version, "TransactionEvent", now=NOW)
    assert request["eventType"] == "Started" and "idToken" in request
    answer = defaults.default_response(version, "TransactionEvent", request, now=NOW)
    assert answer == {"idTokenInfo": {"status": "Accepted"}}
    del request["idToken"]
    assert defaults.default_response(version, "TransactionEvent", request, now=NOW) == {}


@pytest.mark.parametrize("version", [V201, V21])
def test_get_variables_echoes_requested_variables(version):
    request = {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"},
         "attributeType": "MaxSet"},
    ]}
    answer = defaults.default_response(version, "GetVariables", request, now=NOW)
    assert answer["getVariableResult"] == [
        {"attributeStatus": "Accepted", "attributeValue": "0",
         "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
        {"attributeType": "MaxSet", "attributeStatus": "Accepted", "attributeValue": "0",
         "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power"}},
    ]
    _assert_valid(version, "GetVariables", schemas.RESPONSE, answer)


@pytest.mark.parametrize("version", [V201, V21])
def test_set_variables_template_and_echo(version):
    request = defaults.request_template(version, "SetVariables", now=NOW)
    assert request == {"setVariableData": [{
        "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"},
        "attributeValue": "60"}]}
    answer = defaults.default_response(version, "SetVariables", request, now=NOW)
    assert answer == {"setVariableResult": [{
        "attributeStatus": "Accepted",
        "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}


def test_charger_side_statuses():
    assert defaults.default_response(V16, "UnlockConnector", {"connectorId": 1}, now=NOW) == {
        "status": "Unlocked"}
    assert defaults.default_response(V16, "GetConfiguration", {}, now=NOW) == {
        "configurationKey": []}
    for version, action in [(V16, "RemoteStartTransaction"), (V16, "Reset"),
                            (V16, "ChangeConfiguration"), (V16, "TriggerMessage"),
                            (V201, "RequestStartTransaction"),
                            (V201, "ChangeAvailability"), (V21, "ReserveNow"),
                            (V21, "ClearCache")]:
        request = defaults.request_template(version, action, now=NOW)
        answer = defaults.default_response(version, action, request, now=NOW)
        assert answer["status"] == "Accepted", (version, action)
    # no vendor extension is known to a default side: the spec's answer to an unknown vendor
    for version in (V16, V201, V21):
        request = defaults.request_template(version, "DataTransfer", now=NOW)
        answer = defaults.default_response(version, "DataTransfer", request, now=NOW)
        assert answer == {"status": "UnknownVendorId"}, version


def test_request_templates_use_realistic_values():
    assert defaults.request_template(V16, "Reset", now=NOW) == {"type": "Soft"}
    assert defaults.request_template(V201, "Reset", now=NOW) == {"type": "Immediate"}
    assert defaults.request_template(V16, "TriggerMessage", now=NOW) == {
        "requestedMessage": "BootNotification"}
    assert defaults.request_template(V16, "ChangeConfiguration", now=NOW) == {
        "key": "HeartbeatInterval", "value": "60"}
    assert defaults.request_template(V16, "RemoteStartTransaction", now=NOW) == {
        "idTag": "TAG0001", "connectorId": 1}
    start = defaults.request_template(V21, "RequestStartTransaction", now=NOW)
    assert start["evseId"] == 1 and start["idToken"]["idToken"] == "TAG0001"
    get = defaults.request_template(V201, "GetVariables", now=NOW)
    assert get == {"getVariableData": [
        {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]}


def test_meter_values_templates():
    old = defaults.request_template(V16, "MeterValues", now=NOW)
    sample = old["meterValue"][0]["sampledValue"][0]
    assert old["connectorId"] == 1 and old["meterValue"][0]["timestamp"] == STAMP
    assert sample["value"] == "0" and sample["measurand"] == "Energy.Active.Import.Register"
    for version in (V201, V21):
        new = defaults.request_template(version, "MeterValues", now=NOW)
        sample = new["meterValue"][0]["sampledValue"][0]
        assert new["evseId"] == 1
        assert sample == {"value": 0, "measurand": "Energy.Active.Import.Register"}


def test_results_are_fresh_copies():
    first = defaults.request_template(V201, "SetVariables", now=NOW)
    first["setVariableData"][0]["component"]["name"] = "Changed"
    second = defaults.request_template(V201, "SetVariables", now=NOW)
    assert second["setVariableData"][0]["component"]["name"] == "OCPPCommCtrlr"
