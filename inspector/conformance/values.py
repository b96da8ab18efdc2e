"""Values in cases: placeholders resolved when a step runs, paths into payloads, renderings.

A case is written before the run, so anything only known then (a saved transaction id,
a run parameter, the current time) is a `Placeholder` that `resolve` fills in against
the step's context (`context.Context`). `show` renders a value, placeholders by name,
for step titles and failure reasons.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


# "no value here", distinct from a JSON null: what get_path returns for an absent field
MISSING = _Missing()


# ---- placeholders ------------------------------------------------------------------------------

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


# ---- renderings --------------------------------------------------------------------------------

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


def show_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def shorten(text: str, limit: int = 160) -> str:
    """`text` cut to `limit` characters with "..." (reasons and titles stay one line)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- paths into payloads -----------------------------------------------------------------------

_TOKEN = re.compile(r"\[(\*|-?\d+)\]|\[([A-Za-z_][A-Za-z0-9_]*)=([^\]]*)\]|([^.\[\]]+)")


@dataclass(frozen=True)
class _Select:
    """`[key=value]` in a path: the first list item whose `key` is `value` (as text)."""

    key: str
    value: str


def _tokens(path: str) -> list:
    out = []
    for index, key, value, name in _TOKEN.findall(path):
        if name:
            out.append(name)
        elif key:
            out.append(_Select(key, value))
        elif index == "*":
            out.append("*")
        else:
            out.append(int(index))
    return out


def get_path(obj: Any, path: str) -> Any:
    """The value at a dotted path ('a.b[0].c'); `[*]` collects a list; `[key=NumberOfConnectors]`
    picks the first list item whose `key` has that value; MISSING if absent."""
    if not path:
        return obj
    values, multi = [obj], False
    for token in _tokens(path):
        nxt = []
        for value in values:
            if token == "*":
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(token, _Select):
                if isinstance(value, list):
                    nxt.extend(next(([item] for item in value if isinstance(item, dict)
                                     and str(item.get(token.key)) == token.value), []))
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
