"""Schema-valid payloads: generic examples, friendly default answers and compose templates.

Everything is derived from the OCA JSON schemas (see `schemas`), so every version and
action is covered without hand-written tables; a few well-known fields get realistic
values on top. Pure: no I/O besides reading the schemas, and the clock is passed in.
"""

from __future__ import annotations

import copy
import math
from datetime import datetime, timezone
from typing import Any

from jsonschema import validators

from . import schemas
from .schemas import REQUEST, RESPONSE
from .versions import V16

HEARTBEAT_INTERVAL = 300  # seconds a fake CSMS asks chargers to wait between heartbeats

TAG = "TAG0001"
VENDOR, MODEL = "OCPP-Inspector", "Sim"
URI = "ws://127.0.0.1/"

# Enum values preferred over the first one: a friendly peer accepts what it is asked.
_PREFERRED_ENUM = ("Accepted", "Unlocked")

# Hints are keyed by property name and used wherever that name occurs, as long as the
# candidate validates against the property's schema there. A tuple lists alternatives
# (first fitting wins), which is how one table serves 1.6 and 2.x at once.
_COMMON_HINTS: dict[str, Any] = {
    "idTag": TAG,
    "idToken": ({"idToken": TAG, "type": "ISO14443"}, TAG),
    "connectorId": 1,
    "evseId": 1,
    "transactionId": (1, "TX0001"),
    "remoteStartId": 1,
    "reservationId": 1,
    "chargePointVendor": VENDOR,
    "chargePointModel": MODEL,
    "vendorName": VENDOR,
    "model": MODEL,
    "vendorId": VENDOR,
    "errorCode": "NoError",
}

_COMPONENT = {"name": "OCPPCommCtrlr"}
_VARIABLE = {"name": "HeartbeatInterval"}


def _action_hints(action: str, stamp: str) -> dict[str, Any]:
    """Per-action hints; at the top level these also add optional properties."""
    return {
        "BootNotification": {"reason": "PowerUp"},
        "Reset": {"type": ("Soft", "Immediate")},
        "TriggerMessage": {"requestedMessage": ("BootNotification", "Heartbeat")},
        "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "60"},
        "GetConfiguration": {"key": ["HeartbeatInterval"]},
        "SetVariables": {
            "setVariableData": [
                {"component": _COMPONENT, "variable": _VARIABLE, "attributeValue": "60"}
            ]
        },
        "GetVariables": {"getVariableData": [{"component": _COMPONENT, "variable": _VARIABLE}]},
        "MeterValues": {
            "meterValue": (
                # 1.6 carries the value as a string, 2.x as a number
                [{"timestamp": stamp, "sampledValue": [
                    {"value": "0", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}],
                [{"timestamp": stamp, "sampledValue": [
                    {"value": 0, "measurand": "Energy.Active.Import.Register"}]}],
            )
        },
        "RemoteStartTransaction": {"connectorId": 1},
        "RequestStartTransaction": {"evseId": 1},
        "TransactionEvent": {
            "eventType": "Started",
            "triggerReason": "Authorized",
            "idToken": _COMMON_HINTS["idToken"],
            "evse": {"id": 1, "connectorId": 1},
        },
    }.get(action, {})


def _stamp(now: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as OCPP peers commonly send it."""
    now = now.astimezone(timezone.utc) if now.tzinfo else now.replace(tzinfo=timezone.utc)
    return f"{now:%Y-%m-%dT%H:%M:%S}.{now.microsecond // 1000:03d}Z"


def _resolve(schema: dict, root: dict) -> dict:
    """Follow local `$ref`s and collapse oneOf/anyOf (first alternative) and allOf."""
    while "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            if part:
                node = node[part.replace("~1", "/").replace("~0", "~")]
        schema = node
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            rest = {k: v for k, v in schema.items() if k != key}
            schema = {**rest, **_resolve(schema[key][0], root)}
    if schema.get("allOf"):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root)
            merged = {
                **merged,
                **part,
                "properties": {**merged.get("properties", {}), **part.get("properties", {})},
                "required": [*merged.get("required", []), *part.get("required", [])],
            }
        schema = merged
    return schema


def _fits(value: Any, schema: dict, root: dict) -> bool:
    """Whether a hinted value is valid where it would go (enum, lengths, nested objects)."""
    cls = validators.validator_for(root)
    return cls({**schema, "definitions": root.get("definitions", {})}).is_valid(value)


def _type(schema: dict) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. ["string", "null"]: the first non-null type
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        if "properties" in schema or "required" in schema:
            return "object"
        if "items" in schema:
            return "array"
    return kind


def _number(schema: dict) -> int:
    """Integer-valued numbers, so `multipleOf: 0.1` never trips on float rounding."""
    low, high = schema.get("minimum"), schema.get("maximum")
    value = 0
    if low is not None:
        value = math.ceil(low)
        # draft-04 boolean / draft-06 numeric exclusive bounds
        if schema.get("exclusiveMinimum") is True and value == low:
            value += 1
    ex_low = schema.get("exclusiveMinimum")
    if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool) and value <= ex_low:
        value = math.floor(ex_low) + 1
    step = schema.get("multipleOf")
    if step:  # same float test jsonschema applies, so the check can't disagree
        for candidate in range(value, value + 1000):
            if (candidate / step) == int(candidate / step):
                value = candidate
                break
    if high is not None and value > high:
        value = math.floor(high)
    return value  # an int is valid for both integer and number


def _value(schema: dict, root: dict, ctx: dict, name: str = "") -> Any:
    schema = _resolve(schema, root)
    hint = ctx["hints"].get(name)
    if hint is not None:
        for candidate in hint if isinstance(hint, tuple) else (hint,):
            if _fits(candidate, schema, root):
                return copy.deepcopy(candidate)
    if "enum" in schema:
        enum = schema["enum"]
        return next((v for v in _PREFERRED_ENUM if v in enum), enum[0] if enum else None)
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    kind = _type(schema)
    if kind == "object":
        props = schema.get("properties", {})
        # only required properties: the smallest payload that is still valid
        return {k: _value(props.get(k, {}), root, ctx, k) for k in schema.get("required", ())}
    if kind == "array":
        count = max(schema.get("minItems", 0), 0)
        if "maxItems" in schema:
            count = min(count, schema["maxItems"])
        items = schema.get("items", {})
        if isinstance(items, list):  # tuple form: one schema per position
            return [_value(items[i] if i < len(items) else {}, root, ctx, name) for i in range(count)]
        return [_value(items, root, ctx, name) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    if kind == "string":
        fmt = schema.get("format")
        if fmt == "date-time":
            text = ctx["stamp"]
        elif fmt in ("uri", "uri-reference", "url"):
            text = URI
        else:
            text = name or "text"  # the field name is a readable placeholder
        text = text[: schema.get("maxLength", len(text))]
        return text.ljust(schema.get("minLength", 0), "x")
    return ""  # untyped: anything is valid


def _schema(version: str, action: str, kind: str) -> dict | None:
    try:
        known = action in schemas.actions(version)
    except KeyError:
        known = False
    if not known:
        raise KeyError(f"unknown OCPP {version} action {action!r}")
    return schemas.load(version, action, kind)


def _generate(version: str, action: str, kind: str, now: datetime, hints: dict) -> dict:
    schema = _schema(version, action, kind)
    if schema is None:  # 2.1 SEND-only messages have no response
        return {}
    return _value(schema, schema, {"hints": hints, "stamp": _stamp(now)})


def example(version: str, action: str, kind: str, *, now: datetime) -> dict:
    """The smallest schema-valid payload for a request or response; KeyError if unknown."""
    return _generate(version, action, kind, now, {})


def request_template(version: str, action: str, *, now: datetime) -> dict:
    """A schema-valid CALL payload with realistic values, as a starting point for editing."""
    per_action = _action_hints(action, _stamp(now))
    payload = _generate(version, action, REQUEST, now, {**_COMMON_HINTS, **per_action})
    schema = schemas.load(version, action, REQUEST) or {}
    props = _resolve(schema, schema).get("properties", {})
    # per-action hints may add optional top-level fields (e.g. connectorId for RemoteStart)
    for key, hint in per_action.items():
        if key in props and key not in payload:
            for candidate in hint if isinstance(hint, tuple) else (hint,):
                if _fits(candidate, _resolve(props[key], schema), schema):
                    payload[key] = copy.deepcopy(candidate)
                    break
    return payload


def _echo_items(request: dict, key: str) -> list[dict]:
    """The well-formed component/variable items of a Get/SetVariables request."""
    items = request.get(key)
    if not isinstance(items, list):
        return []
    return [
        item for item in items
        if isinstance(item, dict) and isinstance(item.get("component"), dict)
        and isinstance(item.get("variable"), dict)
    ]


def default_response(
    version: str,
    action: str,
    request_payload: dict,
    *,
    now: datetime,
    next_transaction_id: int = 1,
) -> dict:
    """What a friendly fake CSMS or fake charger answers to a request.

    Starts from the schema minimum (which already prefers "Accepted" statuses) and fills
    in the values that matter for the common messages.
    """
    payload = example(version, action, RESPONSE, now=now)
    request = request_payload if isinstance(request_payload, dict) else {}
    stamp = _stamp(now)
    accepted = {"status": "Accepted"}
    if action == "BootNotification":
        payload.update(status="Accepted", interval=HEARTBEAT_INTERVAL, currentTime=stamp)
    elif action == "Heartbeat":
        payload["currentTime"] = stamp
    elif action == "Authorize":
        payload["idTagInfo" if version == V16 else "idTokenInfo"] = dict(accepted)
    elif action == "StartTransaction":
        payload.update(transactionId=next_transaction_id, idTagInfo=dict(accepted))
    elif action == "StopTransaction":
        payload["idTagInfo"] = dict(accepted)  # optional, but chargers expect to see it
    elif action == "TransactionEvent":
        if isinstance(request.get("idToken"), dict):
            payload["idTokenInfo"] = dict(accepted)
    elif action == "DataTransfer":
        # a default side knows no vendor extension: what the spec answers to an unknown vendor
        payload["status"] = "UnknownVendorId"
    elif action == "GetConfiguration":
        payload["configurationKey"] = []  # the fake charger replaces this with its store
    elif action == "SetVariables":
        results = [
            {
                **({"attributeType": i["attributeType"]} if "attributeType" in i else {}),
                "attributeStatus": "Accepted",
                "component": copy.deepcopy(i["component"]),
                "variable": copy.deepcopy(i["variable"]),
            }
            for i in _echo_items(request, "setVariableData")
        ]
        if results:
            payload["setVariableResult"] = results
    elif action == "GetVariables":
        results = [
            {
                **({"attributeType": i["attributeType"]} if "attributeType" in i else {}),
                "attributeStatus": "Accepted",
                "attributeValue": "0",
                "component": copy.deepcopy(i["component"]),
                "variable": copy.deepcopy(i["variable"]),
            }
            for i in _echo_items(request, "getVariableData")
        ]
        if results:
            payload["getVariableResult"] = results
    return payload
