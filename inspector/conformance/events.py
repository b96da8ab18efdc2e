"""Events the conformance runner publishes (on the Hub and to an `on_event` callback).

A front-end (CLI, GUI Suites tab) renders a live run from these alone: which case and
step runs, each step's verdict as soon as it is known, and operator prompts. Operator
prompts are *answered* through the runner's async `prompt` callback, not through events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .results import CaseResult, RunResult, StepResult


@dataclass(frozen=True, slots=True)
class SuiteStarted:
    version: str
    sut: str
    case_ids: tuple[str, ...]
    endpoint: str  # the URL chargers connect to, or the target CSMS URL
    auto: bool  # our own simulator plays the SUT
    tested: str = ""  # what is tested, in words (report header)


@dataclass(frozen=True, slots=True)
class CaseStarted:
    case_id: str
    title: str
    number: int  # 1-based position in the run
    total: int
    steps: tuple[str, ...]  # step titles, index 1.. (0 is the precondition)


@dataclass(frozen=True, slots=True)
class StepStarted:
    case_id: str
    index: int
    kind: str
    title: str


@dataclass(frozen=True, slots=True)
class StepFinished:
    case_id: str
    result: StepResult


@dataclass(frozen=True, slots=True)
class CaseFinished:
    result: CaseResult


@dataclass(frozen=True, slots=True)
class SuiteFinished:
    result: RunResult


@dataclass(frozen=True, slots=True)
class PromptRequest:
    """What the operator is asked to do. `action`/`args` name the simulator action (--auto).

    `observe` says what the engine watches for that shows the action was done (e.g. "the
    charger connects to ws://..."): when it is seen, the prompt ends by itself
    (`PromptDismissed`) and no answer is needed. `timeout` is how long the prompt waits
    (seconds), for a countdown; None when the prompt waits for nobody (simulator)."""

    case_id: str
    case_title: str
    step_index: int
    text: str
    action: str | None = None
    args: dict = field(default_factory=dict)
    observe: str = ""
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class PromptReply:
    """The operator's answer: done (ok), or failed / skipped with a note."""

    ok: bool = True
    note: str = ""
    skipped: bool = False  # the operator could not do it: step inconclusive instead of failed

    @classmethod
    def done(cls, note: str = "") -> "PromptReply":
        return cls(True, note)

    @classmethod
    def failed(cls, note: str = "") -> "PromptReply":
        return cls(False, note)

    @classmethod
    def skip(cls, note: str = "") -> "PromptReply":
        return cls(False, note, skipped=True)


@dataclass(frozen=True, slots=True)
class PromptRequested:
    request: PromptRequest


@dataclass(frozen=True, slots=True)
class PromptDismissed:
    """The prompt's effect was observed (or the prompt timed out): front-ends close it."""

    case_id: str
    step_index: int
    reason: str


@dataclass(frozen=True, slots=True)
class SuiteNote:
    """A line for the user: listening address, waiting for a charger, simulator trouble."""

    level: str
    text: str
