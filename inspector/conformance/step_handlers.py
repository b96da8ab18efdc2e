"""How each step kind runs, and the verdict and reason it ends with.

A handler returns `(verdict, reason)` or raises `StepProblem`; the reason is what a
tester reads, so it says what was expected and what came instead ("expected
StatusNotification with connectorId 1, status Charging within 30 s, got Preparing").
Waiting steps judge what `matching.CaseRun` claimed for them; they never consume frames
themselves, so the order in which the SUT sends things does not matter within a window.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from websockets.exceptions import ConnectionClosed

from .. import codec, defaults
from ..codec import MAX_UNIQUE_ID_LENGTH, FrameType
from ..rpc import Endpoint, new_unique_id
from .checks import where_matches, where_value_matches
from .context import Context, StepProblem, resolve_or_missing
from .events import PromptDismissed, PromptRequest, PromptRequested
from .frames import closed_text, count_actions, value_text, violation
from .runner_state import RunnerState
from .steps import Connect, Disconnect, Expect, ExpectDisconnect, ExpectNone, Prompt, Send, SendRaw, Wait
from .terms import CHARGER, CSMS, Verdict
from .values import MISSING, get_path, resolve, shorten, show_json

if TYPE_CHECKING:
    from .matching import CaseRun


class StepHandlersMixin(RunnerState):
    """`SuiteRunner`'s step execution."""

    async def _execute(self, run: CaseRun, step, index: int) -> tuple[Verdict, str]:
        handler = {
            Expect: self._expect, Send: self._send, SendRaw: self._send_raw, Wait: self._wait,
            ExpectNone: self._expect_none, Prompt: self._prompt, Connect: self._connect,
            Disconnect: self._disconnect, ExpectDisconnect: self._expect_disconnect,
        }.get(type(step))
        if handler is None:  # a suite's own subclass of a step kind runs like its base
            for kind, fn in ((Expect, self._expect), (Send, self._send), (Prompt, self._prompt)):
                if isinstance(step, kind):
                    handler = fn
        if handler is None:
            return Verdict.ERROR, f"unknown step kind {type(step).__name__}"
        return await handler(run, step, index)

    def _timeout(self, step, ctx: Context, default: float | None = None) -> float:
        if step.timeout is not None:
            return float(resolve(step.timeout, ctx))
        return self.options.step_timeout if default is None else default

    def _require_endpoint(self, what: str) -> Endpoint:
        if self.current is None:
            who = "charger" if self.sut == CHARGER else "CSMS"
            raise StepProblem(Verdict.FAIL, f"not connected to the {who} when sending {what}")
        return self.current

    def _judge_checks(self, run: CaseRun, checks, payload, record, label: str):
        """None when every check holds; else FAIL, or INCONCLUSIVE when only checks that need
        an undeclared set-up of the SUT failed (an unprepared SUT is not a wrong one)."""
        failed = [(c, f) for c in checks if (f := c.evaluate(payload, run.ctx, record))]
        if not failed:
            return None
        real = [f for c, f in failed if not self._unprepared(c)]
        if real:
            return Verdict.FAIL, f"{label}: " + "; ".join(real)
        needs = ", ".join(sorted({c.setup_for for c, _ in failed}))
        return Verdict.INCONCLUSIVE, (f"precondition not met: {label}: "
                                      + "; ".join(f for _, f in failed)
                                      + f" (the SUT may not be set up for this case: declare "
                                        f"{needs} in a SUT description, --sut-config, to judge it)")

    def _unprepared(self, check) -> bool:
        need = getattr(check, "setup_for", None)
        if need is None:
            return False
        if self.description is not None and self.description.declares(need):
            return False
        kind, _, what = need.partition(":")
        return not (kind == "tag" and f"{what}_tag" in self.options.params)

    def _save(self, run: CaseRun, save: dict, *, request, response, default: str, action: str) -> None:
        for name, spec in save.items():
            source, _, path = spec.partition(".") if spec.startswith(("request.", "response.")) \
                else (default, "", spec)
            data = request if source == "request" else response
            value = get_path(data, path)
            if value is MISSING:
                raise StepProblem(Verdict.FAIL, f"{action} {source} has no {path} (needed as <{name}>)")
            run.ctx.vars[name] = value

    # ---- the SUT calls us ------------------------------------------------------------------

    async def _expect(self, run: CaseRun, step: Expect, index: int) -> tuple[Verdict, str]:
        timeout = self._timeout(step, run.ctx)
        deadline = time.monotonic() + timeout
        while index not in run.claims:
            problem = run.first_violation(index)
            if problem:
                return Verdict.FAIL, problem
            if self.sut == CSMS and self.current is None:
                return Verdict.FAIL, (f"the connection to the CSMS closed while waiting for "
                                      f"{run.ctx.fill(step.expectation())}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, self._expect_timeout_reason(run, step, index, timeout)
            await run.wait(remaining)
        claim = run.claims[index]
        record = claim.record
        problem = violation(record)
        if problem:
            return Verdict.FAIL, problem
        if claim.problem:
            return Verdict.ERROR, claim.problem
        payload = record.frame.payload
        judged = self._judge_checks(run, step.checks, payload, record, step.action)
        if judged is not None:
            return judged
        self._save(run, step.save, request=payload, response=claim.payload, default="request",
                   action=step.action)
        if step.save_time:
            run.ctx.vars[step.save_time] = record.time
        reason = f"got {step.action}"
        if step.where:
            reason += " with " + ", ".join(f"{k.split('.')[-1]} {value_text(get_path(payload, k))}"
                                           for k in step.where)
        if claim.error:
            reason += f"; answered CALLERROR {claim.error[0]}"
        elif step.reply is not None and claim.payload is not None:
            reason += f"; answered {shorten(show_json(claim.payload), 100)}"
        return Verdict.PASS, reason

    def _expect_timeout_reason(self, run: CaseRun, step: Expect, index: int, timeout: float) -> str:
        """What came instead: the same action with other values, or which other CALLs."""
        anchor = run.anchor(index)
        claimed = set(run.claim_by_uid)
        same = [r for r in run.calls[anchor:] if r.action == step.action
                and r.frame.unique_id not in claimed]
        text = f"expected {run.ctx.fill(step.expectation())} within {timeout:g} s, got "
        if same:
            if step.where:
                mismatched = []
                for r in same:
                    keys = [k for k, v in step.where.items()
                            if not where_value_matches(get_path(r.frame.payload, k),
                                                       resolve_or_missing(v, run.ctx))]
                    mismatched.append((r, keys or list(step.where)))
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
                text += f"{len(same)} {step.action} already used by other steps"
        else:
            others = [r.action for r in run.calls[anchor:] if r.frame.unique_id not in claimed]
            if len(others) > 3:
                text += f"none (the SUT sent {len(others)} other CALLs: {count_actions(others)})"
            else:
                text += f"none (the SUT sent {', '.join(others)})" if others else "nothing"
        if run.closed_unexpectedly and self.current is None:
            text += f"; {run.closed_unexpectedly}"
        return text

    async def _expect_none(self, run: CaseRun, step: ExpectNone, index: int) -> tuple[Verdict, str]:
        seconds = float(resolve(step.seconds, run.ctx))
        anchor = run.anchor(index)
        deadline = time.monotonic() + seconds
        exclude = set(step.exclude)
        what = step.action or "CALL"
        while True:
            for record in run.calls[anchor:]:
                if record.frame.unique_id in run.claim_by_uid:
                    continue
                if step.action is not None and record.action != step.action:
                    continue
                if record.action in exclude:
                    continue
                if step.where and not where_matches(step.where, record.frame.payload, run.ctx):
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

    # ---- we call the SUT -------------------------------------------------------------------

    async def _send(self, run: CaseRun, step: Send, index: int) -> tuple[Verdict, str]:
        endpoint = self._require_endpoint(step.action)
        ctx = run.ctx
        if step.payload is None:
            payload = defaults.request_template(self.version, step.action, now=datetime.now(timezone.utc))
        else:
            payload = resolve(step.payload, ctx)
        unique_id = str(resolve(step.unique_id, ctx)) if step.unique_id is not None else new_unique_id()
        run.send_owner[unique_id] = index
        timeout = self._timeout(step, ctx)
        frame = await self._call_sut(endpoint, step.action, payload, timeout, unique_id=unique_id)
        problem = run.first_violation(index)
        if problem:
            return Verdict.FAIL, problem
        codes = list(step.expect_error or ())
        if frame.type is FrameType.CALLERROR:
            if codes and frame.error_code in codes:
                return Verdict.PASS, f"{step.action} answered with CALLERROR {frame.error_code}"
            wanted = f", expected {' or '.join(codes)}" if codes else ""
            return Verdict.FAIL, (f"the SUT answered {step.action} with CALLERROR {frame.error_code}"
                                  f" ({shorten(frame.error_description or '', 100)!r}){wanted}")
        if codes:
            return Verdict.FAIL, (f"expected CALLERROR {' or '.join(codes)} to {step.action}, got "
                                  f"CALLRESULT {shorten(show_json(frame.payload), 100)}")
        judged = self._judge_checks(run, step.checks, frame.payload, run.responses.get(unique_id),
                                    f"{step.action} response")
        if judged is not None:
            return judged
        self._save(run, step.save, request=payload, response=frame.payload, default="response",
                   action=step.action)
        return Verdict.PASS, f"{step.action} answered {shorten(show_json(frame.payload), 120)}"

    async def _send_raw(self, run: CaseRun, step: SendRaw, index: int) -> tuple[Verdict, str]:
        endpoint = self._require_endpoint("a raw frame")
        ctx = run.ctx
        text = resolve(step.text, ctx)
        ids = None if step.ids is None else [str(resolve(i, ctx)) for i in step.ids]
        run.own_long_ids.update(i for i in ids or () if len(i) > MAX_UNIQUE_ID_LENGTH)
        start = len(run.response_log)
        try:
            await endpoint.send_frame(text)
        except ConnectionClosed:
            return Verdict.FAIL, "the connection closed before the frame could be sent"
        timeout = self._timeout(step, ctx)
        deadline = time.monotonic() + timeout
        codes = list(step.codes)
        wanted = f"CALLERROR {' or '.join(codes)}" if codes else "a CALLERROR"
        if step.result_ok:
            wanted += " or a CALLRESULT"
        while True:
            found = next((r for r in run.response_log[start:]
                          if ids is None or r.frame.unique_id in ids), None)
            if found is not None:
                break
            if self.current is None:
                return Verdict.FAIL, f"the SUT closed the connection instead of answering with {wanted}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, f"no answer within {timeout:g} s, expected {wanted}"
            await run.wait(remaining)
        run.mark_used(index, found)
        frame = found.frame
        if run.echoes_own_long_id(found):
            # the SUT echoed the over-long id we sent: read its answer as the id were legal
            frame = codec.parse(frame.raw, id_limit=None)
        if frame.type is FrameType.MALFORMED:
            return Verdict.FAIL, f"the SUT answered with a malformed frame ({frame.reason})"
        if frame.type is FrameType.CALLRESULT and step.result_ok:
            return Verdict.PASS, (f"the SUT processed the frame: CALLRESULT with id "
                                  f"{frame.unique_id!r}")
        if frame.type is not FrameType.CALLERROR:
            return Verdict.FAIL, (f"the SUT answered with {frame.type.value} "
                                  f"{shorten(frame.raw, 100)}, expected {wanted}")
        if codes and frame.error_code not in codes:
            return Verdict.FAIL, (f"the SUT answered CALLERROR {frame.error_code}, expected "
                                  f"{' or '.join(codes)}")
        return Verdict.PASS, (f"CALLERROR {frame.error_code} with id {frame.unique_id!r}"
                              + (f" ({shorten(frame.error_description, 80)!r})" if frame.error_description else ""))

    # ---- time, the operator, connections ---------------------------------------------------

    async def _wait(self, run: CaseRun, step: Wait, index: int) -> tuple[Verdict, str]:
        seconds = float(resolve(step.seconds, run.ctx))
        await asyncio.sleep(seconds)
        return Verdict.PASS, f"waited {seconds:g} s"

    def _observation(self, run: CaseRun, index: int) -> tuple[int | None, str]:
        """The step right after a prompt that shows the operator's action was done, and what
        it watches for in words: (None, "") when the action leaves no trace we can see."""
        if index >= len(run.steps):
            return None, ""
        after = run.steps[index]  # step index + 1 (steps are 1-based, the list 0-based)
        if not after.claims(self.sut):
            return None, ""
        if isinstance(after, Connect):
            return index + 1, f"the charger connecting to {self.endpoint}"
        if isinstance(after, ExpectDisconnect):
            return index + 1, "the SUT closing the connection"
        return index + 1, f"the SUT sending {run.ctx.fill(after.expectation())}"

    async def _prompt(self, run: CaseRun, step: Prompt, index: int) -> tuple[Verdict, str]:
        """Ask the operator; end as soon as the action's effect is observed.

        An observable prompt (its next step waits for the SUT) ends when that step claims
        what it waits for: no key press needed. Without an operator (non-interactive run)
        an unobservable prompt is inconclusive at once, an observable one waits for its
        effect; both are bounded by the operator timeout, never a hang."""
        ctx = run.ctx
        observer, observe = self._observation(run, index)
        timeout = self._timeout(step, ctx, self.options.operator_timeout)
        text = ctx.format(step.text)
        auto = self.options.auto
        request = PromptRequest(run.case.id, run.case.title, index, text, step.action,
                                resolve(step.args, ctx) or {}, observe=observe,
                                timeout=None if auto else timeout)
        if step.title is None:
            run.result.steps[index].title = f"operator: {request.text}"
        self._publish(PromptRequested(request))
        if auto:
            return self._prompt_verdict(await self._auto_prompt(request))

        def observed() -> bool:
            return observer is not None and observer in run.claims

        if self.prompt is None:
            if observer is None:
                return Verdict.INCONCLUSIVE, f"needs an operator: {text} (non-interactive run)"
            if await run.wait_until(observed, timeout):
                self._dismiss(run, index, f"observed: {observe}")
                return Verdict.PASS, f"observed: {observe}"
            self._dismiss(run, index, "timed out")
            return Verdict.INCONCLUSIVE, (f"needs an operator: {text} (non-interactive run; "
                                          f"waited {timeout:g} s for {observe})")
        ask = asyncio.ensure_future(self.prompt(request))
        watch = asyncio.ensure_future(run.wait_until(observed, timeout)) if observer else None
        try:
            await asyncio.wait({t for t in (ask, watch) if t is not None}, timeout=timeout,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (ask, watch):
                if task is not None and not task.done():
                    task.cancel()
        if ask.done() and not ask.cancelled() and ask.exception() is None:
            return self._prompt_verdict(ask.result())
        if ask.done() and not ask.cancelled():
            raise ask.exception()
        if observed():
            self._dismiss(run, index, f"observed: {observe}")
            return Verdict.PASS, f"observed: {observe}"
        self._dismiss(run, index, "timed out")
        waited = f" and {observe} was not observed" if observer else ""
        return Verdict.INCONCLUSIVE, f"no answer from the operator within {timeout:g} s{waited}"

    def _dismiss(self, run: CaseRun, index: int, reason: str) -> None:
        self._publish(PromptDismissed(run.case.id, index, reason))

    @staticmethod
    def _prompt_verdict(reply) -> tuple[Verdict, str]:
        if reply.ok:
            return Verdict.PASS, reply.note or "operator confirmed"
        if reply.skipped:
            return Verdict.INCONCLUSIVE, f"operator skipped: {reply.note or 'no reason given'}"
        return Verdict.FAIL, f"operator reported a failure: {reply.note or 'no reason given'}"

    async def _connect(self, run: CaseRun, step: Connect, index: int) -> tuple[Verdict, str]:
        if self.sut == CSMS:
            endpoint = await self._open_client()
            return Verdict.PASS, f"connected to {self.target} with {endpoint.ws.subprotocol}"
        timeout = self._timeout(step, run.ctx, self.options.connect_timeout)
        if not await run.wait_until(lambda: index in run.claims, timeout):
            self._waited_in_vain = True
            extra = f" ({self._rejected[-1]})" if self._rejected else ""
            return Verdict.FAIL, (f"the charger did not connect to {self.endpoint} within "
                                  f"{timeout:g} s{extra}")
        endpoint = run.claims[index].endpoint
        info = endpoint.connection
        return Verdict.PASS, f"charger {info.charge_point_id} connected with {info.subprotocol}"

    async def _disconnect(self, run: CaseRun, step: Disconnect, index: int) -> tuple[Verdict, str]:
        if self.current is None:
            return Verdict.PASS, "the connection was already closed"
        await self._close_endpoint(self.current)
        return Verdict.PASS, "connection closed"

    async def _expect_disconnect(self, run: CaseRun, step: ExpectDisconnect, index: int):
        timeout = self._timeout(step, run.ctx)
        if not await run.wait_until(lambda: index in run.claims, timeout):
            return Verdict.FAIL, f"the SUT did not close the connection within {timeout:g} s"
        return Verdict.PASS, closed_text(run.claims[index].endpoint.connection)
