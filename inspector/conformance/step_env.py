"""What a running step may use (`StepEnv`): the connections to the SUT, the operator or the
simulator, the run's options, and the judging every step kind shares.

Step kinds (`steps.py`) each own how they run; they reach the world only through this
object, so a step kind is one class and the runner is not a base class of anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ..rpc import Endpoint
from .connections import SutConnections
from .context import Context, StepProblem
from .options import PromptCallback, RunOptions
from .simulation import SimulatedSut
from .sut_config import SutDescription
from .terms import CHARGER, Verdict
from .values import MISSING, get_path, resolve

if TYPE_CHECKING:
    from .matching import CaseRun


class StepEnv:
    def __init__(self, options: RunOptions, connections: SutConnections, *,
                 simulator: SimulatedSut | None, prompt: PromptCallback | None,
                 publish: Callable[[object], None], description: SutDescription | None):
        self.options = options
        self.version, self.sut = options.version, options.sut
        self.connections = connections
        self.simulator = simulator
        self.prompt = prompt  # asks the operator; None: nobody is there (non-interactive)
        self.publish = publish
        self.description = description

    @property
    def current(self) -> Endpoint | None:
        return self.connections.current

    def timeout(self, step, ctx: Context, default: float | None = None) -> float:
        if step.timeout is not None:
            return float(resolve(step.timeout, ctx))
        return self.options.step_timeout if default is None else default

    def require_endpoint(self, what: str) -> Endpoint:
        if self.current is None:
            who = "charger" if self.sut == CHARGER else "CSMS"
            raise StepProblem(Verdict.FAIL, f"not connected to the {who} when sending {what}")
        return self.current

    async def call_sut(self, endpoint: Endpoint, action: str, payload, timeout: float, **kwargs):
        return await self.connections.call_sut(endpoint, action, payload, timeout, **kwargs)

    def judge_checks(self, run: CaseRun, checks, payload, record, label: str):
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

    @staticmethod
    def save(run: CaseRun, save: dict, *, request, response, default: str, action: str) -> None:
        """Keep values of a request or response as case variables (`save=`)."""
        for name, spec in save.items():
            source, _, path = spec.partition(".") if spec.startswith(("request.", "response.")) \
                else (default, "", spec)
            data = request if source == "request" else response
            value = get_path(data, path)
            if value is MISSING:
                raise StepProblem(Verdict.FAIL, f"{action} {source} has no {path} (needed as <{name}>)")
            run.ctx.vars[name] = value
