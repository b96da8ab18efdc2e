"""The data model of the conformance engine: cases, steps, checks, placeholders, results.

Cases are plain data built from the classes here (see `testsuites/`). Nothing in this
module does I/O; the runner (`runner.py`) interprets steps against a live connection.

Vocabulary:
- SUT kind "charger": the system under test is a charging station, the engine plays the
  CSMS (it listens). SUT kind "csms": the SUT is a central system, the engine plays the
  charging station (it connects).
- A step's verdict is one of pass / fail / inconclusive / error, with a reason a tester
  can read and the frames the step used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Callable, ClassVar, Sequence

CHARGER, CSMS = "charger", "csms"
SUT_KINDS = (CHARGER, CSMS)


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        return self is Verdict.PASS


def worst(verdicts) -> Verdict:
    """The case verdict from its steps: error > fail > inconclusive > pass."""
    order = (Verdict.ERROR, Verdict.FAIL, Verdict.INCONCLUSIVE)
    verdicts = list(verdicts)
    for verdict in order:
        if verdict in verdicts:
            return verdict
    return Verdict.PASS


# ---- placeholders: values resolved when a step runs ----------------------------------------

class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


class Placeholder:
    def resolve(self, ctx) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class V(Placeholder):
    """A case variable (saved from an earlier frame) or a run parameter, by name."""

    name: str
    default: Any = MISSING

    def resolve(self, ctx) -> Any:
        return ctx.value(self.name, self.default)

    def __str__(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class Now(Placeholder):
    """The current UTC time as OCPP writes it, optionally shifted by `offset` seconds."""

    offset: float = 0.0

    def resolve(self, ctx) -> str:
        when = datetime.now(timezone.utc) + timedelta(seconds=self.offset)
        return f"{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"

    def __str__(self) -> str:
        return "<now>" if not self.offset else f"<now{self.offset:+g}s>"


NOW = Now()


@dataclass(frozen=True)
class Fmt(Placeholder):
    """A string with {name} fields filled from variables and parameters."""

    template: str

    def resolve(self, ctx) -> str:
        return ctx.format(self.template)

    def __str__(self) -> str:
        return self.template


@dataclass(frozen=True)
class Calc(Placeholder):
    """A value computed from the context: `Calc(lambda c: int(c.value("n")) + 1, "n+1")`."""

    fn: Callable[[Any], Any]
    text: str = "<computed>"

    def resolve(self, ctx) -> Any:
        return self.fn(ctx)

    def __str__(self) -> str:
        return self.text


def IntV(name: str, plus: int = 0) -> Calc:
    """A parameter or variable as an integer (parameters typed on a command line are text)."""
    return Calc(lambda ctx: int(float(ctx.value(name))) + plus,
                f"<{name}>" + (f"+{plus}" if plus else ""))


def StrV(name: str) -> Calc:
    """A parameter or variable as text (e.g. 1.6 configuration values)."""
    return Calc(lambda ctx: str(ctx.value(name)), f"<{name}>")


def FloatV(name: str, factor: float = 1.0, plus: float = 0.0) -> Calc:
    text = f"<{name}>" + (f"*{factor:g}" if factor != 1 else "") + (f"+{plus:g}" if plus else "")
    return Calc(lambda ctx: float(ctx.value(name)) * factor + plus, text)


def StepTimeoutPlus(name: str) -> Calc:
    """A parameter (seconds) plus the run's step timeout: for "within the interval" steps."""
    return Calc(lambda ctx: float(ctx.value(name)) + ctx.step_timeout, f"<{name}> + step timeout")


def resolve(value: Any, ctx) -> Any:
    """Replace placeholders (recursively) in a payload; callables get the context."""
    if isinstance(value, Placeholder):
        return value.resolve(ctx)
    if isinstance(value, dict):
        return {k: resolve(v, ctx) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, ctx) for v in value]
    if callable(value):
        return resolve(value(ctx), ctx)
    return value


def show(value: Any) -> str:
    """A short readable rendering of an expected value (placeholders by name)."""
    if isinstance(value, Placeholder):
        return str(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return repr(value) if value is not None else "null"


# ---- paths into payloads ---------------------------------------------------------------------

_TOKEN = re.compile(r"\[(\*|-?\d+)\]|([^.\[\]]+)")


def _tokens(path: str) -> list:
    out = []
    for index, name in _TOKEN.findall(path):
        if name:
            out.append(name)
        elif index == "*":
            out.append("*")
        else:
            out.append(int(index))
    return out


def get_path(obj: Any, path: str) -> Any:
    """The value at a dotted path ('a.b[0].c'); `[*]` collects a list; MISSING if absent."""
    if not path:
        return obj
    values, multi = [obj], False
    for token in _tokens(path):
        nxt = []
        for value in values:
            if token == "*":
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(token, int):
                if isinstance(value, list) and -len(value) <= token < len(value):
                    nxt.append(value[token])
            elif isinstance(value, dict) and token in value:
                nxt.append(value[token])
        if token == "*":
            multi = True
        values = nxt
    if multi:
        return values
    return values[0] if values else MISSING


# ---- checks ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One assertion on a payload. `test(actual, expected)` returns a failure text or None."""

    path: str
    text: str  # e.g. "status is Accepted"
    test: Callable[[Any, Any], str | None]
    expected: Any = None

    def describe(self) -> str:
        return self.text

    def evaluate(self, payload: Any, ctx, record=None) -> str | None:
        actual = get_path(payload, self.path)
        expected = resolve(self.expected, ctx)
        problem = self.test(actual, expected)
        return f"{self.path or 'payload'} {problem}" if problem else None


def _shown(actual: Any) -> str:
    if actual is MISSING:
        return "absent"
    text = repr(actual) if not isinstance(actual, (dict, list)) else show_json(actual)
    return text if len(text) <= 120 else text[:117] + "..."


def show_json(value: Any) -> str:
    import json
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loose_equal(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    # parameters often arrive as strings ("1") where the payload holds numbers
    if isinstance(actual, (int, float)) and not isinstance(actual, bool) and isinstance(expected, str):
        try:
            return float(expected) == actual
        except ValueError:
            return False
    return False


def eq(path: str, value: Any) -> Check:
    def test(actual, expected):
        if _loose_equal(actual, expected):
            return None
        return f"is {_shown(actual)}, expected {show(expected)!s}"
    return Check(path, f"{path} is {show(value)}", test, value)


def ne(path: str, value: Any) -> Check:
    def test(actual, expected):
        return None if actual != expected else f"is {_shown(actual)}, which it must not be"
    return Check(path, f"{path} is not {show(value)}", test, value)


def one_of(path: str, values: Sequence) -> Check:
    def test(actual, expected):
        if any(_loose_equal(actual, e) for e in expected):
            return None
        return f"is {_shown(actual)}, expected one of {', '.join(map(show, expected))}"
    return Check(path, f"{path} is one of {', '.join(map(show, values))}", test, list(values))


def eq_or_absent(path: str, value: Any) -> Check:
    def test(actual, expected):
        if actual is MISSING or _loose_equal(actual, expected):
            return None
        return f"is {_shown(actual)}, expected {show(expected)} (or absent)"
    return Check(path, f"{path} is {show(value)} or absent", test, value)


def present(path: str) -> Check:
    def test(actual, expected):
        return "is missing" if actual is MISSING or actual == [] else None
    return Check(path, f"{path} is present", test)


def absent(path: str) -> Check:
    def test(actual, expected):
        return None if actual is MISSING else f"is {_shown(actual)}, expected it absent"
    return Check(path, f"{path} is absent", test)


def gt(path: str, value: Any) -> Check:
    def test(actual, expected):
        if isinstance(actual, (int, float)) and not isinstance(actual, bool) and actual > float(expected):
            return None
        return f"is {_shown(actual)}, expected a number above {show(expected)}"
    return Check(path, f"{path} > {show(value)}", test, value)


def is_int(path: str) -> Check:
    def test(actual, expected):
        return None if type(actual) is int else f"is {_shown(actual)}, expected an integer"
    return Check(path, f"{path} is an integer", test)


def nonempty_str(path: str) -> Check:
    def test(actual, expected):
        return None if isinstance(actual, str) and actual else f"is {_shown(actual)}, expected a non-empty string"
    return Check(path, f"{path} is a non-empty string", test)


def is_datetime(path: str) -> Check:
    def test(actual, expected):
        if isinstance(actual, str):
            try:
                datetime.fromisoformat(actual.replace("Z", "+00:00"))
                return None
            except ValueError:
                pass
        return f"is {_shown(actual)}, expected an ISO 8601 date-time"
    return Check(path, f"{path} is a date-time", test)


def contains(path: str, value: Any) -> Check:
    """The list at `path` (usually with [*]) contains `value`."""
    def test(actual, expected):
        items = actual if isinstance(actual, list) else ([] if actual is MISSING else [actual])
        if any(_loose_equal(item, expected) for item in items):
            return None
        return f"does not contain {show(expected)} (got {_shown(items)})"
    return Check(path, f"{path} contains {show(value)}", test, value)


def length(path: str, count: int) -> Check:
    def test(actual, expected):
        if isinstance(actual, list) and len(actual) == expected:
            return None
        got = len(actual) if isinstance(actual, list) else _shown(actual)
        return f"has {got} item(s), expected {expected}"
    return Check(path, f"{path} has {count} item(s)", test, count)


def satisfies(path: str, text: str, predicate: Callable[[Any], bool]) -> Check:
    def test(actual, expected):
        return None if predicate(actual) else f"is {_shown(actual)}: expected {text}"
    return Check(path, f"{path} {text}", test)


@dataclass(frozen=True)
class TimingCheck:
    """The frame arrived at least `seconds` (minus `slack`) after a saved moment."""

    since: str  # name of a time variable saved with `save_time`
    seconds: Any
    slack: float = 0.3

    def describe(self) -> str:
        return f"not earlier than {show(self.seconds)} s after <{self.since}>"

    def evaluate(self, payload, ctx, record=None) -> str | None:
        start = ctx.vars.get(self.since)
        if record is None or not isinstance(start, (int, float)):
            return None
        wanted = float(resolve(self.seconds, ctx))
        elapsed = record.time - start
        if elapsed + self.slack >= wanted:
            return None
        return f"arrived {elapsed:.1f} s after <{self.since}>, before the interval of {wanted:g} s"


def not_before(since: str, seconds: Any, slack: float = 0.3) -> TimingCheck:
    return TimingCheck(since, seconds, slack)


# ---- replies to the SUT's CALLs ---------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    """How the engine answers a SUT CALL that a step expects.

    `merge` is deep-merged over the schema-valid default response; `payload` replaces it;
    `error` answers with a CALLERROR (code, description); `delay` holds the answer back.
    """

    merge: dict | None = None
    payload: Any = None
    error: tuple[str, str] | None = None
    delay: Any = 0

    def describe(self) -> str:
        if self.error:
            return f"answer CALLERROR {self.error[0]}"
        body = self.payload if self.payload is not None else self.merge
        text = f"answer {show(body)}" if body else "answer with the default response"
        if self.delay:
            text += f" after {show(self.delay)} s"
        return text


def answer(_delay: Any = 0, **fields) -> Reply:
    """Default response with these fields merged in: answer(status="Pending", interval=V("i"))."""
    return Reply(merge=fields or None, delay=_delay)


def answer_exactly(payload: Any) -> Reply:
    return Reply(payload=payload)


def answer_error(code: str, description: str = "") -> Reply:
    return Reply(error=(code, description))


# ---- steps ------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class Step:
    title: str | None = None
    timeout: Any = None  # seconds, a Placeholder, or None for the run's step timeout

    kind: ClassVar[str] = "step"

    def claims(self, sut: str) -> bool:
        """Whether this step waits for something the SUT does (and can claim it early)."""
        return False

    def describe(self) -> str:
        return self.title or self.auto_title()

    def auto_title(self) -> str:
        return self.kind


def _where_text(where: dict) -> str:
    if not where:
        return ""

    def alternatives(value):
        if isinstance(value, (list, tuple)):
            return " or ".join(show(v) for v in value)
        return show(value)
    return " with " + ", ".join(f"{k.split('.')[-1]} {alternatives(v)}" for k, v in where.items())


@dataclass
class Expect(Step):
    """Expect a CALL of `action` from the SUT (matching `where`), check it, answer it."""

    action: str
    where: dict = field(default_factory=dict)
    checks: Sequence = ()
    reply: Reply | None = None
    save: dict = field(default_factory=dict)  # var -> "request.path" / "response.path"
    save_time: str | None = None

    kind: ClassVar[str] = "expect"

    def claims(self, sut: str) -> bool:
        return True

    def auto_title(self) -> str:
        text = f"expect {self.action}{_where_text(self.where)}"
        if self.checks:
            text += "; check " + ", ".join(c.describe() for c in self.checks)
        if self.reply:
            text += "; " + self.reply.describe()
        return text

    def expectation(self) -> str:
        return f"{self.action}{_where_text(self.where)}"


@dataclass
class Send(Step):
    """Send a CALL to the SUT and check its answer (a CALLRESULT unless `expect_error`)."""

    action: str
    payload: Any = None  # None: a schema-valid template
    checks: Sequence = ()
    expect_error: Sequence[str] | None = None
    save: dict = field(default_factory=dict)  # var -> "response.path" / "request.path"
    unique_id: Any = None

    kind: ClassVar[str] = "send"

    def auto_title(self) -> str:
        text = f"send {self.action}"
        if isinstance(self.payload, dict) and self.payload:
            text += " " + show(self.payload)
        if self.expect_error:
            text += f"; expect CALLERROR {' or '.join(self.expect_error)}"
        if self.checks:
            text += "; check " + ", ".join(c.describe() for c in self.checks)
        return text


@dataclass
class SendRaw(Step):
    """Send raw text (malformed on purpose) and expect a CALLERROR with one of `codes`."""

    text: Any
    codes: Sequence[str] = ()
    ids: Sequence[Any] | None = None  # unique ids the CALLERROR may carry (None: any)

    kind: ClassVar[str] = "send_raw"

    def auto_title(self) -> str:
        raw = str(self.text)
        raw = raw if len(raw) <= 60 else raw[:57] + "..."
        return f"send raw {raw!r}; expect CALLERROR {' or '.join(self.codes)}"


@dataclass
class Wait(Step):
    seconds: Any = 1.0

    kind: ClassVar[str] = "wait"

    def auto_title(self) -> str:
        return f"wait {show(self.seconds)} s"


@dataclass
class ExpectNone(Step):
    """The SUT must not send a matching CALL for `seconds` (negative step)."""

    action: str | None = None
    seconds: Any = 5.0
    where: dict = field(default_factory=dict)
    exclude: Sequence[str] = ()

    kind: ClassVar[str] = "expect_none"

    def auto_title(self) -> str:
        what = self.action or "any CALL"
        if self.exclude:
            what += " other than " + ", ".join(self.exclude)
        return f"expect no {what}{_where_text(self.where)} for {show(self.seconds)} s"


@dataclass
class Prompt(Step):
    """Ask the operator to act on the SUT; in --auto mode a simulator performs `action`."""

    text: str
    action: str | None = None
    args: dict = field(default_factory=dict)

    kind: ClassVar[str] = "prompt"

    def auto_title(self) -> str:
        return f"operator: {self.text}"


@dataclass
class Connect(Step):
    """SUT charger: wait for the charger to (re)connect. SUT CSMS: open a new connection."""

    kind: ClassVar[str] = "connect"

    def claims(self, sut: str) -> bool:
        return sut == CHARGER

    def auto_title(self) -> str:
        return "connection opened"


@dataclass
class Disconnect(Step):
    kind: ClassVar[str] = "disconnect"

    def auto_title(self) -> str:
        return "close the connection"


@dataclass
class ExpectDisconnect(Step):
    kind: ClassVar[str] = "expect_disconnect"

    def claims(self, sut: str) -> bool:
        return True

    def auto_title(self) -> str:
        return "the SUT closes the connection"


# ---- cases ------------------------------------------------------------------------------------

BEFORE_STATES = ("none", "connected", "booted")


@dataclass
class Case:
    id: str
    title: str
    version: str
    sut: str
    group: str
    steps: list
    preconditions: str = ""
    description: str = ""
    before: str = "booted"  # state the engine establishes first: none / connected / booted
    auto_csms: dict = field(default_factory=dict)  # FakeCsms overrides in --auto mode
    params: dict = field(default_factory=dict)  # case-specific parameter defaults
    vars: dict = field(default_factory=dict)  # initial variables (callables are called)
    references: str = ""

    def __post_init__(self):
        if self.sut not in SUT_KINDS:
            raise ValueError(f"{self.id}: unknown SUT kind {self.sut!r}")
        if self.before not in BEFORE_STATES:
            raise ValueError(f"{self.id}: unknown precondition state {self.before!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.version, self.id)

    def info(self) -> dict:
        """A JSON-friendly summary (for listings and GUIs)."""
        return {"id": self.id, "title": self.title, "version": self.version, "sut": self.sut,
                "group": self.group, "preconditions": self.preconditions,
                "description": self.description, "before": self.before,
                "steps": [{"kind": s.kind, "title": s.describe()} for s in self.steps]}


# ---- results ----------------------------------------------------------------------------------

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
class StepResult:
    index: int  # 0 = precondition, 1.. = the case's steps
    kind: str
    title: str
    verdict: Verdict | None = None
    reason: str = ""
    frames: list[FrameEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float | None = None
    ended: float | None = None

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return max(0.0, self.ended - self.started)

    def line(self) -> str:
        verdict = self.verdict.value if self.verdict else "-"
        text = f"{self.index:>2} {verdict.upper():<12} {self.title}"
        if self.reason:
            text += f"\n   {'':12} -> {self.reason}"
        for note in self.notes:
            text += f"\n   {'':12} note: {note}"
        return text


@dataclass
class CaseResult:
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
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return max(0.0, self.ended - self.started)

    @property
    def passed(self) -> bool:
        return self.verdict is Verdict.PASS

    def log(self, *, frames: bool = True) -> str:
        """The step log as plain text (JUnit system-out, CLI)."""
        lines = [f"{self.case_id} {self.title} [{self.version}, SUT {self.sut}] -> "
                 f"{self.verdict.value.upper()}"]
        for step in self.steps:
            lines.append(step.line())
            if frames:
                for frame in step.frames:
                    arrow = "SUT ->" if frame.from_sut else "-> SUT"
                    mark = "" if frame.valid is not False else "  [INVALID]"
                    lines.append(f"   {'':12}   {arrow} {frame.raw}{mark}")
        return "\n".join(lines)


@dataclass
class RunResult:
    version: str
    sut: str
    cases: list[CaseResult] = field(default_factory=list)
    started: float | None = None
    ended: float | None = None
    endpoint: str = ""  # where the engine listened or what it targeted
    auto: bool = False

    @property
    def duration(self) -> float:
        if self.started is None or self.ended is None:
            return 0.0
        return max(0.0, self.ended - self.started)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.cases if c.verdict is verdict)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1

    def summary(self) -> str:
        return (f"{self.count(Verdict.PASS)} passed, {self.count(Verdict.FAIL)} failed, "
                f"{self.count(Verdict.INCONCLUSIVE)} inconclusive, "
                f"{self.count(Verdict.ERROR)} error(s) of {len(self.cases)} case(s) "
                f"in {self.duration:.1f} s")
