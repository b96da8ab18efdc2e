"""Frames as verdicts see them: what breaks OCPP-J, step-log entries, and one-line renderings."""

from __future__ import annotations

from collections import Counter

from .. import flags
from ..codec import FrameType
from .results import FrameEntry
from .values import MISSING, shorten, show_json


def violation(record) -> str | None:
    """Why a frame from the SUT breaks OCPP-J or its schema, or None."""
    frame = record.frame
    what = record.action or frame.type.value
    if frame.type is FrameType.MALFORMED:
        if frame.binary:
            return "the SUT sent a binary WebSocket frame (OCPP-J uses text frames only)"
        return f"the SUT sent a malformed frame ({frame.reason}): {shorten(frame.raw, 80)}"
    if record.valid is False and record.errors:
        first = record.errors[0]
        more = f" (and {len(record.errors) - 1} more finding(s))" if len(record.errors) > 1 else ""
        if frame.type is FrameType.CALL:
            kind = f"{what} request"
        elif frame.type is FrameType.CALLERROR:
            kind = f"CALLERROR to {what}"
        else:
            kind = f"{what} response"
        return f"the SUT's {kind} is schema-invalid: {first.path}: {first.message}{more}"
    for flag in record.flags:
        code = flags.code_of(flag)
        if code == flags.SECOND_CALL:
            other = flag.split("while ", 1)[1]
            return (f"the SUT sent {what} while its previous CALL {other} (one outstanding CALL "
                    f"at a time)")
        if code == flags.DUPLICATE_ID:
            return f"the SUT reused a unique id in {what}: {flag}"
        if code == flags.UNKNOWN_ACTION:
            return f"the SUT sent an {flag}"
        if code == flags.CERTIFICATE_MISMATCH:
            return f"the SUT's {flag} (security profile 3)"
    return None


def frame_entry(record, from_sut: bool, used: bool) -> FrameEntry:
    """The step-log copy of a hub `FrameRecord`: plain values that reports and front-ends keep."""
    frame = record.frame
    return FrameEntry(
        seq=record.seq, time=record.time, from_sut=from_sut, type=frame.type.value,
        action=record.action, unique_id=frame.unique_id, raw=frame.raw, valid=record.valid,
        errors=[f"{e.path}: {e.message}" for e in record.errors], flags=list(record.flags), used=used)


def value_text(value) -> str:
    """A payload value in a reason: text as is, anything else as JSON."""
    if value is MISSING:
        return "(absent)"
    if isinstance(value, str):
        return value
    return show_json(value)


def closed_text(info) -> str:
    """'the SUT closed the connection (code 1000, 'bye')' from a connection's close info."""
    return (f"the SUT closed the connection (code {info.close_code}"
            f"{', ' + repr(info.close_reason) if info.close_reason else ''})")


# CALLs a SUT sends on its own clock; they do not keep it from being "settled" after step 0
PERIODIC_ACTIONS = frozenset({"Heartbeat", "MeterValues"})

REASON_LIMIT = 2048  # a reason is read in a console, a report table and a JUnit attribute


def clip_reason(reason: str, limit: int = REASON_LIMIT) -> str:
    """A reason of at most `limit` characters (UTF-8 bytes may be a little more)."""
    if len(reason) <= limit:
        return reason
    return reason[: limit - 30] + f" ... ({len(reason) - limit + 30} more characters)"


def count_actions(actions, limit: int = 4) -> str:
    """'MeterValues x35, Heartbeat x2' for a list of action names, most frequent first."""
    counts = Counter(a or "?" for a in actions).most_common()
    parts = [f"{a} x{n}" if n > 1 else a for a, n in counts[:limit]]
    if len(counts) > limit:
        parts.append(f"{len(counts) - limit} other action(s)")
    return ", ".join(parts)
