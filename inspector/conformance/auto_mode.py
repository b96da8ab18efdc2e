"""--auto in the runner: start the simulator that plays the SUT, prepare it per case, let it act.

The simulators themselves are in `auto.py`; this is how `SuiteRunner` uses them. In --auto
mode the runner answers operator prompts itself by asking the simulator to perform the
prompt's `action`, so a whole suite runs unattended (CI, self-test of the suites).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ..roles.csms import deep_merge
from .cases import Case
from .context import StepProblem
from .events import PromptReply, PromptRequest
from .runner_state import RunnerState
from .terms import CHARGER, Verdict
from .values import show_json

if TYPE_CHECKING:
    from .matching import CaseRun


class AutoModeMixin(RunnerState):
    """`SuiteRunner`'s simulator glue."""

    def _start_simulator(self) -> None:
        """Create the simulator for this SUT kind (after `_listen` for a charger SUT)."""
        # imported lazily: only --auto runs need the simulators
        if self.sut == CHARGER:
            from .auto import AutoCharger
            self._auto_charger = AutoCharger(
                self.endpoint + self.options.charge_point_id, self.version,
                step_timeout=self.options.step_timeout, factory=self.charger_factory,
                note=self._simulator_note)
            self.note(f"listening on {self.endpoint}; the simulated charger plays the SUT")
        else:
            from .auto import AutoCsms
            self._auto_csms = AutoCsms(self.version, self.options.charge_point_id,
                                       step_timeout=self.options.step_timeout,
                                       factory=self.csms_factory,
                                       note=self._simulator_note)
            self.endpoint = "(simulated CSMS, one per case)"

    async def _stop_simulator(self) -> None:
        if self._auto_charger is not None:
            await self._auto_charger.close()
        if self._auto_csms is not None:
            await self._auto_csms.stop()

    def _simulator_note(self, text: str) -> None:
        """Simulator trouble goes on the running step (it may explain the verdict) and to the user."""
        run = self._run
        if run is not None:
            run.result.steps[run.index].notes.append(f"simulator: {text}")
        self.note(f"simulator: {text}", "warning")

    async def _setup_simulated_charger(self, run: CaseRun) -> tuple[Verdict, str]:
        """Step 0 with a simulated charger: a fresh one per case, booted unless `before` is none."""
        booted = run.case.before != "none"
        try:
            await asyncio.wait_for(self._auto_charger.fresh(booted=booted),
                                   self.options.step_timeout * 2)
        except asyncio.TimeoutError:
            return Verdict.ERROR, "the simulated charger did not boot in time"
        except Exception as exc:
            return Verdict.ERROR, f"the simulated charger could not start: {exc}"
        # wait until the engine has seen old connections go and the new one come
        await run.wait_until(lambda: len(self._live) == (1 if booted else 0) and
                             (self.current is not None) == booted, 5, poll=0.1)
        if booted and self.current is None:
            return Verdict.ERROR, "the simulated charger did not connect"
        return Verdict.PASS, ("simulated charger connected and booted" if booted
                              else "simulated charger powered off")

    async def _restart_simulated_csms(self, case: Case) -> None:
        """Step 0 with a simulated CSMS: a fresh one with the case's overrides; `target` is its URL."""
        overrides = deep_merge(case.auto_csms, self.options.csms_overrides)
        try:
            self.target = await self._auto_csms.restart(overrides)
        except Exception as exc:
            raise StepProblem(Verdict.ERROR, f"the simulated CSMS could not start: {exc}") from None

    async def _auto_prompt(self, request: PromptRequest) -> PromptReply:
        """Answer an operator prompt by having the simulator perform its action."""
        driver = self._auto_charger or self._auto_csms
        if request.action is None:
            return PromptReply.done("nothing for the simulator to do")
        if driver is None or not driver.can(request.action):
            return PromptReply.skip(f"the simulator cannot perform {request.action!r}")
        driver.perform(request.action, request.args)
        args = f" {show_json(request.args)}" if request.args else ""
        return PromptReply.done(f"simulator performs {request.action}{args}")
