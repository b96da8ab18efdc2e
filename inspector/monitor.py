"""Per-connection pairing and validation: raw frame in, FrameRecord out.

Pure apart from the injected clock value: `observe()` is handed the time, so tests and
the conformance engine can drive it without sockets.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from . import codec, flags
from .flags import Flag
from .codec import Frame, FrameType
from .events import CallUnanswered, ConnectionInfo, FrameRecord, opposite
from .schemas import REQUEST, RESPONSE
from .validation import Finding, is_known_action, validate

DEFAULT_CALL_TIMEOUT = 30.0
_RECENT_IDS = 256  # at most this many ids per window, however busy the connection

KNOWN_ERROR_CODES = {
    "NotImplemented", "NotSupported", "InternalError", "ProtocolError", "SecurityError",
    "FormationViolation", "FormatViolation", "PropertyConstraintViolation",
    "OccurenceConstraintViolation", "OccurrenceConstraintViolation", "TypeConstraintViolation",
    "GenericError", "MessageTypeNotSupported", "RpcFrameworkError",
}


@dataclass(slots=True)
class _Outstanding:
    record: FrameRecord
    time: float


class RecentIds:
    """The unique ids seen in the last `seconds` (at most `limit` of them), each with a value.

    A duplicate id or a late CALLRESULTERROR can only be told apart within the call timeout;
    older ids are forgotten, so a connection's memory stays small however long it lives
    (a count-based window held 1,024 ids per direction, ~380 KB per busy connection)."""

    __slots__ = ("seconds", "limit", "_order", "_values")

    def __init__(self, seconds: float, limit: int = _RECENT_IDS):
        self.seconds, self.limit = seconds, limit
        self._order: deque = deque()  # (time, id), oldest first
        self._values: dict = {}

    def add(self, unique_id: str, now: float, value=True) -> None:
        order, values = self._order, self._values
        if unique_id not in values:
            order.append((now, unique_id))
        values[unique_id] = value
        horizon = now - self.seconds
        while order and (order[0][0] < horizon or len(order) > self.limit):
            _, old = order.popleft()
            values.pop(old, None)

    def get(self, unique_id: str, default=None):
        return self._values.get(unique_id, default)

    def __contains__(self, unique_id) -> bool:
        return unique_id in self._values

    def __len__(self) -> int:
        return len(self._values)


class ConnectionMonitor:
    """Pairs responses to CALLs by unique id (opposite direction) and validates payloads."""

    def __init__(self, connection: ConnectionInfo, next_seq, *, max_size: int | None = None,
                 call_timeout: float = DEFAULT_CALL_TIMEOUT, validate_schemas: bool = True):
        self.connection = connection
        self._next_seq = next_seq
        self.max_size = max_size
        self.call_timeout = call_timeout
        self.validate_schemas = validate_schemas
        # direction of the CALL -> unique id -> outstanding call
        self._outstanding: dict[str, dict[str, _Outstanding]] = {"to_csms": {}, "to_charger": {}}
        self._recent_ids = {"to_csms": RecentIds(call_timeout), "to_charger": RecentIds(call_timeout)}
        self._answered = RecentIds(call_timeout)  # id -> action, for a later CALLRESULTERROR
        # malformed frames a CALLERROR may answer (by their id, or "-1" when none was legible)
        self._malformed = {"to_csms": RecentIds(call_timeout), "to_charger": RecentIds(call_timeout)}
        self._handlers = {
            FrameType.CALL: self._on_call,
            FrameType.SEND: self._on_send,
            FrameType.CALLRESULT: self._on_response,
            FrameType.CALLERROR: self._on_response,
            FrameType.CALLRESULTERROR: self._on_result_error,
            FrameType.MALFORMED: self._on_malformed,
        }

    @property
    def version(self) -> str | None:
        return self.connection.version

    def observe(self, direction: str, message: str | bytes | Frame, now: float) -> FrameRecord:
        frame = message if isinstance(message, Frame) else codec.parse(message, max_size=self.max_size)
        record = FrameRecord(self._next_seq(), now, self.connection, direction, frame)
        self._handlers[frame.type](record, now)
        return record

    # ---- per type ----------------------------------------------------------------------

    def _on_malformed(self, record: FrameRecord, now: float) -> None:
        self._malformed[record.direction].add(record.frame.unique_id or "-1", now)
        record.valid = False
        record.errors = [Finding("$", record.frame.reason or "malformed", "frame",
                                 record.frame.error_hint or "FormatViolation")]
        record.flags.append(Flag(flags.MALFORMED, "malformed"))

    def _on_call(self, record: FrameRecord, now: float) -> None:
        frame, direction = record.frame, record.direction
        record.action = frame.action
        pending = self._outstanding[direction]
        recent = self._recent_ids[direction]
        if frame.unique_id in pending or frame.unique_id in recent:
            record.flags.append(Flag(flags.DUPLICATE_ID, f"duplicate unique id {frame.unique_id!r}"))
        elif pending:
            other = next(iter(pending))
            record.flags.append(Flag(flags.SECOND_CALL, f"second CALL while {other!r} is outstanding"))
        recent.add(frame.unique_id, now)
        pending[frame.unique_id] = _Outstanding(record, now)
        self._check(record, REQUEST, frame.payload)

    def _on_send(self, record: FrameRecord, now: float) -> None:
        record.action = record.frame.action
        self._check(record, REQUEST, record.frame.payload)

    def _on_response(self, record: FrameRecord, now: float) -> None:
        frame = record.frame
        call = self._outstanding[opposite(record.direction)].pop(frame.unique_id, None)
        if call is None:
            if frame.type is FrameType.CALLERROR and frame.unique_id in self._malformed[
                    opposite(record.direction)]:
                record.action = None  # the answer to a malformed frame, as OCPP-J asks
                self._check_error_code(record)
                return
            record.flags.append(Flag(flags.UNPAIRED, f"no outstanding CALL with id {frame.unique_id!r}"))
            if frame.type is FrameType.CALLERROR:
                self._check_error_code(record)
            return
        record.action = call.record.action
        record.latency_ms = round((now - call.time) * 1000.0, 3)
        record.request_seq = call.record.seq
        self._answered.add(frame.unique_id, now, record.action)
        if frame.type is FrameType.CALLRESULT:
            self._check(record, RESPONSE, frame.payload)
        else:
            self._check_error_code(record)

    def _on_result_error(self, record: FrameRecord, now: float) -> None:
        record.action = self._answered.get(record.frame.unique_id)
        self._check_error_code(record)

    # ---- helpers -----------------------------------------------------------------------

    def _check(self, record: FrameRecord, kind: str, payload) -> None:
        if record.action and not is_known_action(self.version, record.action):
            if self.version is not None:
                record.flags.append(Flag(flags.UNKNOWN_ACTION,
                                         f"unknown action {record.action!r} in OCPP {self.version}"))
            return
        if not self.validate_schemas:
            return
        findings = validate(self.version, record.action, kind, payload)
        if findings is None:
            return
        record.valid = not findings
        record.errors = findings

    def _check_error_code(self, record: FrameRecord) -> None:
        code = record.frame.error_code
        if code in KNOWN_ERROR_CODES:
            record.valid = True
        else:
            record.valid = False
            record.errors = [Finding("$[2]", f"unknown error code {code!r}", "errorCode",
                                     "FormatViolation")]

    def expire(self, now: float) -> list[CallUnanswered]:
        """Flag and forget CALLs older than the timeout; returns one event per CALL."""
        events = []
        for pending in self._outstanding.values():
            for unique_id, call in list(pending.items()):
                if now - call.time >= self.call_timeout:
                    del pending[unique_id]
                    flag = Flag(flags.UNANSWERED, f"unanswered after {self.call_timeout:g} s")
                    call.record.flags.append(flag)
                    events.append(CallUnanswered(call.record, flag))
        return events

    def close(self) -> list[CallUnanswered]:
        """The connection ended: flag every CALL still waiting for its response."""
        events = []
        for pending in self._outstanding.values():
            for call in pending.values():
                flag = Flag(flags.NO_RESPONSE, "no response: the connection closed")
                call.record.flags.append(flag)
                events.append(CallUnanswered(call.record, flag))
            pending.clear()
        return events

    def pending_action(self, direction: str, unique_id: str | None) -> str | None:
        """The action of the outstanding CALL a response going `direction` would answer
        (what a proxy rule on "Heartbeat answers" matches before the answer is logged)."""
        call = self._outstanding[opposite(direction)].get(unique_id)
        return call.record.action if call is not None else None

    def has_outstanding(self) -> bool:
        """Any CALL still waiting for its answer, either way."""
        return any(self._outstanding.values())

    def outstanding(self, direction: str) -> list[str]:
        return list(self._outstanding[direction])
