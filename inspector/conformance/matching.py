"""Which step a frame belongs to: the running case's state and its claims on incoming frames.

A CALL from the SUT is *claimed* when it arrives by the first unclaimed waiting step of
the current "window" (the running step plus the waiting steps right after it, once the
step before them has fired its trigger) that says it is its own (`Step.claim_call`: for
an `Expect`, action and `where` filter match). The claim fixes the answer at once, so the SUT is never
kept waiting by the step order; the step, when its turn comes, only judges the claim.
Connection openings and closings are claimed the same way by `Connect` and
`ExpectDisconnect` steps. Frames nobody claims are recorded on the running step.
A frame from the SUT that breaks OCPP-J or its schema (`frames.violation`) fails the step
that claimed it, or else the running step.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from ..codec import FrameType
from ..roles.csms import deep_merge
from ..rpc import Endpoint
from .cases import Case
from .context import Context, StepProblem
from .frames import closed_text, frame_entry, violation
from .results import CaseResult
from .steps import Expect
from .values import resolve

if TYPE_CHECKING:
    from .connections import SutConnections


@dataclass
class Claim:
    """A step's hold on something the SUT did, and (for a CALL) the answer already chosen."""

    record: object = None  # FrameRecord of the CALL (Expect) or None (connection events)
    endpoint: Endpoint | None = None
    payload: dict | None = None  # the answer we send
    error: tuple | None = None
    delay: float = 0.0
    problem: str | None = None  # the answer could not be built
    time: float = field(default_factory=time.time)


class CaseRun:
    """State of the running case: which step runs, claims, frames per step, violations."""

    def __init__(self, connections: SutConnections, case: Case, ctx: Context, result: CaseResult):
        self.connections = connections
        self.case = case
        self.steps = case.steps
        self.ctx = ctx
        self.result = result
        self.index = 0  # 0 = precondition (claims off), 1.. = case steps
        self.claims: dict[int, Claim] = {}
        self.claim_by_uid: dict[str, int] = {}
        self.send_owner: dict[str, int] = {}
        self.responses: dict[str, object] = {}
        self.response_log: list = []
        self.calls: list = []
        self.marks: dict[int, int] = {}
        self.violations: dict[int, list[str]] = defaultdict(list)
        self.changed = asyncio.Event()
        self.closed_unexpectedly: str | None = None
        # steps whose trigger has fired: the steps waiting after them may claim from then on
        # (a Send once its CALL is out, other steps when they start), so a message the SUT
        # sent before the trigger is never taken as its answer
        self.armed: set[int] = set()
        self.own_long_ids: set[str] = set()  # over-long unique ids the engine sent on purpose

    # ---- matching ------------------------------------------------------------------------

    def window(self, barrier: bool = True) -> list[int]:
        """Steps that may claim what arrives now: the running step (if it waits for the SUT)
        and the waiting steps right after it. With `barrier`, an unclaimed connection step
        ends the window: a frame cannot belong after a reconnection that has not happened."""
        if self.index <= 0:
            return []
        sut = self.case.sut
        i = self.index
        if not self.steps[i - 1].claims(sut):
            if i not in self.armed:
                return []
            i += 1
        out = []
        while i <= len(self.steps) and self.steps[i - 1].claims(sut):
            out.append(i)
            if barrier and self.steps[i - 1].barrier and i not in self.claims:
                break
            i += 1
        return out

    def _claim_call(self, record) -> int | None:
        current = self.connections.current
        if current is not None and record.connection.id != current.connection.id:
            return None  # a late frame of a connection the SUT has left belongs to no step
        for i in self.window():
            step = self.steps[i - 1]
            if i not in self.claims and step.claim_call(record, self):
                claim = Claim(record=record, time=record.time)
                if record.valid is not False and isinstance(step, Expect):
                    self._prepare_answer(step, claim)
                self.claims[i] = claim
                self.claim_by_uid[record.frame.unique_id] = i
                return i
        return None

    def _prepare_answer(self, step: Expect, claim: Claim) -> None:
        frame = claim.record.frame
        reply = step.reply
        try:
            default = self.connections.default_response(frame)
            if reply is None:
                claim.payload = default
                return
            claim.delay = float(resolve(reply.delay, self.ctx) or 0)
            if reply.error:
                claim.error = tuple(resolve(list(reply.error), self.ctx))
            elif reply.payload is not None:
                claim.payload = resolve(reply.payload, self.ctx)
            else:
                claim.payload = deep_merge(default, resolve(reply.merge or {}, self.ctx))
        except StepProblem as exc:
            claim.problem = f"cannot build the answer: {exc.reason}"
            claim.error = ("InternalError", "test case error")
        except Exception as exc:  # a case bug must not kill the connection
            claim.problem = f"cannot build the answer: {type(exc).__name__}: {exc}"
            claim.error = ("InternalError", "test case error")

    # ---- observation (called synchronously from the hub) ----------------------------------

    def on_record(self, record) -> None:
        incoming = record.direction == self.connections.incoming
        ftype = record.frame.type
        uid = record.frame.unique_id
        owner = None
        if incoming and ftype is FrameType.CALL:
            owner = self._claim_call(record)
            self.calls.append(record)
        elif not incoming and ftype in (FrameType.CALLRESULT, FrameType.CALLERROR):
            owner = self.claim_by_uid.get(uid)
        elif not incoming and ftype is FrameType.CALL:
            owner = self.send_owner.get(uid)
            if owner is not None:
                self.armed.add(owner)
        elif incoming and (ftype in (FrameType.CALLRESULT, FrameType.CALLERROR, FrameType.CALLRESULTERROR)
                           or (ftype is FrameType.MALFORMED
                               and record.frame.raw.lstrip().startswith(("[3", "[4")))):
            owner = self.send_owner.get(uid)
            if uid is not None:
                self.responses[uid] = record
            self.response_log.append(record)
        used = owner is not None
        if owner is None:
            owner = self.index
        self.result.steps[owner].frames.append(frame_entry(record, incoming, used))
        if incoming and not self.echoes_own_long_id(record):
            problem = violation(record)
            if problem:
                self.violations[owner].append(problem)
        self.changed.set()

    def on_open(self, endpoint: Endpoint) -> None:
        for i in self.window(barrier=False):
            if i not in self.claims and self.steps[i - 1].claim_open(endpoint):
                self.claims[i] = Claim(endpoint=endpoint)
                break
        self.changed.set()

    def on_close(self, endpoint: Endpoint, was_current: bool) -> None:
        claimed = False
        for i in self.window(barrier=False):
            if i not in self.claims and self.steps[i - 1].claim_close(endpoint, was_current):
                self.claims[i] = Claim(endpoint=endpoint)
                claimed = True
                break
        if was_current and not claimed:
            self.closed_unexpectedly = closed_text(endpoint.connection)
        self.changed.set()

    def echoes_own_long_id(self, record) -> bool:
        """A frame our codec flags only because it carries back an over-long unique id that
        the engine itself sent (RPC_01): the SUT is not to blame for our test input."""
        frame = record.frame
        return (frame.type is FrameType.MALFORMED and frame.unique_id in self.own_long_ids
                and (frame.reason or "").startswith("unique id of"))

    # ---- waiting -----------------------------------------------------------------------------

    async def wait(self, timeout: float) -> None:
        """Wait for any change (a frame, a connection event) or the timeout."""
        self.changed.clear()
        if timeout <= 0:
            return
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def wait_until(self, condition: Callable[[], bool], timeout: float,
                         poll: float | None = None) -> bool:
        """Wait until `condition()` holds (True) or `timeout` seconds pass (False).

        `poll` re-checks at least that often, for conditions that can change without a
        frame or connection event waking us."""
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self.wait(remaining if poll is None else min(remaining, poll))
        return True

    # ---- bookkeeping -------------------------------------------------------------------------

    def first_violation(self, index: int) -> str | None:
        """The first OCPP-J / schema violation recorded on step `index`, if any."""
        problems = self.violations.get(index)
        return problems[0] if problems else None

    def anchor(self, index: int) -> int:
        """Where in `calls` the window of step `index` began (start of the last action step)."""
        sut = self.case.sut
        i = index
        while i > 1 and self.steps[i - 2].claims(sut):
            i -= 1
        start = i - 1 if i > 1 else 0
        if start and not self.steps[start - 1].claims(sut):
            return self.marks.get(start, 0)
        return self.marks.get(i, 0)

    def mark_used(self, index: int, record) -> None:
        for entry in self.result.steps[index].frames:
            if entry.seq == record.seq:
                entry.used = True
