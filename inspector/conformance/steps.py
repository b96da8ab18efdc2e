"""The step kinds a case is made of, and the replies an `Expect` step gives the SUT.

Steps are plain data; `step_handlers.py` runs them. `Step.claims` tells the runner which
steps wait for something the SUT does, because those may claim a frame that arrives
before their turn (see `matching.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

from .checks import where_text
from .terms import CHARGER
from .values import shorten, show


# ---- replies to the SUT's CALLs ----------------------------------------------------------------

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


# ---- steps -------------------------------------------------------------------------------------

@dataclass(kw_only=True)
class Step:
    title: str | None = None
    timeout: Any = None  # seconds, a Placeholder, or None for the run's step timeout

    kind: ClassVar[str] = "step"
    # whether the steps waiting after this one may claim the SUT's messages from the moment
    # it starts; False for a step whose trigger comes later (a Send arms when its CALL is out)
    arms_at_start: ClassVar[bool] = True

    def claims(self, sut: str) -> bool:
        """Whether this step waits for something the SUT does (and can claim it early)."""
        return False

    def describe(self) -> str:
        return self.title or self.auto_title()

    def auto_title(self) -> str:
        return self.kind


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
        text = f"expect {self.action}{where_text(self.where)}"
        if self.checks:
            text += "; check " + ", ".join(c.describe() for c in self.checks)
        if self.reply:
            text += "; " + self.reply.describe()
        return text

    def expectation(self) -> str:
        return f"{self.action}{where_text(self.where)}"


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
    arms_at_start: ClassVar[bool] = False

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
    # the SUT may also process the frame and answer with a CALLRESULT (e.g. an over-long id,
    # which binds the sender: a receiver may refuse it or process the call)
    result_ok: bool = False

    kind: ClassVar[str] = "send_raw"

    def auto_title(self) -> str:
        raw = shorten(str(self.text), 60)
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
        return f"expect no {what}{where_text(self.where)} for {show(self.seconds)} s"


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
