"""The stream of events every front-end subscribes to: the store, the UI, the CLI.

Roles publish; subscribers are plain callables run on the publishing thread (the
asyncio loop), so they must be quick: the store only enqueues, the UI only buffers.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from typing import Callable

from .codec import Frame, FrameType
from .validation import Finding

TO_CSMS, TO_CHARGER = "to_csms", "to_charger"
log = logging.getLogger(__name__)


def opposite(direction: str) -> str:
    return TO_CHARGER if direction == TO_CSMS else TO_CSMS


@dataclass(slots=True)
class ConnectionInfo:
    id: int
    charge_point_id: str
    role: str  # "proxy", "csms", "charger", "suite"
    subprotocol: str | None = None
    version: str | None = None
    remote_address: str | None = None
    opened_at: float | None = None
    closed_at: float | None = None
    close_code: int | None = None
    close_reason: str | None = None
    note: str | None = None  # why a connection failed (upstream down, refused, ...)


@dataclass(slots=True)
class FrameRecord:
    """One logged frame: the exact raw text plus everything derived from it."""

    seq: int
    time: float
    connection: ConnectionInfo
    direction: str
    frame: Frame
    action: str | None = None
    latency_ms: float | None = None
    valid: bool | None = None
    errors: list[Finding] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    request_seq: int | None = None  # for responses: the seq of their CALL
    original: str | None = None  # what the sender wrote, when a proxy rule changed it

    @property
    def type(self) -> FrameType:
        return self.frame.type

    @property
    def charge_point_id(self) -> str:
        return self.connection.charge_point_id


@dataclass(frozen=True, slots=True)
class ConnectionOpened:
    connection: ConnectionInfo


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    connection: ConnectionInfo


@dataclass(slots=True)
class FrameLogged:
    """A frame was observed (one per frame: not frozen, whose __init__ is 3x slower)."""

    record: FrameRecord


@dataclass(frozen=True, slots=True)
class CallUnanswered:
    """A CALL got no response within the timeout; `record` is the CALL's record."""

    record: FrameRecord
    flag: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A readable one-line message for the user (errors, role lifecycle)."""

    level: str  # "info", "warning", "error"
    text: str
    source: str = ""


class Hub:
    """Fan-out of events to subscribers; a failing subscriber never breaks the relay."""

    def __init__(self) -> None:
        # an immutable snapshot: publish (once per frame) iterates it without copying,
        # and a callback may (un)subscribe while being called
        self._subscribers: tuple[Callable[[object], None], ...] = ()
        self._seq = itertools.count(1)
        self._connection_ids = itertools.count(1)

    def subscribe(self, callback: Callable[[object], None]) -> Callable[[], None]:
        self._subscribers += (callback,)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                index = self._subscribers.index(callback)
                self._subscribers = self._subscribers[:index] + self._subscribers[index + 1:]
        return unsubscribe

    def publish(self, event: object) -> None:
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:  # a subscriber's bug must not stop frames flowing
                log.exception("event subscriber %r failed", callback)

    def next_seq(self) -> int:
        return next(self._seq)

    def new_connection(self, charge_point_id: str, role: str, **kwargs) -> ConnectionInfo:
        return ConnectionInfo(next(self._connection_ids), charge_point_id, role, **kwargs)

    def notice(self, level: str, text: str, source: str = "") -> None:
        self.publish(Notice(level, text, source))
