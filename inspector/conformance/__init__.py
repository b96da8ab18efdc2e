"""Conformance suites: OCTT-style test cases run against a real or simulated SUT.

Public API (no Qt; the GUI Suites tab builds on it)::

    from inspector.conformance import catalog, SuiteRunner, RunOptions
    cases = catalog.list_cases("1.6", "charger")          # Case objects (case.info() for JSON)
    runner = SuiteRunner(RunOptions(version="1.6", sut="charger", listen=Listen("0.0.0.0", 9000)),
                         hub=hub, prompt=async_prompt, on_event=callback)
    result = await runner.run(cases)                       # RunResult
    report.write_junit(result, "junit.xml"); report.write_html(result, "report.html")

Events (`inspector.conformance.events`) are published on the hub and passed to
`on_event`: SuiteStarted, CaseStarted, StepStarted, StepFinished (with the StepResult:
verdict, reason, frames), PromptRequested, PromptDismissed, CaseFinished, SuiteFinished, SuiteNote.
"""

from . import catalog, report
from .events import (CaseFinished, CaseStarted, PromptDismissed, PromptReply, PromptRequest,
                     PromptRequested, StepFinished, StepStarted, SuiteFinished, SuiteNote, SuiteStarted)
from .model import (CHARGER, CSMS, Case, CaseResult, FrameEntry, RunResult, StepResult, Verdict)
from .runner import DEFAULT_PARAMS, RunOptions, SuiteError, SuiteRunner

__all__ = [
    "catalog", "report", "SuiteRunner", "RunOptions", "SuiteError", "DEFAULT_PARAMS",
    "Case", "CaseResult", "StepResult", "RunResult", "FrameEntry", "Verdict", "CHARGER", "CSMS",
    "SuiteStarted", "CaseStarted", "StepStarted", "StepFinished", "CaseFinished", "SuiteFinished",
    "SuiteNote", "PromptRequest", "PromptReply", "PromptRequested", "PromptDismissed",
]
