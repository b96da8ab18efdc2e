"""Step 0 and the clean-up after a case: bring the SUT to `Case.before`, leave no transaction open.

`Case.before` is "none", "connected" or "booted". For a charger SUT "connected" and
"booted" both mean a connection whose BootNotification we accepted (a real charger boots
on its own); for a CSMS SUT the runner connects and, for "booted", boots like a charger.
`Preconditions` works through the run's collaborators: the connections to the SUT and,
when the SUT is simulated, the simulator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..codec import FrameType
from ..versions import V16
from . import payloads
from .cases import Case
from .connections import SutConnections
from .context import StepProblem
from .options import RunOptions
from .simulation import SimulatedSut
from .terms import CHARGER, Verdict
from .values import resolve

if TYPE_CHECKING:
    from .matching import CaseRun


class Preconditions:
    def __init__(self, options: RunOptions, connections: SutConnections,
                 simulator: SimulatedSut | None, *, note: Callable[[str, str], None]):
        self.options = options
        self.connections = connections
        self.simulator = simulator
        self.note = note

    def describe(self, case: Case) -> str:
        if case.before == "none":
            return "none"
        if self.options.sut == CHARGER:
            return "the charger is connected and booted"
        return "connected" if case.before == "connected" else "connected and booted (BootNotification Accepted)"

    async def setup(self, run: CaseRun) -> tuple[Verdict, str]:
        if self.options.sut == CHARGER:
            if self.simulator is not None:
                return await self.simulator.setup_charger(run)
            return await self._setup_charger(run)
        return await self._setup_csms(run)

    async def _setup_charger(self, run: CaseRun) -> tuple[Verdict, str]:
        """A real charger: wait until it is connected and we accepted its boot."""
        if run.case.before == "none":
            return Verdict.PASS, "no precondition"
        links = self.connections

        def booted() -> bool:
            return links.current is not None and links.current.connection.id in links.booted
        if not booted():
            # after one fruitless wait, later cases do not each wait as long again
            options = self.options
            wait = (min(options.connect_timeout, options.step_timeout)
                    if links.waited_in_vain else options.connect_timeout)
            self.note(f"waiting up to {wait:g} s for the charger to connect to "
                      f"{links.endpoint}<charge point id> and boot", "info")
            # poll as well: `booted` is set by the answering code, not by a frame event
            if not await run.wait_until(booted, wait, poll=0.1):
                links.waited_in_vain = True
                what = "booted" if links.current is not None else "connected"
                return Verdict.ERROR, f"no charger {what} at {links.endpoint} within {wait:g} s"
            links.waited_in_vain = False
        return Verdict.PASS, f"charger {links.current.connection.charge_point_id} is connected and booted"

    async def _setup_csms(self, run: CaseRun) -> tuple[Verdict, str]:
        """A CSMS: (re)start the simulated one, connect, and boot like a charger."""
        case = run.case
        links = self.connections
        if self.simulator is not None:
            await self.simulator.restart_csms(case)
        if case.before == "none":
            return Verdict.PASS, "no precondition"
        await links.open_client()
        if case.before == "connected":
            return Verdict.PASS, f"connected to {links.target}"
        v16 = self.options.version == V16
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
        endpoint = self.connections.current
        if endpoint is None:
            raise StepProblem(Verdict.FAIL, f"the connection closed before {action}")
        frame = await self.connections.call_sut(endpoint, action, payload, self.options.step_timeout)
        problem = run.first_violation(0)
        if problem:
            raise StepProblem(Verdict.FAIL, problem)
        if frame.type is FrameType.CALLERROR:
            raise StepProblem(Verdict.FAIL, f"{action} was answered with CALLERROR {frame.error_code}: "
                                            f"{frame.error_description}")
        return frame.payload

    async def teardown(self, run: CaseRun) -> None:
        notes = run.result.steps[run.index].notes
        links = self.connections
        try:
            if self.options.sut != CHARGER:
                if links.current is not None:
                    await links.close_endpoint(links.current)
                if self.simulator is not None:
                    await self.simulator.end_case()
            elif self.simulator is None and links.open_transactions and links.current is not None:
                # a real charger keeps charging after a failed case: stop what the case started
                for tx in list(links.open_transactions):
                    action = ("RemoteStopTransaction" if self.options.version == V16
                              else "RequestStopTransaction")
                    try:
                        await links.current.call(action, {"transactionId": tx}, timeout=5)
                        notes.append(f"teardown: asked the charger to stop transaction {tx}")
                    except Exception:
                        pass
                    links.open_transactions.pop(tx, None)
        except Exception as exc:
            notes.append(f"teardown: {type(exc).__name__}: {exc}")
