"""Step 0 and the clean-up after a case: bring the SUT to `Case.before`, leave no transaction open.

`Case.before` is "none", "connected" or "booted". For a charger SUT "connected" and
"booted" both mean a connection whose BootNotification we accepted (a real charger boots
on its own); for a CSMS SUT the runner connects and, for "booted", boots like a charger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..codec import FrameType
from ..versions import V16
from . import payloads
from .cases import Case
from .context import StepProblem
from .runner_state import RunnerState
from .terms import CHARGER, CSMS, Verdict
from .values import resolve

if TYPE_CHECKING:
    from .matching import CaseRun


class PreconditionsMixin(RunnerState):
    """`SuiteRunner`'s setup (step 0) and teardown."""

    def _before_text(self, case: Case) -> str:
        if case.before == "none":
            return "none"
        if self.sut == CHARGER:
            return "the charger is connected and booted"
        return "connected" if case.before == "connected" else "connected and booted (BootNotification Accepted)"

    async def _setup(self, run: CaseRun) -> tuple[Verdict, str]:
        if self.sut == CHARGER:
            if self._auto_charger is not None:
                return await self._setup_simulated_charger(run)
            return await self._setup_charger(run)
        return await self._setup_csms(run)

    async def _setup_charger(self, run: CaseRun) -> tuple[Verdict, str]:
        """A real charger: wait until it is connected and we accepted its boot."""
        if run.case.before == "none":
            return Verdict.PASS, "no precondition"

        def booted() -> bool:
            return self.current is not None and self.current.connection.id in self._booted
        if not booted():
            # after one fruitless wait, later cases do not each wait as long again
            wait = (min(self.options.connect_timeout, self.options.step_timeout)
                    if self._waited_in_vain else self.options.connect_timeout)
            self.note(f"waiting up to {wait:g} s for the charger to connect to "
                      f"{self.endpoint}<charge point id> and boot")
            # poll as well: `_booted` is set by the answering code, not by a frame event
            if not await run.wait_until(booted, wait, poll=0.1):
                self._waited_in_vain = True
                what = "booted" if self.current is not None else "connected"
                return Verdict.ERROR, f"no charger {what} at {self.endpoint} within {wait:g} s"
            self._waited_in_vain = False
        return Verdict.PASS, f"charger {self.current.connection.charge_point_id} is connected and booted"

    async def _setup_csms(self, run: CaseRun) -> tuple[Verdict, str]:
        """A CSMS: (re)start the simulated one in --auto, connect, and boot like a charger."""
        case = run.case
        if self._auto_csms is not None:
            await self._restart_simulated_csms(case)
        if case.before == "none":
            return Verdict.PASS, "no precondition"
        await self._open_client()
        if case.before == "connected":
            return Verdict.PASS, f"connected to {self.target}"
        v16 = self.version == V16
        answer = await self._setup_call(run, "BootNotification",
                                        payloads.boot16() if v16 else payloads.boot201())
        if answer.get("status") != "Accepted":
            return Verdict.FAIL, f"BootNotification was answered {answer.get('status')!r}, not Accepted"
        statuses = ([payloads.status16("Available", 0), payloads.status16("Available")] if v16
                    else [payloads.status201("Available")])
        for status in statuses:
            await self._setup_call(run, "StatusNotification", resolve(status, run.ctx))
        return Verdict.PASS, "connected; BootNotification Accepted; StatusNotification Available sent"

    async def _setup_call(self, run: CaseRun, action: str, payload: dict) -> dict:
        endpoint = self.current
        if endpoint is None:
            raise StepProblem(Verdict.FAIL, f"the connection closed before {action}")
        frame = await self._call_sut(endpoint, action, payload, self.options.step_timeout)
        problem = run.first_violation(0)
        if problem:
            raise StepProblem(Verdict.FAIL, problem)
        if frame.type is FrameType.CALLERROR:
            raise StepProblem(Verdict.FAIL, f"{action} was answered with CALLERROR {frame.error_code}: "
                                            f"{frame.error_description}")
        return frame.payload

    async def _teardown(self, run: CaseRun) -> None:
        notes = run.result.steps[run.index].notes
        try:
            if self.sut == CSMS:
                if self.current is not None:
                    await self._close_endpoint(self.current)
                if self._auto_csms is not None:
                    await self._auto_csms.stop()
            elif self._auto_charger is None and self._open_transactions and self.current is not None:
                # a real charger keeps charging after a failed case: stop what the case started
                for tx in list(self._open_transactions):
                    action, payload = (("RemoteStopTransaction", {"transactionId": tx})
                                       if self.version == V16 else
                                       ("RequestStopTransaction", {"transactionId": tx}))
                    try:
                        await self.current.call(action, payload, timeout=5)
                        notes.append(f"teardown: asked the charger to stop transaction {tx}")
                    except Exception:
                        pass
                    self._open_transactions.pop(tx, None)
        except Exception as exc:
            notes.append(f"teardown: {type(exc).__name__}: {exc}")
