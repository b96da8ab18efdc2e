"""One line per frame for the "Info" column (Wireshark's), in the GUI and in `log show`.

What a tester looks for first, in this order: statuses, connector/EVSE, id tags, the
transaction, error codes with their description, meter readings, intervals.
"""

from __future__ import annotations

import json

# (label, path into the payload)
_PATHS = (("status", ("status",)), ("idTagInfo", ("idTagInfo", "status")),
          ("idTokenInfo", ("idTokenInfo", "status")), ("idTag", ("idTag",)),
          ("idToken", ("idToken", "idToken")), ("connector", ("connectorId",)),
          ("connectorStatus", ("connectorStatus",)),
          ("evse", ("evseId",)), ("evse", ("evse", "id")), ("event", ("eventType",)),
          ("trigger", ("triggerReason",)), ("tx", ("transactionId",)),
          ("tx", ("transactionInfo", "transactionId")),
          ("state", ("transactionInfo", "chargingState")),
          ("stop", ("transactionInfo", "stoppedReason")),
          ("errorCode", ("errorCode",)), ("info", ("info",)), ("reason", ("reason",)),
          ("type", ("type",)), ("key", ("key",)), ("message", ("requestedMessage",)),
          ("interval", ("interval",)), ("heartbeatInterval", ("heartbeatInterval",)))
_QUIET = {("errorCode", "NoError")}  # what every healthy StatusNotification says
_UNITS = {"Energy.Active.Import.Register": "Wh", "Power.Active.Import": "W", "Voltage": "V",
          "Current.Import": "A", "SoC": "Percent"}
_SHORT = {"Energy.Active.Import.Register": "E", "Power.Active.Import": "P", "Voltage": "U",
          "Current.Import": "I", "SoC": "SoC", "Percent": "%"}


def summarize(raw: str, limit: int = 100) -> str:
    """'status Accepted, connector 1'; a CALLERROR's code and description; '' if unreadable."""
    try:
        message = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        return ""
    return summarize_message(message, limit)


def summarize_message(message, limit: int = 100) -> str:
    if not isinstance(message, list) or len(message) < 3:
        return ""
    if message[0] in (4, 5):  # CALLERROR / CALLRESULTERROR: code, then description
        return " ".join(str(part) for part in message[2:4] if part)[:limit]
    payload = message[3] if message[0] in (2, 6) and len(message) > 3 else message[2]
    if not isinstance(payload, dict):
        return ""
    parts, seen = [], set()
    for label, path in _PATHS:
        value = payload
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None or isinstance(value, (dict, list)) or label in seen:
            continue
        if (label, value) in _QUIET:
            continue
        seen.add(label)
        parts.append(f"{label} {value}")
    readings = _readings(payload)
    if readings:
        parts.append(readings)
    return ", ".join(parts)[:limit]


def _readings(payload: dict) -> str:
    """'E 1234 Wh P 7400 W SoC 56 %' from the first sample of meterValue (1.6 and 2.x)."""
    values = payload.get("meterValue")
    if not isinstance(values, list) or not values or not isinstance(values[0], dict):
        return ""
    out = []
    for sample in values[0].get("sampledValue") or ():
        if not isinstance(sample, dict):
            continue
        measurand = sample.get("measurand") or "Energy.Active.Import.Register"
        unit = sample.get("unit")  # 1.6; 2.x nests it
        if not unit and isinstance(sample.get("unitOfMeasure"), dict):
            unit = sample["unitOfMeasure"].get("unit")
        unit = unit or _UNITS.get(measurand, "")
        phase = f".{sample['phase']}" if sample.get("phase") else ""
        name = _SHORT.get(measurand, measurand) + phase
        out.append(f"{name} {sample.get('value')} {_SHORT.get(unit, unit)}".rstrip())
    return " ".join(out)
