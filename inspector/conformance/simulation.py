"""--simulate-sut: our own simulators play the SUT, and perform the operator's actions.

The simulators themselves are in `auto.py`; `SimulatedSut` is how a run uses them, a
collaborator of the runner beside `SutConnections`. A simulated charger is a fresh
`FakeCharger` per case, connecting to the run's listener; a simulated CSMS is a fresh
`FakeCsms` per case (with the case's `auto_csms` overrides), whose URL becomes the target.
Operator prompts are answered by asking the simulator to perform the prompt's `action`,
so a whole suite runs unattended (CI, self-test of the suites).
"""

from __future__ import annotations

import asyncio
from typing import Callable

from ..roles.csms import deep_merge
from .cases import Case
from .connections import SutConnections
from .context import StepProblem
from .events import PromptReply, PromptRequest
from .options import RunOptions
from .terms import CHARGER, Verdict
from .values import show_json


class SimulatedSut:
    def __init__(self, options: RunOptions, connections: SutConnections, *,
                 note: Callable[[str, str], None], charger_factory: Callable | None = None,
                 csms_factory: Callable | None = None):
        self.options = options
        self.connections = connections
        self.note = note
        self.charger_factory = charger_factory
        self.csms_factory = csms_factory
        self.charger = None  # AutoCharger (SUT charger)
        self.csms = None  # AutoCsms (SUT csms)

    @property
    def plays_charger(self) -> bool:
        return self.charger is not None

    def start(self) -> None:
        """Create the simulator for this SUT kind (after the listener for a charger SUT)."""
        # imported here: only simulated runs need the simulators
        links = self.connections
        if self.options.sut == CHARGER:
            from .auto import AutoCharger
            self.charger = AutoCharger(
                links.endpoint + self.options.charge_point_id, self.options.version,
                step_timeout=self.options.step_timeout, factory=self.charger_factory,
                note=self._simulator_note, password=self.options.password,
                tls=self.options.client_tls)
            self.note(f"listening on {links.endpoint}; the simulated charger plays the SUT", "info")
        else:
            from .auto import AutoCsms
            self.csms = AutoCsms(self.options.version, self.options.charge_point_id,
                                 step_timeout=self.options.step_timeout,
                                 factory=self.csms_factory, note=self._simulator_note,
                                 password=self.options.password, tls=self.options.server_tls)
            links.endpoint = "(simulated CSMS, one per case)"

    async def stop(self) -> None:
        if self.charger is not None:
            await self.charger.close()
        if self.csms is not None:
            await self.csms.stop()

    async def end_case(self) -> None:
        """After a case: a simulated CSMS goes (the next case gets a fresh one)."""
        if self.csms is not None:
            await self.csms.stop()

    def _simulator_note(self, text: str) -> None:
        """Simulator trouble goes on the running step (it may explain the verdict) and to the user."""
        run = self.connections.case
        if run is not None:
            run.result.steps[run.index].notes.append(f"simulator: {text}")
        self.note(f"simulator: {text}", "warning")

    async def setup_charger(self, run) -> tuple[Verdict, str]:
        """Step 0 with a simulated charger: a fresh one per case, booted unless `before` is none."""
        booted = run.case.before != "none"
        try:
            await asyncio.wait_for(self.charger.fresh(booted=booted), self.options.step_timeout * 2)
        except asyncio.TimeoutError:
            return Verdict.ERROR, "the simulated charger did not boot in time"
        except Exception as exc:
            return Verdict.ERROR, f"the simulated charger could not start: {exc}"
        links = self.connections
        # wait until the engine has seen old connections go and the new one come
        await run.wait_until(lambda: len(links.live) == (1 if booted else 0) and
                             (links.current is not None) == booted, 5, poll=0.1)
        if booted and links.current is None:
            return Verdict.ERROR, "the simulated charger did not connect"
        return Verdict.PASS, ("simulated charger connected and booted" if booted
                              else "simulated charger powered off")

    async def restart_csms(self, case: Case) -> None:
        """Step 0 with a simulated CSMS: a fresh one with the case's overrides; its URL is the target."""
        overrides = deep_merge(case.auto_csms, self.options.csms_overrides)
        try:
            self.connections.target = await self.csms.restart(overrides)
        except Exception as exc:
            raise StepProblem(Verdict.ERROR, f"the simulated CSMS could not start: {exc}") from None

    async def settle(self, timeout: float) -> None:
        """Wait (bounded) until the actions the simulator was asked to perform are done."""
        driver = self.charger or self.csms
        if driver is not None:
            await driver.settle(timeout)

    async def answer_prompt(self, request: PromptRequest) -> PromptReply:
        """Answer an operator prompt by having the simulator perform its action."""
        driver = self.charger or self.csms
        if request.action is None:
            return PromptReply.done("nothing for the simulator to do")
        if driver is None or not driver.can(request.action):
            return PromptReply.skip(f"the simulator cannot perform {request.action!r}")
        driver.perform(request.action, request.args)
        args = f" {show_json(request.args)}" if request.args else ""
        return PromptReply.done(f"simulator performs {request.action}{args}")
