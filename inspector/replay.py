"""Record & replay: play a capture's charger side against a CSMS and diff its answers.

Each recorded connection (of one role's view: the proxy's, else the fake CSMS's, else the
fake charger's) is replayed on a connection of its own, charge points side by side and each
charge point's connections in order: the charger's CALLs go out again in order (at the
recorded pace times `speed`, or back to back), with fresh unique ids, date-times moved to now
and 1.6 transaction ids mapped to the ones the new CSMS hands out. Each answer is compared
with the recorded one field by field (replay_diff). Calls the CSMS makes are answered as the
charger answered them then, and compared with the recorded calls of the same action; a
recorded CSMS call that never comes, or one that was not recorded, is a difference too.

`replay --role csms` (CsmsReplay) is the other way round: it listens, answers a charger from
the capture's CSMS side and compares the charger's requests.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus

from . import defaults
from .codec import FrameType
from .events import TO_CHARGER, TO_CSMS
from .replay_diff import Difference, IdMap, Ignore, compare, shift_times
from .roles.common import end_websocket_connection, open_connection, remote_address
from .rpc import CallError, CallTimeout, Endpoint, NoReply
from .store import Capture
from .versions import SUBPROTOCOLS, version_of

ROLE_PREFERENCE = ("proxy", "csms", "charger", "suite")


class ReplayError(ValueError):
    """A capture or target that cannot be replayed (one line for the user)."""


@dataclass
class Recorded:
    """One recorded connection: its frames in order, and which response answered which CALL."""

    id: int
    charge_point_id: str
    subprotocol: str | None
    role: str
    frames: list[dict]
    answers: dict[int, dict] = field(default_factory=dict)  # CALL frame id -> its response

    def __post_init__(self):
        calls = {}
        for frame in self.frames:
            if frame["type"] == "CALL":
                calls[(frame["direction"], frame["unique_id"])] = frame
            elif frame["type"] in ("CALLRESULT", "CALLERROR"):
                request = frame.get("request_id")
                if request is None:  # a capture from before pairing was stored
                    other = TO_CHARGER if frame["direction"] == TO_CSMS else TO_CSMS
                    call = calls.pop((other, frame["unique_id"]), None)
                    request = call["id"] if call else None
                if request is not None:
                    self.answers.setdefault(request, frame)

    def calls(self, direction: str) -> list[dict]:
        return [f for f in self.frames if f["type"] == "CALL" and f["direction"] == direction]


def recorded_connections(path, charge_point: str | None = None) -> tuple[str, list[Recorded]]:
    """The connections to replay, in the order they opened, and the role whose view they are."""
    try:
        capture = Capture(path)
    except Exception as exc:  # noqa: BLE001 - not SQLite, missing: one line
        raise ReplayError(f"cannot read capture {path}: {exc}") from None
    try:
        connections = capture.connections()
        frames = list(capture.frames())
    finally:
        capture.close()
    roles = {c["role"] for c in connections}
    role = next((r for r in ROLE_PREFERENCE if r in roles), None)
    if role is None:
        raise ReplayError(f"capture {path} has no connection to replay")
    by_connection: dict[int, list[dict]] = {}
    for frame in frames:
        by_connection.setdefault(frame["connection_id"], []).append(frame)
    chosen = []
    for info in sorted(connections, key=lambda c: (c["opened_at"] or 0, c["id"])):
        if info["role"] != role or not by_connection.get(info["id"]):
            continue
        if charge_point and not fnmatch.fnmatchcase(info["charge_point_id"], charge_point):
            continue
        chosen.append(Recorded(info["id"], info["charge_point_id"], info["subprotocol"], role,
                               by_connection[info["id"]]))
    if not chosen:
        which = f" for charge point {charge_point}" if charge_point else ""
        raise ReplayError(f"capture {path} has no {role} connection with frames{which}")
    return role, chosen


@dataclass
class ConnectionResult:
    recorded: Recorded
    calls: int = 0  # requests compared
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None  # could not be replayed (connection refused, lost, ...)

    @property
    def name(self) -> str:
        return f"{self.recorded.charge_point_id} (recorded connection {self.recorded.id})"

    @property
    def passed(self) -> bool:
        return not self.differences and self.error is None


@dataclass
class ReplayResult:
    target: str
    role: str
    connections: list[ConnectionResult]
    seconds: float = 0.0

    @property
    def differences(self) -> list[Difference]:
        return [d for c in self.connections for d in c.differences]

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.connections)

    def summary(self) -> str:
        failed = [c for c in self.connections if c.error]
        return (f"{len(self.connections)} connection(s), {sum(c.calls for c in self.connections)}"
                f" exchange(s) compared, {len(self.differences)} difference(s)"
                + (f", {len(failed)} could not be replayed" if failed else "")
                + f" in {self.seconds:.1f} s")


class Exchange:
    """What one connection's replay shares with its handler of CSMS calls."""

    def __init__(self, recorded: Recorded, ignore: Ignore):
        self.recorded, self.ignore = recorded, ignore
        self.ids = IdMap()
        self.offset = timedelta(0)
        self.result = ConnectionResult(recorded)
        self.pending: dict[str, deque] = {}  # action -> recorded CSMS calls not yet seen
        for call in recorded.calls(TO_CHARGER):
            self.pending.setdefault(call["action"], deque()).append(call)
        self.all_seen = asyncio.Event()
        if not self.pending:
            self.all_seen.set()

    def where(self, frame: dict, what: str) -> str:
        return f"{self.recorded.charge_point_id} #{frame['id']} {frame['action']} {what}"

    def prepared(self, payload):
        """A recorded payload as it goes out now: times moved, ids mapped."""
        return self.ids.forward(shift_times(payload, self.offset))

    def differ(self, differences) -> None:
        self.result.differences.extend(differences)

    def answer_as_then(self, call: dict, received, what: str) -> dict:
        """A call received now, compared with the recorded `call`; answered as it was then
        (the recorded answer prepared for now, its CALLERROR, or no answer)."""
        self.result.calls += 1
        self.differ(compare(payload_of(call), self.ids.back(received), self.where(call, what),
                            self.ignore))
        answer = self.recorded.answers.get(call["id"])
        if answer is None:
            raise NoReply()
        if answer["type"] == "CALLERROR":
            _, _, code, description, *details = json.loads(answer["raw"])
            raise CallError(code, description, details[0] if details else None)
        return self.prepared(payload_of(answer))


def payload_of(frame: dict):
    message = json.loads(frame["raw"])
    return message[-1] if frame["type"] in ("CALL", "CALLRESULT") else None


def compare_answers(exchange: Exchange, call: dict, recorded: dict | None, answer) -> None:
    """The answer the replay got (a Frame, or None when none came) against the recorded one."""
    where = exchange.where(call, "answer")
    if recorded is None or answer is None:
        if (recorded is None) != (answer is None):
            exchange.differ([Difference(where, "$", "no answer" if recorded is None
                                        else recorded["type"],
                                        "no answer" if answer is None else answer.type.value)])
        return
    if recorded["type"] != answer.type.value:
        exchange.differ([Difference(where, "$", _describe(recorded), _describe_frame(answer))])
        return
    if answer.type is FrameType.CALLERROR:
        code = json.loads(recorded["raw"])[2]
        if code != answer.error_code:
            exchange.differ([Difference(where, "$.errorCode", code, answer.error_code)])
        return
    payload = payload_of(recorded)
    exchange.ids.learn(payload, answer.payload)
    exchange.differ(compare(payload, exchange.ids.back(answer.payload), where, exchange.ignore))


def _describe(frame: dict) -> str:
    if frame["type"] == "CALLERROR":
        return f"CALLERROR {json.loads(frame['raw'])[2]}"
    return frame["type"]


def _describe_frame(frame) -> str:
    return f"CALLERROR {frame.error_code}" if frame.type is FrameType.CALLERROR else frame.type.value


class ChargerReplay:
    """Plays the recorded chargers against `target` (a CSMS base URL)."""

    def __init__(self, hub, path, target: str, *, charge_point: str | None = None,
                 speed: float | None = 1.0, ignore=(), timeout: float = 30.0,
                 wait_after: float = 5.0):
        self.hub, self.target = hub, target.rstrip("/")
        self.role, self.recorded = recorded_connections(path, charge_point)
        self.speed, self.timeout, self.wait_after = speed, timeout, wait_after
        self.ignore = Ignore(ignore)

    async def run(self) -> ReplayResult:
        started = time.monotonic()
        by_charge_point: dict[str, list[Recorded]] = {}
        for recorded in self.recorded:
            by_charge_point.setdefault(recorded.charge_point_id, []).append(recorded)
        results = await asyncio.gather(*(self._charge_point(conns)
                                         for conns in by_charge_point.values()))
        order = {r.id: i for i, r in enumerate(self.recorded)}
        connections = sorted((c for group in results for c in group),
                             key=lambda c: order[c.recorded.id])
        return ReplayResult(self.target, self.role, connections, time.monotonic() - started)

    async def _charge_point(self, connections: list[Recorded]) -> list[ConnectionResult]:
        return [await self._connection(recorded) for recorded in connections]

    async def _connection(self, recorded: Recorded) -> ConnectionResult:
        exchange = Exchange(recorded, self.ignore)
        version = version_of(recorded.subprotocol)
        if version is None:
            exchange.result.error = (f"recorded without an OCPP subprotocol "
                                     f"({recorded.subprotocol!r}): cannot tell its version")
            return exchange.result
        url = f"{self.target}/{recorded.charge_point_id}"
        try:
            websocket = await connect(url, subprotocols=[SUBPROTOCOLS[version]],
                                      open_timeout=self.timeout, ping_interval=None)
        except (InvalidStatus, InvalidHandshake, OSError, asyncio.TimeoutError) as exc:
            exchange.result.error = f"cannot connect to {url}: {_reason(exc)}"
            self.hub.notice("error", f"replay {recorded.charge_point_id}: "
                                     f"{exchange.result.error}", "replay")
            return exchange.result
        monitor = open_connection(self.hub, recorded.charge_point_id, "replay",
                                  subprotocol=websocket.subprotocol, version=version,
                                  remote_address=remote_address(websocket),
                                  call_timeout=self.timeout)
        endpoint = Endpoint(websocket, monitor, self.hub, side="charger",
                            handler=lambda frame: self._answer(exchange, frame),
                            response_timeout=self.timeout)
        receiving = asyncio.create_task(endpoint.run())
        try:
            await self._play(exchange, endpoint)
            if not exchange.all_seen.is_set():  # the CSMS may still make its recorded calls
                try:
                    await asyncio.wait_for(exchange.all_seen.wait(), self.wait_after)
                except asyncio.TimeoutError:
                    pass
        except ConnectionError as exc:
            exchange.result.error = f"the CSMS closed the connection: {exc}"
        finally:
            await endpoint.close()
            await asyncio.wait({receiving}, timeout=5)
            end_websocket_connection(self.hub, monitor.connection, websocket)
        for action, calls in exchange.pending.items():
            for call in calls:
                exchange.differ([Difference(exchange.where(call, "call from the CSMS"), "$",
                                            "sent", "never sent")])
        return exchange.result

    async def _play(self, exchange: Exchange, endpoint: Endpoint) -> None:
        calls = exchange.recorded.calls(TO_CSMS)
        first = seconds_of(exchange.recorded.frames[0])
        exchange.offset = timedelta(seconds=time.time() - first)
        began = time.monotonic()
        for call in calls:
            if self.speed:
                due = began + (seconds_of(call) - first) / self.speed
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            payload = exchange.prepared(payload_of(call))
            try:
                answer = await endpoint.call(call["action"], payload)
            except CallTimeout:
                answer = None
            exchange.result.calls += 1
            compare_answers(exchange, call, exchange.recorded.answers.get(call["id"]), answer)

    async def _answer(self, exchange: Exchange, frame) -> dict:
        """A call from the CSMS: compared with the next recorded one of its action, answered
        as the charger answered that one."""
        queue = exchange.pending.get(frame.action)
        if not queue:
            exchange.differ([Difference(f"{exchange.recorded.charge_point_id} "
                                        f"{frame.action} call from the CSMS", "$",
                                        "not sent", frame.payload)])
            return defaults.default_response(version_of(exchange.recorded.subprotocol),
                                             frame.action, frame.payload)
        call = queue.popleft()
        if not queue:
            del exchange.pending[frame.action]
        if not exchange.pending:
            exchange.all_seen.set()
        return exchange.answer_as_then(call, frame.payload, "call from the CSMS")


def seconds_of(frame: dict) -> float:
    """A frame's time as the capture's export writes it (ISO 8601, UTC), in epoch seconds."""
    return datetime.fromisoformat(frame["time"].replace("Z", "+00:00")).timestamp()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


__all__ = ["ChargerReplay", "ReplayResult", "ConnectionResult", "ReplayError", "Recorded",
           "recorded_connections"]
