"""What a run produces: per-step, per-case and per-run results with verdicts and reasons.

The runner fills these in as it goes; events carry them to front-ends and `report.py`
turns them into JUnit XML and HTML. A step's verdict comes with a reason a tester can
read and the frames the step used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .terms import Verdict


class _Timed:
    """`duration` for a result with `started` / `ended` wall-clock times (0 until both are set).

    A plain base class rather than dataclass fields, so each result keeps its own field
    order (and positional constructor) with `started` / `ended` after the rest."""

    started: float | None
    ended: float | None

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return max(0.0, self.ended - self.started)


@dataclass
class FrameEntry:
    """A frame as a step saw it. `from_sut` tells the direction relative to the SUT."""

    seq: int
    time: float
    from_sut: bool
    type: str
    action: str | None
    unique_id: str | None
    raw: str
    valid: bool | None
    errors: list[str]
    flags: list[str]
    used: bool = False


@dataclass
class StepResult(_Timed):
    index: int  # 0 = precondition, 1.. = the case's steps
    kind: str
    title: str
    verdict: Verdict | None = None
    reason: str = ""
    frames: list[FrameEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float | None = None
    ended: float | None = None

    def line(self) -> str:
        verdict = self.verdict.label if self.verdict else "-"
        text = f"{self.index:>2} {verdict:<14} {self.title}"
        if self.reason:
            text += f"\n   {'':12} -> {self.reason}"
        for note in self.notes:
            text += f"\n   {'':12} note: {note}"
        return text


@dataclass
class CaseResult(_Timed):
    case_id: str
    title: str
    version: str
    sut: str
    group: str
    verdict: Verdict = Verdict.ERROR
    reason: str = ""
    steps: list[StepResult] = field(default_factory=list)
    started: float | None = None
    ended: float | None = None

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    def log(self, *, frames: bool = True) -> str:
        """The step log as plain text (JUnit system-out, CLI)."""
        lines = [f"{self.case_id} {self.title} [{self.version}, SUT {self.sut}] -> "
                 f"{self.verdict.label}"]
        for step in self.steps:
            lines.append(step.line())
            if frames:
                for frame in step.frames:
                    arrow = "SUT ->" if frame.from_sut else "-> SUT"
                    mark = "" if frame.valid is not False else "  [INVALID]"
                    lines.append(f"   {'':12}   {arrow} {frame.raw}{mark}")
        return "\n".join(lines)


@dataclass
class RunResult(_Timed):
    version: str
    sut: str
    cases: list[CaseResult] = field(default_factory=list)
    started: float | None = None
    ended: float | None = None
    endpoint: str = ""  # where the engine listened or what it targeted
    auto: bool = False  # our own simulator played the SUT (--simulate-sut)
    tested: str = ""  # the SUT actually tested, for report headers: a URL, a charger, or ours
    sut_config: str = ""  # the SUT description file, if one was given

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.cases if c.verdict is verdict)

    @property
    def passed(self) -> bool:
        """Every case passed or was not applicable, and at least one case really ran.

        A run where nothing was tested (no case, or all not applicable) did not pass:
        an exit code 0 must mean the SUT was tested and behaved."""
        return (self.count(Verdict.PASS) > 0
                and all(c.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE) for c in self.cases))

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def summary(self) -> str:
        return (f"{self.count(Verdict.PASS)} passed, {self.count(Verdict.FAIL)} failed, "
                f"{self.count(Verdict.INCONCLUSIVE)} inconclusive, "
                f"{self.count(Verdict.NOT_APPLICABLE)} not applicable, "
                f"{self.count(Verdict.ERROR)} error(s) of {len(self.cases)} case(s) "
                f"in {self.duration:.1f} s")
