"""OCPP-J frame codec, sans-I/O.

`parse()` turns the text of one WebSocket message into a `Frame`. It never raises for
bad input: anything that is not a well-formed OCPP-J frame becomes a MALFORMED frame
with a precise reason, and the raw text is always kept exactly as received, so a proxy
can forward it untouched and a log can show it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

MAX_UNIQUE_ID_LENGTH = 36
_HEAD = re.compile(r'\s*\[\s*2\s*,\s*"([^"\\]{1,36})"')


class FrameType(str, Enum):
    CALL = "CALL"
    CALLRESULT = "CALLRESULT"
    CALLERROR = "CALLERROR"
    CALLRESULTERROR = "CALLRESULTERROR"  # OCPP 2.1
    SEND = "SEND"  # OCPP 2.1
    MALFORMED = "MALFORMED"

    @property
    def is_response(self) -> bool:
        return self in (FrameType.CALLRESULT, FrameType.CALLERROR)


_TYPE_BY_NUMBER = {
    2: FrameType.CALL,
    3: FrameType.CALLRESULT,
    4: FrameType.CALLERROR,
    5: FrameType.CALLRESULTERROR,
    6: FrameType.SEND,
}
_NUMBER_BY_TYPE = {v: k for k, v in _TYPE_BY_NUMBER.items()}
# (arity, names of the string members after the id) per frame type
_SHAPES = {
    FrameType.CALL: 4,
    FrameType.SEND: 4,
    FrameType.CALLRESULT: 3,
    FrameType.CALLERROR: 5,
    FrameType.CALLRESULTERROR: 5,
}


@dataclass(slots=True, eq=True)
class Frame:
    """One OCPP-J message. `raw` is the exact text received (or to be sent).

    Treat it as immutable (every subscriber sees the same object); it is not declared
    frozen because a frozen dataclass's __init__ costs 2.4 us per frame against 0.6 us,
    on the path every frame takes.
    """

    type: FrameType
    raw: str
    unique_id: str | None = None
    action: str | None = None
    payload: Any = None
    error_code: str | None = None
    error_description: str | None = None
    error_details: Any = None
    # Why the frame is MALFORMED, and which OCPP error a receiver should answer with.
    reason: str | None = None
    error_hint: str | None = None
    binary: bool = False

    @property
    def is_malformed(self) -> bool:
        return self.type is FrameType.MALFORMED


def _malformed(raw: str, reason: str, hint: str, unique_id: str | None = None, *, binary=False) -> Frame:
    return Frame(
        FrameType.MALFORMED, raw, unique_id=unique_id, reason=reason, error_hint=hint, binary=binary
    )


def truncated(head: str, size: int, limit: int) -> Frame:
    """A message above the inspection limit, known only by its first characters: MALFORMED,
    with its size, the unique id if the head shows it, and the head as its raw text."""
    match = _HEAD.match(head[:120])
    return _malformed(head, f"message of {size} bytes above the inspection limit of {limit} "
                            f"bytes: forwarded whole, logged as its first {len(head)} characters",
                      "FormatViolation", match.group(1) if match else None)


def unreadable(reason: str) -> Frame:
    """A marker for bytes that could not be read as a WebSocket message (bad framing)."""
    return _malformed("", f"WebSocket framing: {reason}", "RpcFrameworkError")


def _reject_constant(token: str):
    raise ValueError(f"{token} is not valid JSON")


# One decoder for every frame: json.loads() with any keyword builds a new decoder (and
# scanner) per call, which was a tenth of the proxy's per-frame cost.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse(message: str | bytes, *, max_size: int | None = None,
          id_limit: int | None = MAX_UNIQUE_ID_LENGTH) -> Frame:
    """Parse one WebSocket message. Bytes mean a binary WebSocket frame (never OCPP).

    `id_limit=None` reads a frame whose unique id is longer than OCPP-J allows as what it
    would otherwise be: for judging a peer's answer to an over-long id we sent ourselves."""
    if isinstance(message, (bytes, bytearray, memoryview)):
        raw = bytes(message).decode("utf-8", errors="backslashreplace")
        return _malformed(raw, "binary WebSocket frame; OCPP-J uses text frames only",
                          "RpcFrameworkError", binary=True)
    raw = message
    if max_size is not None and len(raw) > max_size // 4 and (
            size := len(raw.encode("utf-8", errors="surrogatepass"))) > max_size:
        # not parsed (that is the point of a limit); the id is read from the head so a
        # receiver can still answer the CALL with a CALLERROR
        head = _HEAD.match(raw[:120])
        return _malformed(raw, f"frame of {size} bytes exceeds the limit of {max_size} bytes",
                          "FormatViolation", head.group(1) if head else None)
    try:
        value = _DECODER.decode(raw)
    except RecursionError:
        # valid JSON perhaps, but nested deeper than we decode: its id still answers it
        head = _HEAD.match(raw[:120])
        return _malformed(raw, "JSON nested too deep to decode", "FormatViolation",
                          head.group(1) if head else None)
    except ValueError as exc:
        return _malformed(raw, f"not valid JSON: {exc}", "RpcFrameworkError")
    if not isinstance(value, list):
        return _malformed(raw, f"not a JSON array but a {_json_type(value)}", "RpcFrameworkError")
    if not value:
        return _malformed(raw, "empty array", "RpcFrameworkError")
    number = value[0]
    ftype = _TYPE_BY_NUMBER.get(number) if type(number) is int else None
    if ftype is None:
        return _malformed(raw, f"unknown message type {json.dumps(number)[:40]}; expected 2 to 6",
                          "MessageTypeNotSupported", _id_if_string(value))
    arity = _SHAPES[ftype]
    if len(value) != arity:
        return _malformed(raw, f"{ftype.value} must have {arity} elements, got {len(value)}",
                          "FormatViolation", _id_if_string(value))
    unique_id = value[1]
    if type(unique_id) is not str:
        return _malformed(raw, f"unique id must be a string, got {_json_type(unique_id)}",
                          "FormatViolation")
    if not unique_id or (id_limit is not None and len(unique_id) > id_limit):
        reason = (f"unique id of {len(unique_id)} characters exceeds {MAX_UNIQUE_ID_LENGTH}"
                  if unique_id else "unique id is empty")
        return _malformed(raw, reason, "FormatViolation", _id_if_string(value))
    if ftype in (FrameType.CALL, FrameType.SEND):
        action, payload = value[2], value[3]
        if not isinstance(action, str) or not action:
            return _malformed(raw, f"action must be a non-empty string, got {_json_type(action)}",
                              "FormatViolation", unique_id)
        if not isinstance(payload, dict):
            return _malformed(raw, f"payload must be a JSON object, got {_json_type(payload)}",
                              "FormatViolation", unique_id)
        return Frame(ftype, raw, unique_id=unique_id, action=action, payload=payload)
    if ftype is FrameType.CALLRESULT:
        if not isinstance(value[2], dict):
            return _malformed(raw, f"payload must be a JSON object, got {_json_type(value[2])}",
                              "FormatViolation", unique_id)
        return Frame(ftype, raw, unique_id=unique_id, payload=value[2])
    code, description, details = value[2], value[3], value[4]
    for name, member in (("error code", code), ("error description", description)):
        if not isinstance(member, str):
            return _malformed(raw, f"{name} must be a string, got {_json_type(member)}",
                              "FormatViolation", unique_id)
    if not isinstance(details, dict):
        return _malformed(raw, f"error details must be a JSON object, got {_json_type(details)}",
                          "FormatViolation", unique_id)
    return Frame(ftype, raw, unique_id=unique_id, error_code=code,
                 error_description=description, error_details=details)


def _id_if_string(value: list) -> str | None:
    if len(value) > 1 and isinstance(value[1], str):
        return value[1][:MAX_UNIQUE_ID_LENGTH * 4]
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


# ---- building frames -------------------------------------------------------------------

def _dump(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            # a lone surrogate (echoing a peer's "\ud800" id): a text frame must be valid
            # UTF-8, so write it back as the JSON escape it came as
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=True)
    return text


def to_json(value: Any) -> str:
    """Compact JSON as frames are written, always valid UTF-8."""
    return _dump(value)


def call(unique_id: str, action: str, payload: dict) -> Frame:
    raw = _dump([2, unique_id, action, payload])
    return Frame(FrameType.CALL, raw, unique_id=unique_id, action=action, payload=payload)


def send(unique_id: str, action: str, payload: dict) -> Frame:
    raw = _dump([6, unique_id, action, payload])
    return Frame(FrameType.SEND, raw, unique_id=unique_id, action=action, payload=payload)


def call_result(unique_id: str, payload: dict) -> Frame:
    raw = _dump([3, unique_id, payload])
    return Frame(FrameType.CALLRESULT, raw, unique_id=unique_id, payload=payload)


def call_error(unique_id: str, code: str, description: str = "", details: dict | None = None) -> Frame:
    details = details or {}
    raw = _dump([4, unique_id, code, description, details])
    return Frame(FrameType.CALLERROR, raw, unique_id=unique_id, error_code=code,
                 error_description=description, error_details=details)
