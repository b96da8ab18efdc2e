"""What a running step sees (`Context`) and how it gives up early (`StepProblem`)."""

from __future__ import annotations

import re

from .terms import Verdict
from .values import MISSING, resolve

_PARAM_REF = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


class StepProblem(Exception):
    """Ends the running step with `verdict` and `reason`, from however deep it is raised.

    The runner turns it into the step's result; it never reaches the user as a traceback."""

    def __init__(self, verdict: Verdict, reason: str):
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason


class Context:
    """What a step's placeholders see: run parameters and the case's saved variables."""

    def __init__(self, version: str, sut: str, params: dict, variables: dict, step_timeout: float,
                 endpoint: str = ""):
        self.version, self.sut = version, sut
        self.params = params
        self.vars = variables
        self.step_timeout = step_timeout
        self.endpoint = endpoint

    def value(self, name: str, default=MISSING):
        if name in self.vars:
            return self.vars[name]
        if name in self.params:
            return self.params[name]
        if name == "url":
            return self.endpoint
        if default is not MISSING:
            return default
        raise StepProblem(Verdict.ERROR, f"<{name}> is not set (no earlier step saved it and "
                                         f"no parameter of that name exists)")

    def fill(self, text: str) -> str:
        """Show run parameters by value in a step's text: '<connector>' -> '1'."""
        return _PARAM_REF.sub(lambda m: str(self.params[m.group(1)]) if m.group(1) in self.params
                              else m.group(0), text)

    def format(self, template: str) -> str:
        ctx = self

        class _Lookup(dict):
            def __missing__(self, key):
                return ctx.value(key, "{" + key + "}")
        return template.format_map(_Lookup())


def resolve_or_missing(value, ctx):
    """`resolve`, but MISSING for a variable not set yet: for explaining a failure, not failing."""
    try:
        return resolve(value, ctx)
    except StepProblem:
        return MISSING
