"""The step kinds a case is made of, and the replies an `Expect` step gives the SUT.

A step is data (what a case author writes) and owns its behaviour: `run(env, run, index)`
performs it against the SUT through a `StepEnv` and returns `(verdict, reason)` (or
raises `StepProblem`); the reason is what a tester reads, so it says what was expected
and what came instead ("expected StatusNotification with connectorId 1, status Charging
within 30 s, got Preparing"). Steps that wait for the SUT (`claims`) may claim what
arrives before their turn: `claim_call`, `claim_open` and `claim_close` say whether a
CALL, a new connection or a closed one is theirs (see `matching.py`); they then only
judge their claim when their turn comes, so the order in which the SUT sends things does
not matter within a window. A new step kind is one subclass of `Step`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from websockets.exceptions import ConnectionClosed

from .. import codec, defaults
from ..codec import MAX_UNIQUE_ID_LENGTH, FrameType
from ..rpc import new_unique_id
from ..versions import SUBPROTOCOLS
from .checks import where_matches, where_text, where_value_matches
from .context import StepProblem, resolve_or_missing
from .events import PromptDismissed, PromptRequest, PromptRequested
from .frames import closed_text, count_actions, value_text, violation
from .terms import CHARGER, CSMS, Verdict
from .values import get_path, resolve, shorten, show, show_json

if TYPE_CHECKING:
    from .matching import CaseRun
    from .step_env import StepEnv

Outcome = tuple[Verdict, str]


# ---- replies to the SUT's CALLs ----------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """How the engine answers a SUT CALL that a step expects.

    `merge` is deep-merged over the schema-valid default response; `payload` replaces it;
    `error` answers with a CALLERROR (code, description); `delay` holds the answer back.
    """

    merge: dict | None = None
    payload: Any = None
    error: tuple[str, str] | None = None
    delay: Any = 0

    def describe(self) -> str:
        if self.error:
            return f"answer CALLERROR {self.error[0]}"
        body = self.payload if self.payload is not None else self.merge
        text = f"answer {show(body)}" if body else "answer with the default response"
        if self.delay:
            text += f" after {show(self.delay)} s"
        return text


def answer(_delay: Any = 0, **fields) -> Reply:
    """Default response with these fields merged in: answer(status="Pending", interval=V("i"))."""
    return Reply(merge=fields or None, delay=_delay)


def answer_exactly(payload: Any) -> Reply:
    return Reply(payload=payload)


def answer_error(code: str, description: str = "") -> Reply:
    return Reply(error=(code, description))


# ---- steps -------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class Step:
    title: str | None = None
    timeout: Any = None  # seconds, a Placeholder, or None for the run's step timeout

    kind: ClassVar[str] = "step"
    # whether the steps waiting after this one may claim the SUT's messages from the moment
    # it starts; False for a step whose trigger comes later (a Send arms when its CALL is out)
    arms_at_start: ClassVar[bool] = True
    # an unclaimed barrier closes the claiming window: nothing can belong after a
    # (re)connection or a disconnection that has not happened yet
    barrier: ClassVar[bool] = False

    def claims(self, sut: str) -> bool:
        """Whether this step waits for something the SUT does (and can claim it early)."""
        return False

    def claim_call(self, record, run: CaseRun) -> bool:
        """Whether this (waiting) step takes the SUT's CALL `record` as its own."""
        return False

    def claim_open(self, endpoint) -> bool:
        return False

    def claim_close(self, endpoint, was_current: bool) -> bool:
        return False

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        return Verdict.ERROR, f"step kind {type(self).__name__} does not say how it runs"

    def describe(self) -> str:
        return self.title or self.auto_title()

    def auto_title(self) -> str:
        return self.kind


# ---- the SUT calls us --------------------------------------------------------------------------

@dataclass
class Expect(Step):
    """Expect a CALL of `action` from the SUT (matching `where`), check it, answer it."""

    action: str
    where: dict = field(default_factory=dict)
    checks: Sequence = ()
    reply: Reply | None = None
    save: dict = field(default_factory=dict)  # var -> "request.path" / "response.path"
    save_time: str | None = None

    kind: ClassVar[str] = "expect"

    def claims(self, sut: str) -> bool:
        return True

    def claim_call(self, record, run: CaseRun) -> bool:
        # a schema-invalid CALL is claimed by action alone, so the step that expected it
        # fails with the schema finding instead of timing out
        if record.action != self.action:
            return False
        if record.valid is False:
            return True
        try:
            return where_matches(self.where, record.frame.payload, run.ctx)
        except StepProblem:  # a filter on a variable not saved yet matches nothing
            return False

    def auto_title(self) -> str:
        text = f"expect {self.action}{where_text(self.where)}"
        if self.checks:
            text += "; check " + ", ".join(c.describe() for c in self.checks)
        if self.reply:
            text += "; " + self.reply.describe()
        return text

    def expectation(self) -> str:
        return f"{self.action}{where_text(self.where)}"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        timeout = env.timeout(self, run.ctx)
        deadline = time.monotonic() + timeout
        while index not in run.claims:
            problem = run.first_violation(index)
            if problem:
                return Verdict.FAIL, problem
            if env.sut == CSMS and env.current is None:
                return Verdict.FAIL, (f"the connection to the CSMS closed while waiting for "
                                      f"{run.ctx.fill(self.expectation())}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, self._timeout_reason(env, run, index, timeout)
            await run.wait(remaining)
        claim = run.claims[index]
        record = claim.record
        problem = violation(record)
        if problem:
            return Verdict.FAIL, problem
        if claim.problem:
            return Verdict.ERROR, claim.problem
        payload = record.frame.payload
        judged = env.judge_checks(run, self.checks, payload, record, self.action)
        if judged is not None:
            return judged
        env.save(run, self.save, request=payload, response=claim.payload, default="request",
                 action=self.action)
        if self.save_time:
            run.ctx.vars[self.save_time] = record.time
        reason = f"got {self.action}"
        if self.where:
            reason += " with " + ", ".join(f"{k.split('.')[-1]} {value_text(get_path(payload, k))}"
                                           for k in self.where)
        if claim.error:
            reason += f"; answered CALLERROR {claim.error[0]}"
        elif self.reply is not None and claim.payload is not None:
            reason += f"; answered {shorten(show_json(claim.payload), 100)}"
        return Verdict.PASS, reason

    def _timeout_reason(self, env: StepEnv, run: CaseRun, index: int, timeout: float) -> str:
        """What came instead: the same action with other values, or which other CALLs."""
        anchor = run.anchor(index)
        claimed = set(run.claim_by_uid)
        same = [r for r in run.calls[anchor:] if r.action == self.action
                and r.frame.unique_id not in claimed]
        text = f"expected {run.ctx.fill(self.expectation())} within {timeout:g} s, got "
        if same:
            if self.where:
                mismatched = []
                for r in same:
                    keys = [k for k, v in self.where.items()
                            if not where_value_matches(get_path(r.frame.payload, k),
                                                       resolve_or_missing(v, run.ctx))]
                    mismatched.append((r, keys or list(self.where)))
                single = {tuple(keys) for _, keys in mismatched}
                # one differing field: "got Preparing, then Available" reads best
                if len(single) == 1 and len(next(iter(single))) == 1:
                    key = next(iter(single))[0]
                    got = [value_text(get_path(r.frame.payload, key)) for r, _ in mismatched]
                else:
                    got = [", ".join(f"{k.split('.')[-1]} {value_text(get_path(r.frame.payload, k))}"
                                     for k in keys) for r, keys in mismatched]
                if len(got) > 5:
                    got = got[:5] + [f"{len(got) - 5} more"]
                text += ", then ".join(got)
            else:
                text += f"{len(same)} {self.action} already used by other steps"
        else:
            others = [r.action for r in run.calls[anchor:] if r.frame.unique_id not in claimed]
            if len(others) > 3:
                text += f"none (the SUT sent {len(others)} other CALLs: {count_actions(others)})"
            else:
                text += f"none (the SUT sent {', '.join(others)})" if others else "nothing"
        if run.closed_unexpectedly and env.current is None:
            text += f"; {run.closed_unexpectedly}"
        return text


@dataclass
class ExpectNone(Step):
    """The SUT must not send a matching CALL for `seconds` (negative step)."""

    action: str | None = None
    seconds: Any = 5.0
    where: dict = field(default_factory=dict)
    exclude: Sequence[str] = ()

    kind: ClassVar[str] = "expect_none"

    def auto_title(self) -> str:
        what = self.action or "any CALL"
        if self.exclude:
            what += " other than " + ", ".join(self.exclude)
        return f"expect no {what}{where_text(self.where)} for {show(self.seconds)} s"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        seconds = float(resolve(self.seconds, run.ctx))
        anchor = run.anchor(index)
        deadline = time.monotonic() + seconds
        exclude = set(self.exclude)
        what = self.action or "CALL"
        while True:
            for record in run.calls[anchor:]:
                if record.frame.unique_id in run.claim_by_uid:
                    continue
                if self.action is not None and record.action != self.action:
                    continue
                if record.action in exclude:
                    continue
                if self.where and not where_matches(self.where, record.frame.payload, run.ctx):
                    continue
                run.mark_used(index, record)
                return Verdict.FAIL, (f"the SUT sent {record.action} "
                                      f"{shorten(show_json(record.frame.payload), 100)}, but it must "
                                      f"not send {what} here")
            problem = run.first_violation(index)
            if problem:
                return Verdict.FAIL, problem
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.PASS, f"no {what} for {seconds:g} s, as required"
            await run.wait(remaining)


# ---- we call the SUT ---------------------------------------------------------------------------

@dataclass
class Send(Step):
    """Send a CALL to the SUT and check its answer (a CALLRESULT unless `expect_error`)."""

    action: str
    payload: Any = None  # None: a schema-valid template
    checks: Sequence = ()
    expect_error: Sequence[str] | None = None
    save: dict = field(default_factory=dict)  # var -> "response.path" / "request.path"
    unique_id: Any = None

    kind: ClassVar[str] = "send"
    arms_at_start: ClassVar[bool] = False

    def auto_title(self) -> str:
        text = f"send {self.action}"
        if isinstance(self.payload, dict) and self.payload:
            text += " " + show(self.payload)
        if self.expect_error:
            text += f"; expect CALLERROR {' or '.join(self.expect_error)}"
        if self.checks:
            text += "; check " + ", ".join(c.describe() for c in self.checks)
        return text

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        endpoint = env.require_endpoint(self.action)
        ctx = run.ctx
        if self.payload is None:
            payload = defaults.request_template(env.version, self.action,
                                                now=datetime.now(timezone.utc))
        else:
            payload = resolve(self.payload, ctx)
        unique_id = str(resolve(self.unique_id, ctx)) if self.unique_id is not None else new_unique_id()
        run.send_owner[unique_id] = index
        timeout = env.timeout(self, ctx)
        answers_before = len(run.response_log)
        try:
            frame = await env.call_sut(endpoint, self.action, payload, timeout, unique_id=unique_id)
        except StepProblem as problem:
            # an answer that came back under another id is why "no response": say so
            strays = [r.frame.unique_id for r in run.response_log[answers_before:]
                      if r.frame.unique_id != unique_id]
            if strays and problem.verdict is Verdict.FAIL:
                raise StepProblem(Verdict.FAIL, f"{problem.reason}; the SUT answered with id "
                                                f"{shorten(str(strays[0]), 60)!r} instead of "
                                                f"{unique_id!r}") from None
            raise
        problem = run.first_violation(index)
        if problem:
            return Verdict.FAIL, problem
        codes = list(self.expect_error or ())
        if frame.type is FrameType.CALLERROR:
            if codes and frame.error_code in codes:
                return Verdict.PASS, f"{self.action} answered with CALLERROR {frame.error_code}"
            wanted = f", expected {' or '.join(codes)}" if codes else ""
            return Verdict.FAIL, (f"the SUT answered {self.action} with CALLERROR {frame.error_code}"
                                  f" ({shorten(frame.error_description or '', 100)!r}){wanted}")
        if codes:
            return Verdict.FAIL, (f"expected CALLERROR {' or '.join(codes)} to {self.action}, got "
                                  f"CALLRESULT {shorten(show_json(frame.payload), 100)}")
        judged = env.judge_checks(run, self.checks, frame.payload, run.responses.get(unique_id),
                                  f"{self.action} response")
        if judged is not None:
            return judged
        env.save(run, self.save, request=payload, response=frame.payload, default="response",
                 action=self.action)
        return Verdict.PASS, f"{self.action} answered {shorten(show_json(frame.payload), 120)}"


@dataclass
class SendRaw(Step):
    """Send raw text (malformed on purpose) and expect a CALLERROR with one of `codes`."""

    text: Any
    codes: Sequence[str] = ()
    ids: Sequence[Any] | None = None  # unique ids the CALLERROR may carry (None: any)
    # the SUT may also process the frame and answer with a CALLRESULT (e.g. an over-long id,
    # which binds the sender: a receiver may refuse it or process the call)
    result_ok: bool = False

    kind: ClassVar[str] = "send_raw"

    def auto_title(self) -> str:
        raw = shorten(str(self.text), 60)
        return f"send raw {raw!r}; expect CALLERROR {' or '.join(self.codes)}"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        endpoint = env.require_endpoint("a raw frame")
        ctx = run.ctx
        text = resolve(self.text, ctx)
        ids = None if self.ids is None else [str(resolve(i, ctx)) for i in self.ids]
        run.own_long_ids.update(i for i in ids or () if len(i) > MAX_UNIQUE_ID_LENGTH)
        start = len(run.response_log)
        try:
            await endpoint.send_frame(text)
        except ConnectionClosed:
            return Verdict.FAIL, "the connection closed before the frame could be sent"
        timeout = env.timeout(self, ctx)
        deadline = time.monotonic() + timeout
        codes = list(self.codes)
        wanted = f"CALLERROR {' or '.join(codes)}" if codes else "a CALLERROR"
        if self.result_ok:
            wanted += " or a CALLRESULT"
        while True:
            found = next((r for r in run.response_log[start:]
                          if ids is None or r.frame.unique_id in ids), None)
            if found is not None:
                break
            if env.current is None:
                return Verdict.FAIL, f"the SUT closed the connection instead of answering with {wanted}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, f"no answer within {timeout:g} s, expected {wanted}"
            await run.wait(remaining)
        run.mark_used(index, found)
        frame = found.frame
        if run.echoes_own_long_id(found):
            # the SUT echoed the over-long id we sent: read its answer as if the id were legal
            frame = codec.parse(frame.raw, id_limit=None)
        if frame.type is FrameType.MALFORMED:
            return Verdict.FAIL, f"the SUT answered with a malformed frame ({frame.reason})"
        if frame.type is FrameType.CALLRESULT and self.result_ok:
            return Verdict.PASS, (f"the SUT processed the frame: CALLRESULT with id "
                                  f"{frame.unique_id!r}")
        if frame.type is not FrameType.CALLERROR:
            return Verdict.FAIL, (f"the SUT answered with {frame.type.value} "
                                  f"{shorten(frame.raw, 100)}, expected {wanted}")
        if codes and frame.error_code not in codes:
            return Verdict.FAIL, (f"the SUT answered CALLERROR {frame.error_code}, expected "
                                  f"{' or '.join(codes)}")
        description = (f" ({shorten(frame.error_description, 80)!r})"
                       if frame.error_description else "")
        return Verdict.PASS, f"CALLERROR {frame.error_code} with id {frame.unique_id!r}{description}"


# ---- time and the operator ---------------------------------------------------------------------

@dataclass
class Wait(Step):
    seconds: Any = 1.0

    kind: ClassVar[str] = "wait"

    def auto_title(self) -> str:
        return f"wait {show(self.seconds)} s"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        seconds = float(resolve(self.seconds, run.ctx))
        await asyncio.sleep(seconds)
        return Verdict.PASS, f"waited {seconds:g} s"


@dataclass
class Prompt(Step):
    """Ask the operator to act on the SUT; a simulated SUT performs `action` instead.

    An observable prompt (the next step waits for the SUT) ends as soon as that step
    claims what it waits for: no key press needed. Without an operator (a non-interactive
    run) an unobservable prompt is inconclusive at once and an observable one waits for
    its effect; both are bounded by the operator timeout, never a hang."""

    text: str
    action: str | None = None
    args: dict = field(default_factory=dict)

    kind: ClassVar[str] = "prompt"

    def auto_title(self) -> str:
        return f"operator: {self.text}"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        ctx = run.ctx
        observer, observe = self._observation(env, run, index)
        timeout = env.timeout(self, ctx, env.options.operator_timeout)
        text = ctx.format(self.text)
        simulated = env.simulator is not None
        request = PromptRequest(run.case.id, run.case.title, index, text, self.action,
                                resolve(self.args, ctx) or {}, observe=observe,
                                timeout=None if simulated else timeout)
        if self.title is None:
            run.result.steps[index].title = f"operator: {request.text}"
        env.publish(PromptRequested(request))
        if simulated:
            return _prompt_verdict(await env.simulator.answer_prompt(request))

        def observed() -> bool:
            return observer is not None and observer in run.claims

        def seen() -> Outcome:
            env.publish(PromptDismissed(run.case.id, index, f"observed: {observe}"))
            return Verdict.PASS, f"observed: {observe}"

        if env.prompt is None:
            if observer is None:
                return Verdict.INCONCLUSIVE, f"needs an operator: {text} (non-interactive run)"
            if await run.wait_until(observed, timeout):
                return seen()
            env.publish(PromptDismissed(run.case.id, index, "timed out"))
            return Verdict.INCONCLUSIVE, (f"needs an operator: {text} (non-interactive run; "
                                          f"waited {timeout:g} s for {observe})")
        ask = asyncio.ensure_future(env.prompt(request))
        watch = asyncio.ensure_future(run.wait_until(observed, timeout)) if observer else None
        try:
            await asyncio.wait({t for t in (ask, watch) if t is not None}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ask, watch):
                if task is not None and not task.done():
                    task.cancel()
        if ask.done() and not ask.cancelled():
            if ask.exception() is not None:
                raise ask.exception()
            return _prompt_verdict(ask.result())
        if observed():
            return seen()
        env.publish(PromptDismissed(run.case.id, index, "timed out"))
        waited = f" and {observe} was not observed" if observer else ""
        return Verdict.INCONCLUSIVE, f"no answer from the operator within {timeout:g} s{waited}"

    @staticmethod
    def _observation(env: StepEnv, run: CaseRun, index: int) -> tuple[int | None, str]:
        """The step right after the prompt that shows the operator's action was done, and
        what it watches for in words: (None, "") when the action leaves no visible trace."""
        if index >= len(run.steps):
            return None, ""
        after = run.steps[index]  # step index + 1 (steps are 1-based, the list 0-based)
        if not after.claims(env.sut):
            return None, ""
        if isinstance(after, Connect):
            return index + 1, f"the charger connecting to {env.connections.endpoint}"
        if isinstance(after, ExpectDisconnect):
            return index + 1, "the SUT closing the connection"
        if isinstance(after, Expect):
            return index + 1, f"the SUT sending {run.ctx.fill(after.expectation())}"
        return index + 1, f"step {index + 1} ({after.describe()})"


def _prompt_verdict(reply) -> Outcome:
    if reply.ok:
        return Verdict.PASS, reply.note or "operator confirmed"
    if reply.skipped:
        return Verdict.INCONCLUSIVE, f"operator skipped: {reply.note or 'no reason given'}"
    return Verdict.FAIL, f"operator reported a failure: {reply.note or 'no reason given'}"


# ---- connections -------------------------------------------------------------------------------

@dataclass
class Connect(Step):
    """SUT charger: wait for the charger to (re)connect. SUT CSMS: open a new connection."""

    kind: ClassVar[str] = "connect"
    barrier: ClassVar[bool] = True

    def claims(self, sut: str) -> bool:
        return sut == CHARGER

    def claim_open(self, endpoint) -> bool:
        return True

    def auto_title(self) -> str:
        return "connection opened"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        links = env.connections
        if env.sut == CSMS:
            endpoint = await links.open_client()
            return Verdict.PASS, f"connected to {links.target} with {endpoint.ws.subprotocol}"
        timeout = env.timeout(self, run.ctx, env.options.connect_timeout)
        if not await run.wait_until(lambda: index in run.claims, timeout):
            links.waited_in_vain = True
            extra = f" ({links.rejected[-1]})" if links.rejected else ""
            return Verdict.FAIL, (f"the charger did not connect to {links.endpoint} within "
                                  f"{timeout:g} s{extra}")
        info = run.claims[index].endpoint.connection
        return Verdict.PASS, f"charger {info.charge_point_id} connected with {info.subprotocol}"


@dataclass
class Disconnect(Step):
    kind: ClassVar[str] = "disconnect"

    def auto_title(self) -> str:
        return "close the connection"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        if env.current is None:
            return Verdict.PASS, "the connection was already closed"
        await env.connections.close_endpoint(env.current)
        return Verdict.PASS, "connection closed"


@dataclass
class NetworkDown(Step):
    """SUT charger: the network goes. The test system cuts the connection as a lost link
    does (no close frame) and refuses the charger's reconnections until `NetworkUp`: what the
    charger does meanwhile (a transaction, a card) it must keep and deliver later."""

    kind: ClassVar[str] = "network_down"

    def auto_title(self) -> str:
        return "the network goes: the connection is cut and reconnections are refused"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        if env.sut != CHARGER:
            return Verdict.ERROR, "a network outage is simulated for a charger SUT only"
        links = env.connections
        links.network_down = True
        if env.current is None:
            return Verdict.PASS, "no connection to cut; reconnections are refused"
        await links.cut(env.current)
        return Verdict.PASS, "connection cut (no close frame); reconnections are refused"


@dataclass
class NetworkUp(Step):
    """SUT charger: the network is back; the charger may reconnect (a `Connect` waits)."""

    kind: ClassVar[str] = "network_up"

    def auto_title(self) -> str:
        return "the network is back: reconnections are accepted"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        if env.simulator is not None:  # what the simulator was asked to do offline is done
            await env.simulator.settle(env.timeout(self, run.ctx))
        env.connections.network_down = False
        return Verdict.PASS, "reconnections are accepted again"


@dataclass
class ExpectDisconnect(Step):
    kind: ClassVar[str] = "expect_disconnect"
    barrier: ClassVar[bool] = True

    def claims(self, sut: str) -> bool:
        return True

    def claim_close(self, endpoint, was_current: bool) -> bool:
        return was_current

    def auto_title(self) -> str:
        return "the SUT closes the connection"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        timeout = env.timeout(self, run.ctx)
        if not await run.wait_until(lambda: index in run.claims, timeout):
            return Verdict.FAIL, f"the SUT did not close the connection within {timeout:g} s"
        return Verdict.PASS, closed_text(run.claims[index].endpoint.connection)


# ---- security and the opening handshake ----------------------------------------------------------

@dataclass
class Handshake(Step):
    """SUT csms: open a WebSocket to the CSMS with these subprotocols and credentials and
    judge its answer. `credentials`: "run" (the run's --password), "none" (no
    Authorization header) or "wrong" (a password the CSMS cannot know). `expect`:
    "accepted" (101 with our version's subprotocol), "refused_401" (HTTP 401, as OCPP asks
    for bad credentials) or "refused" (any refusal: an HTTP error, or, as OCPP-J asks when no
    offered subprotocol is supported, a handshake without a subprotocol that the CSMS then
    closes). With `keep`, an accepted connection is the one later steps use."""

    subprotocols: Sequence[str] | None = None  # None: the run's version
    credentials: str = "run"
    expect: str = "accepted"
    keep: bool = False

    kind: ClassVar[str] = "handshake"
    WRONG_PASSWORD: ClassVar[str] = "ocpp-inspector-wrong-password-0123456789"

    def auto_title(self) -> str:
        offer = ", ".join(self.subprotocols) if self.subprotocols else "the version's subprotocol"
        creds = {"run": "the station's password", "none": "no credentials",
                 "wrong": "a wrong password"}[self.credentials]
        return f"open a WebSocket offering {offer} with {creds}; expect {self.expect.replace('_', ' ')}"

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        links = env.connections
        if self.keep and env.current is not None:
            await links.close_endpoint(env.current)
        password = {"run": env.options.password, "none": None,
                    "wrong": self.WRONG_PASSWORD}[self.credentials]
        wanted = SUBPROTOCOLS[env.version]
        outcome = await links.handshake(self.subprotocols, password)
        if outcome.websocket is None and outcome.status is None:
            return Verdict.FAIL, outcome.problem
        if self.expect == "accepted":
            if outcome.status is not None:
                return Verdict.FAIL, f"the CSMS refused the upgrade with HTTP {outcome.status}"
            if outcome.subprotocol != wanted:
                await outcome.websocket.close(1002, "subprotocol not accepted")
                return Verdict.FAIL, (f"the CSMS chose subprotocol {outcome.subprotocol or 'none'}, "
                                      f"expected {wanted}")
            if self.keep:
                links.adopt(outcome.websocket)
            else:
                await outcome.websocket.close()
            return Verdict.PASS, f"accepted with subprotocol {wanted}"
        if outcome.status is not None:
            if self.expect == "refused_401" and outcome.status != 401:
                return Verdict.FAIL, f"the CSMS refused with HTTP {outcome.status}, expected 401"
            return Verdict.PASS, f"refused with HTTP {outcome.status}"
        websocket = outcome.websocket
        if self.expect == "refused_401":
            await websocket.close()
            return Verdict.FAIL, (f"the CSMS accepted the connection (subprotocol "
                                  f"{outcome.subprotocol or 'none'}), expected HTTP 401")
        offered = list(self.subprotocols or [wanted])
        if outcome.subprotocol is not None:
            await websocket.close()
            return Verdict.FAIL, (f"the CSMS accepted subprotocol {outcome.subprotocol} for an offer "
                                  f"of {', '.join(offered)}; it must refuse or answer without one")
        timeout = env.timeout(self, run.ctx)
        try:
            await asyncio.wait_for(websocket.wait_closed(), timeout)
        except asyncio.TimeoutError:
            await websocket.close()
            return Verdict.FAIL, (f"the CSMS answered without a subprotocol but did not close the "
                                  f"connection within {timeout:g} s")
        return Verdict.PASS, "the CSMS answered without a subprotocol and closed the connection"


@dataclass
class CheckSecurity(Step):
    """SUT charger: what the current connection's opening showed. `tls`: wss:// with TLS 1.2
    or later; `client_cert`: a client certificate whose common name is the charge point id
    (profile 3); `basic_auth`: HTTP Basic credentials whose user is the charge point id and
    whose password the listener accepted (profiles 1 and 2)."""

    tls: bool = False
    client_cert: bool = False
    basic_auth: bool = False

    kind: ClassVar[str] = "check_security"

    def auto_title(self) -> str:
        wanted = [what for what, on in (("TLS 1.2 or later", self.tls),
                                        ("a client certificate for the charge point id",
                                         self.client_cert),
                                        ("HTTP Basic auth as the charge point id", self.basic_auth))
                  if on]
        return "the connection uses " + " and ".join(wanted)

    async def run(self, env: StepEnv, run: CaseRun, index: int) -> Outcome:
        endpoint = env.current
        if endpoint is None:
            return Verdict.FAIL, "the charger is not connected"
        info = endpoint.connection
        facts = env.connections.security.get(info.id)
        if facts is None:
            return Verdict.ERROR, "no handshake facts for this connection"
        problems, seen = [], []
        if self.tls:
            if facts.tls_version is None:
                problems.append("the connection is not TLS (ws://)")
            elif facts.tls_version not in ("TLSv1.2", "TLSv1.3"):
                problems.append(f"{facts.tls_version} is older than TLS 1.2")
            else:
                seen.append(facts.tls_version)
        if self.client_cert:
            if facts.client_cn is None:
                problems.append("no client certificate")
            elif facts.client_cn != info.charge_point_id:
                problems.append(f"client certificate CN {facts.client_cn!r} is not the charge point "
                                f"id {info.charge_point_id!r}")
            else:
                seen.append(f"client certificate CN {facts.client_cn}")
        if self.basic_auth:
            if facts.basic_user is None:
                problems.append("no HTTP Basic credentials")
            else:
                seen.append(f"HTTP Basic user {facts.basic_user}")
        if problems:
            return Verdict.FAIL, "; ".join(problems)
        return Verdict.PASS, ", ".join(seen)
