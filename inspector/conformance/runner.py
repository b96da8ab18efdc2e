"""The conformance runner: plays the other side of the SUT and judges each step.

SUT = charger: the runner listens (`RunOptions.listen`) and acts as the CSMS.
SUT = csms: the runner connects (`RunOptions.target`, ending in the charge point id) and
acts as the charging station.

`SuiteRunner` runs cases one after another, each as step 0 (the precondition) and its
steps, publishes the events, and turns whatever happens into verdicts. It is built from
explicit collaborators, each in its own module, none of which imports this one:

- `SutConnections` (connections.py): listening / connecting, answering the SUT's CALLs;
- `SimulatedSut` (simulation.py): --simulate-sut, our simulators playing the SUT;
- `Preconditions` (preconditions.py): step 0 and the teardown after a case;
- `CaseRun` (matching.py): the running case, which step an incoming frame belongs to;
- the step kinds (steps.py), each running itself through a `StepEnv` (step_env.py);
- `options.py` (`RunOptions`, `DEFAULT_PARAMS`, `SuiteError`), `context.py` (`Context`),
  `frames.py` (`violation`), `sut_config.py` (the SUT description). Their public names
  are re-exported here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Iterable

from ..codec import FrameType
from ..events import FrameLogged, Hub
from . import sut_config
from .cases import Case
from .connections import SutConnections
from .context import Context, StepProblem
from .events import (CaseFinished, CaseStarted, StepFinished, StepStarted, SuiteFinished, SuiteNote,
                     SuiteStarted)
from .frames import PERIODIC_ACTIONS, clip_reason, violation
from .matching import CaseRun
from .options import AUTO_CHARGE_POINT_ID, DEFAULT_PARAMS, PromptCallback, RunOptions, SuiteError
from .preconditions import Preconditions
from .results import CaseResult, RunResult, StepResult
from .simulation import SimulatedSut
from .step_env import StepEnv
from .steps import Prompt
from .terms import CHARGER, CSMS, Verdict, worst

# re-exported: runner.py offered these before its split, so code may import them from here
from .events import PromptReply, PromptRequest, PromptRequested
from .results import FrameEntry
from .steps import Connect, Disconnect, Expect, ExpectDisconnect, ExpectNone, Send, SendRaw, Wait
from .values import MISSING, get_path, resolve, show_json

__all__ = [
    # the runner's own API
    "SuiteRunner", "RunOptions", "SuiteError", "DEFAULT_PARAMS", "AUTO_CHARGE_POINT_ID",
    "PromptCallback", "Context", "violation",
    # re-exported from the model and events, as runner.py always offered them
    "CHARGER", "CSMS", "Case", "CaseResult", "RunResult", "StepResult", "FrameEntry", "Verdict",
    "worst", "MISSING", "get_path", "resolve", "show_json", "Expect", "Send", "SendRaw", "Wait",
    "ExpectNone", "Prompt", "Connect", "Disconnect", "ExpectDisconnect",
    "SuiteStarted", "CaseStarted", "StepStarted", "StepFinished", "CaseFinished", "SuiteFinished",
    "SuiteNote", "PromptRequest", "PromptReply", "PromptRequested",
]


class SuiteRunner:
    """Runs conformance cases against one SUT.

    Public API (what a GUI uses)::

        runner = SuiteRunner(RunOptions(version="1.6", sut="charger", listen=Listen("0.0.0.0", 9000)),
                             hub=hub, prompt=ask_operator, on_event=show)
        await runner.start()          # optional: opens the listener, `runner.endpoint` is the URL
        result = await runner.run(cases)   # RunResult; events arrive on the hub and on_event
        runner.cancel()               # from a button: stops the running case and the run

    `prompt` is an async callback `PromptRequest -> PromptReply`; None means nobody is at
    the SUT (a non-interactive run). With `options.auto` (--simulate-sut) our simulators
    play the SUT and perform the prompts' actions.
    """

    def __init__(self, options: RunOptions, *, hub: Hub | None = None,
                 prompt: PromptCallback | None = None,
                 on_event: Callable[[object], None] | None = None,
                 charger_factory: Callable | None = None,
                 csms_factory: Callable | None = None):
        if options.sut not in (CHARGER, CSMS):
            raise SuiteError(f"unknown SUT kind {options.sut!r}; use charger or csms")
        if options.auto and options.target:
            # the user named a SUT: never test our own simulator in its place
            raise SuiteError(f"--simulate-sut tests ocpp-inspector's own simulated CSMS, not "
                             f"{options.target}; drop --simulate-sut to test that CSMS, or drop "
                             f"--target to test the simulator")
        self.options = options
        self.version = options.version
        self.sut = options.sut
        self.hub = hub or Hub()
        self.on_event = on_event
        # what the SUT has and can do: the user's file, or what our simulators declare
        self.description = options.sut_config or (sut_config.simulated(options.sut)
                                                  if options.auto else None)
        self.connections = SutConnections(options, self.hub, note=self.note)
        self.simulator = (SimulatedSut(options, self.connections, note=self.note,
                                       charger_factory=charger_factory, csms_factory=csms_factory)
                          if options.auto else None)
        self.preconditions = Preconditions(options, self.connections, self.simulator,
                                           note=self.note)
        self.env = StepEnv(options, self.connections, simulator=self.simulator, prompt=prompt,
                           publish=self._publish, description=self.description)
        self._last_sut_call = 0.0  # monotonic time of the SUT's last non-periodic CALL
        self._started = False
        self._cancelled = False
        self._case_task: asyncio.Task | None = None
        self._unsubscribe = self.hub.subscribe(self._on_hub_event)

    @property
    def prompt(self) -> PromptCallback | None:
        return self.env.prompt

    @prompt.setter
    def prompt(self, callback: PromptCallback | None) -> None:
        self.env.prompt = callback

    @property
    def endpoint(self) -> str:
        """The URL to show: where chargers connect, or the target CSMS."""
        return self.connections.endpoint

    @property
    def target(self) -> str | None:
        return self.connections.target

    # ---- events ---------------------------------------------------------------------------

    def _publish(self, event) -> None:
        self.hub.publish(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a front-end bug must not stop the run
                pass

    def note(self, text: str, level: str = "info") -> None:
        self._publish(SuiteNote(level, text))

    def _on_hub_event(self, event) -> None:
        # the hub may be shared with other roles: only our own connections' frames count
        links = self.connections
        if isinstance(event, FrameLogged) and event.record.connection.id in links.conn_ids:
            record = event.record
            if (record.direction == links.incoming and record.frame.type is FrameType.CALL
                    and record.action not in PERIODIC_ACTIONS):
                self._last_sut_call = time.monotonic()
            links.check_boot_certificate(record)
            if links.case is not None:
                links.case.on_record(record)
            links.track_transactions(record)

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            if self.sut == CHARGER:
                await self.connections.listen()
            if self.simulator is not None:
                self.simulator.start()
            elif self.sut == CHARGER:
                self.note(f"listening on {self.endpoint}<charge point id>: connect the charger there")
            else:
                self.connections.endpoint = self.connections.checked_target()
        except SuiteError:
            self._started = False
            raise

    async def stop(self) -> None:
        if self.simulator is not None:
            await self.simulator.stop()
        await self.connections.close_all()
        self._started = False

    def close(self) -> None:
        """Stop listening to the hub (call when the runner is no longer used)."""
        self._unsubscribe()

    def cancel(self) -> None:
        """Abort the run: the running step ends with an error and no further case starts."""
        self._cancelled = True
        if self._case_task is not None and not self._case_task.done():
            self._case_task.cancel()

    # ---- running ------------------------------------------------------------------------------

    def _check_cases(self, cases: list[Case]) -> None:
        for case in cases:
            if case.version != self.version or case.sut != self.sut:
                raise SuiteError(f"case {case.id} is for OCPP {case.version} with SUT {case.sut}, "
                                 f"not OCPP {self.version} with SUT {self.sut}")

    async def run(self, cases: Iterable[Case]) -> RunResult:
        cases = list(cases)
        self._check_cases(cases)
        self._cancelled = False
        owns = not self._started  # a runner started by its caller stays open for the next run
        await self.start()
        result = RunResult(self.version, self.sut, started=time.time(), endpoint=self.endpoint,
                           auto=self.options.auto, tested=self.tested(),
                           sut_config=self.options.sut_config.source if self.options.sut_config else "")
        self._publish(SuiteStarted(self.version, self.sut, tuple(c.id for c in cases),
                                   self.endpoint, self.options.auto, result.tested))
        try:
            for number, case in enumerate(cases, 1):
                if self._cancelled:
                    break
                # each case is a task of its own, so cancel() can end it without ending run()
                self._case_task = asyncio.ensure_future(self._run_case(case, number, len(cases)))
                try:
                    case_result = await self._case_task
                except asyncio.CancelledError:
                    if not self._cancelled:  # our caller cancelled us: take the case down too
                        self._case_task.cancel()
                        raise
                    case_result = self._case_task_result
                result.cases.append(case_result)
                self._publish(CaseFinished(case_result))
        finally:
            result.ended = time.time()
            result.tested = self.tested()
            if owns:
                await self.stop()
            self._publish(SuiteFinished(result))
        return result

    _case_task_result: CaseResult | None = None

    def _unmet(self, case: Case) -> list[str]:
        """Why the case does not apply: needs the SUT description does not declare, and
        security needs this run was not set up for (a password, TLS, client certificates)."""
        run_level = [n for n in case.needs if n.startswith("security:")]
        unmet = [why for why in (self._security_unmet(n) for n in run_level) if why]
        if self.description is not None:
            unmet += [f"the SUT description does not declare {why}" for why in
                      self.description.unmet([n for n in case.needs if n not in run_level])]
        else:  # a case for a SUT without a feature never assumes it is missing
            unmet += [f"a SUT description (--sut-config) whose features leave out "
                      f"{n.partition(':')[2]}" for n in case.needs if n.startswith("lacks:")]
        return unmet

    def _security_unmet(self, need: str) -> str | None:
        options, charger = self.options, self.sut == CHARGER
        what = need.partition(":")[2]
        if what == "basic_auth":
            ok = options.password is not None
            text = "a Basic auth password for this run (--password)"
        elif what == "tls":
            ok = (options.server_tls is not None if charger
                  else (self.connections.target or "").startswith("wss://") or options.auto
                  and options.server_tls is not None)
            text = ("a TLS listener (--cert/--key)" if charger else "a wss:// target")
        elif what == "client_cert":
            ok = (options.server_tls is not None and options.server_tls.client_ca is not None
                  if charger else options.client_tls is not None and options.client_tls.cert is not None)
            text = ("client certificates required by the listener (--client-ca)" if charger
                    else "a client certificate for this run (--client-cert/--client-key)")
        else:
            return f"{need} (unknown need)"
        return None if ok else (f"this run has no {text}: security profile cases run only when "
                                f"the run is set up for them")

    def tested(self) -> str:
        """The SUT this run tests, in words, for every report's header."""
        if self.options.auto:
            what = "charger" if self.sut == CHARGER else "CSMS"
            return f"simulated by ocpp-inspector (its own fake {what}, --simulate-sut)"
        if self.sut == CSMS:
            return self.target or ""
        if self.connections.charge_point_ids:
            return (f"charger {', '.join(dict.fromkeys(self.connections.charge_point_ids))} "
                    f"connected to {self.endpoint}")
        return f"the charger connecting to {self.endpoint} (none connected yet)"

    def _new_case_run(self, case: Case) -> CaseRun:
        """The result skeleton (every step titled up front, for the UI) and the case's state."""
        result = CaseResult(case.id, case.title, case.version, case.sut, case.group,
                            started=time.time())
        self._case_task_result = result
        result.steps.append(StepResult(0, "setup", f"precondition: {self.preconditions.describe(case)}"))
        variables = {k: (v() if callable(v) else v) for k, v in case.vars.items()}
        declared = self.description.params() if self.description is not None else {}
        ctx = Context(self.version, self.sut,
                      {**DEFAULT_PARAMS, **self.connections.file_params(), **case.params,
                       **declared, **self.options.params},
                      variables, self.options.step_timeout, self.endpoint)
        for i, step in enumerate(case.steps, 1):
            title = ctx.fill(step.describe())
            if isinstance(step, Prompt) and step.title is None:
                title = f"operator: {ctx.format(step.text)}"
            result.steps.append(StepResult(i, step.kind, title))
        return CaseRun(self.connections, case, ctx, result)

    async def _run_case(self, case: Case, number: int, total: int) -> CaseResult:
        run = self._new_case_run(case)
        result = run.result
        self.connections.case = run
        if self.simulator is not None:
            self.connections.open_transactions.clear()
        self._publish(CaseStarted(case.id, case.title, number, total,
                                  tuple(s.title for s in result.steps)))
        unmet = self._unmet(case)
        if unmet:
            # nothing is sent: the case says nothing about a SUT without what it needs
            step = result.steps[0]
            step.started = time.time()
            step.verdict = Verdict.NOT_APPLICABLE
            step.reason = "; ".join(unmet)
            step.ended = time.time()
            self._publish(StepFinished(case.id, step))
            self.connections.case = None
            self._conclude(result)
            return result
        try:
            try:
                async with asyncio.timeout(self.options.case_timeout):
                    if await self._step(run, 0):
                        for i in range(1, len(case.steps) + 1):
                            if not await self._step(run, i):
                                break
            except TimeoutError:
                self._interrupt(run, f"the case time limit of {self.options.case_timeout:g} s was reached")
            except asyncio.CancelledError:
                self._interrupt(run, "the run was cancelled")
                if not self._cancelled:
                    raise
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
            await self.preconditions.teardown(run)
        finally:
            self.connections.case = None
            self.connections.network_down = False  # an outage ends with its case
            self._conclude(result)
        return result

    def _conclude(self, result: CaseResult) -> None:
        """Steps that did not run become inconclusive; the case gets its worst step's verdict."""
        not_applicable = result.steps[0].verdict is Verdict.NOT_APPLICABLE
        for step in result.steps:
            if step.verdict is None:
                failed = next((s.index for s in result.steps
                               if s.verdict is not None and not s.verdict.ok), None)
                step.verdict = Verdict.NOT_APPLICABLE if not_applicable else Verdict.INCONCLUSIVE
                step.reason = ("not run: the case does not apply to this SUT" if not_applicable
                               else f"not run: step {failed} did not pass" if failed is not None
                               else "not run")
        result.verdict = worst(s.verdict for s in result.steps)
        bad = next((s for s in result.steps if s.verdict is result.verdict and not s.verdict.ok), None)
        result.reason = f"step {bad.index}: {bad.reason}" if bad is not None else ""
        result.ended = time.time()

    def _interrupt(self, run: CaseRun, reason: str) -> None:
        step = run.result.steps[run.index]
        if step.verdict is None:
            step.verdict = Verdict.ERROR
            step.reason = reason
            step.ended = time.time()
            self._publish(StepFinished(run.case.id, step))

    async def _settle(self, run: CaseRun) -> None:
        """Let the SUT's own traffic after step 0 (a boot's StatusNotifications, a CSMS's
        first requests) die down before step 1 triggers anything: wait until the SUT has
        sent no CALL but periodic ones for <settle> s, at most one step timeout."""
        settle = float(run.ctx.params.get("settle", 0) or 0)
        if settle <= 0 or (self.simulator is not None and self.simulator.plays_charger):
            return  # our simulated charger's boot traffic is over when its setup returns
        quiet = await run.wait_until(lambda: time.monotonic() - self._last_sut_call >= settle,
                                     self.options.step_timeout, poll=min(settle, 0.25))
        if not quiet:
            run.result.steps[0].notes.append(
                f"the SUT was never quiet for {settle:g} s within {self.options.step_timeout:g} s; "
                f"its messages from before step 1 are not taken as answers")

    async def _step(self, run: CaseRun, index: int) -> bool:
        res = run.result.steps[index]
        run.index = index
        run.marks[index] = len(run.calls)
        res.started = time.time()
        self._publish(StepStarted(run.case.id, index, res.kind, res.title))
        if index and run.steps[index - 1].arms_at_start:
            run.armed.add(index)
        try:
            if index == 0:
                verdict, reason = await self.preconditions.setup(run)
                if verdict is Verdict.PASS and run.case.before != "none":
                    await self._settle(run)
            else:
                verdict, reason = await run.steps[index - 1].run(self.env, run, index)
        except StepProblem as exc:
            verdict, reason = exc.verdict, exc.reason
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            verdict, reason = Verdict.FAIL, "timed out"
        except Exception as exc:  # an engine or case bug: error, never a traceback
            verdict, reason = Verdict.ERROR, f"engine error: {type(exc).__name__}: {exc}"
        # a protocol violation fails the step that received it, even if the step itself passed
        problems = [p for p in run.violations.get(index, []) if p != reason]
        if problems:
            if verdict is Verdict.PASS:
                verdict, reason = Verdict.FAIL, problems[0]
                problems = problems[1:]
            res.notes.extend(problems)
        res.verdict, res.reason = verdict, clip_reason(reason)
        res.ended = time.time()
        self._publish(StepFinished(run.case.id, res))
        return verdict is Verdict.PASS
