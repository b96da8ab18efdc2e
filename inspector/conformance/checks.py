"""Assertions on payloads (`checks=`) and the `where=` filters that pick which CALL a step takes.

Both compare a value found in a frame with a value the case expects, and both compare
*loosely*: run parameters typed on a command line arrive as text ("1") where the payload
holds a number, so `loose_equal` accepts a number equal to its text. Checks report a
reason a tester can read; where-filters only say match / no match.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

from .values import MISSING, V, get_path, resolve, shorten, show, show_json


def loose_equal(actual: Any, expected: Any) -> bool:
    if actual == expected:
        return True
    # parameters often arrive as strings ("1") where the payload holds numbers
    if isinstance(actual, (int, float)) and not isinstance(actual, bool) and isinstance(expected, str):
        try:
            return float(expected) == actual
        except ValueError:
            return False
    return False


# ---- where-filters -----------------------------------------------------------------------------

def where_value_matches(actual: Any, expected: Any) -> bool:
    """One `where` entry: a list or tuple of expected values means "any of these"."""
    if isinstance(expected, (list, tuple)):
        return any(where_value_matches(actual, e) for e in expected)
    return loose_equal(actual, expected)


def where_matches(where: dict, payload: Any, ctx) -> bool:
    """Whether `payload` passes a step's `where` filter (placeholders resolved against `ctx`).

    Stops at the first mismatch, so a later placeholder is not resolved needlessly."""
    return all(where_value_matches(get_path(payload, path), resolve(expected, ctx))
               for path, expected in where.items())


def where_text(where: dict) -> str:
    """' with connectorId 1, status Charging or Preparing' for a step title ('' if no filter)."""
    if not where:
        return ""

    def alternatives(value):
        if isinstance(value, (list, tuple)):
            return " or ".join(show(v) for v in value)
        return show(value)
    return " with " + ", ".join(f"{k.split('.')[-1]} {alternatives(v)}" for k, v in where.items())


# ---- checks ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One assertion on a payload. `test(actual, expected)` returns a failure text or None."""

    path: str
    text: str  # e.g. "status is Accepted"
    test: Callable[[Any, Any], str | None]
    expected: Any = None
    # the need (see sut_config.py) this check depends on: it holds only when the SUT was set
    # up for the case (a CSMS told to answer Pending, a tag it knows as blocked)
    setup_for: str | None = None

    def describe(self) -> str:
        return self.text

    def evaluate(self, payload: Any, ctx, record=None) -> str | None:
        actual = get_path(payload, self.path)
        expected = resolve(self.expected, ctx)
        problem = self.test(actual, expected)
        return f"{self.path or 'payload'} {problem}" if problem else None


def setup_check(check: "Check", need: str) -> "Check":
    """`check`, marked as holding only when the SUT was set up for `need`: failing it is a
    FAIL when the SUT description declares that set-up, else INCONCLUSIVE."""
    from dataclasses import replace
    return replace(check, setup_for=need)


# states of the idTags a SUT description declares; run parameter "<state>_tag" names each
TAG_STATES = ("valid", "invalid", "blocked", "expired")


def tag_check(check: "Check", tag) -> "Check":
    """A check on a CSMS's answer for a tag it must know (`V("blocked_tag")`): it holds only
    when the CSMS was set up with that tag, so it depends on the tag's declaration. A tag
    the CSMS chose itself (a saved variable) needs no set-up: the check stays as it is."""
    name = getattr(tag, "name", "")
    if isinstance(tag, V) and name.endswith("_tag") and name.removesuffix("_tag") in TAG_STATES:
        return setup_check(check, "tag:" + name.removesuffix("_tag"))
    return check


def _shown(actual: Any) -> str:
    if actual is MISSING:
        return "absent"
    text = repr(actual) if not isinstance(actual, (dict, list)) else show_json(actual)
    return shorten(text, 120)


def eq(path: str, value: Any) -> Check:
    def test(actual, expected):
        if loose_equal(actual, expected):
            return None
        return f"is {_shown(actual)}, expected {show(expected)!s}"
    return Check(path, f"{path} is {show(value)}", test, value)


def ne(path: str, value: Any) -> Check:
    def test(actual, expected):
        return None if actual != expected else f"is {_shown(actual)}, which it must not be"
    return Check(path, f"{path} is not {show(value)}", test, value)


def one_of(path: str, values: Sequence) -> Check:
    def test(actual, expected):
        if any(loose_equal(actual, e) for e in expected):
            return None
        return f"is {_shown(actual)}, expected one of {', '.join(map(show, expected))}"
    return Check(path, f"{path} is one of {', '.join(map(show, values))}", test, list(values))


def eq_or_absent(path: str, value: Any) -> Check:
    def test(actual, expected):
        if actual is MISSING or loose_equal(actual, expected):
            return None
        return f"is {_shown(actual)}, expected {show(expected)} (or absent)"
    return Check(path, f"{path} is {show(value)} or absent", test, value)


def present(path: str) -> Check:
    def test(actual, expected):
        if actual is MISSING:
            return "is missing"
        return "is an empty list" if actual == [] else None
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
        if any(loose_equal(item, expected) for item in items):
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
    """The frame arrived at least `seconds` (minus `slack`) after a saved moment.

    Unlike a `Check` it looks at the frame's arrival time (`record`), not its payload."""

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
