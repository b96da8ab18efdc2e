"""Proxy rules: which frames a rule matches and what it does to them, sans-I/O.

A rules file (TOML or JSON) lists rules in order; for each frame the proxy asks the book,
and the first enabled rule that matches and whose occurrence test passes acts on it. A rule
matches on direction, charge point (glob), message type, action (glob), a field condition
and occurrence (first N, every Nth, after T seconds, with a probability), counted per
connection. What it does:

    drop        the frame is not forwarded
    delay       forwarded `ms` later (later frames of the same direction go ahead of it)
    patch       fields `set` / `remove`d in the payload, then forwarded
    replace     the whole frame replaced: `frame` (JSON, "*" as unique id keeps the
                original id) or `text` (sent verbatim, malformed on purpose if you like)
    callerror   a CALL answered with a CALLERROR (`error_code`, `description`) by the
                proxy instead of being forwarded
    duplicate   forwarded, then `times` more copies
    close       both sides get a close frame (`close_code`, `reason`), then TCP closes
    cut         both TCP connections dropped without a close frame
    intercept   paused until someone forwards, edits or drops it (the window's Intercept
                view; see inspector.intercept)

patch, replace, callerror and duplicate also take `ms` to act late. The proxy logs what
each side really received; a changed frame keeps its original beside it, and every flag
names the rule.
"""

from __future__ import annotations

import copy
import difflib
import fnmatch
import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

from . import codec, schemas
from .codec import Frame, FrameType
from .events import TO_CHARGER, TO_CSMS
from .jsonpaths import Condition, PathError, parse_condition, parse_path
from .versions import VERSIONS

ACTS = ("drop", "delay", "patch", "replace", "callerror", "duplicate", "close", "cut",
        "intercept")
DIRECTIONS = (TO_CSMS, TO_CHARGER)
MESSAGE_TYPES = tuple(t.value for t in FrameType)
# the keys each act takes beyond the match keys
_ACT_KEYS = {"drop": set(), "delay": {"ms"}, "patch": {"set", "remove", "ms"},
             "replace": {"frame", "text", "ms"}, "callerror": {"error_code", "description", "ms"},
             "duplicate": {"times", "ms"}, "close": {"close_code", "reason"}, "cut": set(),
             "intercept": set()}
_MATCH_KEYS = {"name", "enabled", "do", "direction", "charge_point", "type", "action", "where",
               "first", "every", "after", "probability"}


class RuleError(ValueError):
    """A rule that cannot work, found when the rules load; the message names the rule."""


@dataclass(frozen=True)
class Rule:
    name: str
    do: str
    enabled: bool = True
    direction: str | None = None  # None: both
    charge_point: str = "*"
    message_type: str | None = None
    action: str | None = None  # glob
    where: Condition | None = None
    first: int | None = None
    every: int | None = None
    after: float | None = None
    probability: float | None = None
    ms: int = 0
    set: tuple = ()  # ((Path, value), ...)
    remove: tuple = ()  # (Path, ...)
    frame: Any = None
    text: str | None = None
    error_code: str = "GenericError"
    description: str = ""
    times: int = 1
    close_code: int = 1000
    reason: str = ""
    source: dict = field(default_factory=dict, compare=False)  # as written (to show, save)

    def matches(self, subject: "Subject") -> bool:
        """The static part of the match (occurrence is the book's, it counts)."""
        if not self.enabled:
            return False
        if self.direction is not None and subject.direction != self.direction:
            return False
        if self.message_type is not None and subject.frame.type.value != self.message_type:
            return False
        if self.action is not None and not fnmatch.fnmatchcase(subject.action or "", self.action):
            return False
        if self.charge_point != "*" and not fnmatch.fnmatchcase(subject.charge_point_id,
                                                                  self.charge_point):
            return False
        if self.after is not None and subject.now - subject.opened_at < self.after:
            return False
        if self.where is not None and not self.where.holds(document_of(subject.frame)):
            return False
        return True

    def describe(self) -> str:
        """One line for people: what it matches, what it does."""
        parts = [self.direction or "both ways", self.message_type or "any type",
                 self.action or "any action"]
        if self.charge_point != "*":
            parts.append(f"cp {self.charge_point}")
        if self.where is not None:
            parts.append(f"where {self.where.text}")
        if self.first:
            parts.append(f"first {self.first}")
        if self.every:
            parts.append(f"every {self.every}")
        if self.after:
            parts.append(f"after {self.after:g} s")
        if self.probability is not None:
            parts.append(f"p={self.probability:g}")
        return f"{', '.join(parts)} -> {self.act_text()}"

    def act_text(self) -> str:
        late = f" after {self.ms} ms" if self.ms and self.do != "delay" else ""
        if self.do == "delay":
            return f"delay {self.ms} ms"
        if self.do == "patch":
            changes = [f"{p.text}={json.dumps(v)}" for p, v in self.set]
            changes += [f"-{p.text}" for p in self.remove]
            return f"patch {', '.join(changes)}{late}"
        if self.do == "callerror":
            return f"answer CALLERROR {self.error_code}{late}"
        if self.do == "duplicate":
            return f"duplicate x{self.times}{late}"
        if self.do == "intercept":
            return "intercept (pause for you)"
        if self.do == "close":
            return f"close {self.close_code}" + (f" {self.reason!r}" if self.reason else "")
        return f"{self.do}{late}"


@dataclass(frozen=True, slots=True)
class Subject:
    """One frame as a rule sees it: where it goes, on which connection, paired or not."""

    direction: str
    charge_point_id: str
    connection_id: int
    frame: Frame
    action: str | None  # a response's action comes from the CALL it answers
    opened_at: float
    now: float


def document_of(frame: Frame) -> Any:
    """What paths in a condition or patch are read against: the payload (CALL, CALLRESULT),
    or the error's fields (CALLERROR)."""
    if frame.type in (FrameType.CALLERROR, FrameType.CALLRESULTERROR):
        return {"errorCode": frame.error_code, "errorDescription": frame.error_description,
                "errorDetails": frame.error_details}
    return frame.payload


class RuleBook:
    """The rules in force, swapped whole when edited (from any thread), and the per-connection
    occurrence counts they need."""

    def __init__(self, rules=(), *, seed: int | None = None):
        self._lock = threading.Lock()
        self._random = random.Random(seed)
        self._counts: dict[tuple[int, int], int] = {}
        self.rules: tuple[Rule, ...] = ()
        self._watched: frozenset = frozenset()
        self.replace(rules)

    def replace(self, rules) -> None:
        rules = tuple(rules)
        with self._lock:
            self.rules = rules
            self._counts = {}
            self._watched = frozenset(d for r in rules if r.enabled
                                      for d in ((r.direction,) if r.direction else DIRECTIONS))

    def watches(self, direction: str) -> bool:
        """Any enabled rule for frames going this way (else the proxy's byte pipe is used)."""
        return direction in self._watched

    def __bool__(self) -> bool:
        return bool(self._watched)

    def decide(self, subject: Subject) -> Rule | None:
        for index, rule in enumerate(self.rules):
            if not rule.matches(subject):
                continue
            with self._lock:
                key = (index, subject.connection_id)
                seen = self._counts.get(key, 0) + 1
                self._counts[key] = seen
                if rule.first is not None and seen > rule.first:
                    continue
                if rule.every is not None and seen % rule.every:
                    continue
                if rule.probability is not None and self._random.random() >= rule.probability:
                    continue
            return rule
        return None

    def forget(self, connection_id: int) -> None:
        with self._lock:
            self._counts = {k: v for k, v in self._counts.items() if k[1] != connection_id}


# ---- what an acting rule sends -----------------------------------------------------------

def changed_text(rule: Rule, frame: Frame) -> tuple[str, list[str]]:
    """The frame a patch or replace rule sends instead, and what could not be done."""
    if rule.do == "replace":
        if rule.text is not None:
            return rule.text, []
        value = copy.deepcopy(rule.frame)
        if type(value) is list and len(value) > 1 and value[1] == "*":
            value[1] = frame.unique_id
        return codec.to_json(value), []
    problems = []
    message = json.loads(frame.raw)
    document = copy.deepcopy(document_of(frame))
    for path, value in rule.set:
        if not path.set(document, copy.deepcopy(value)):
            problems.append(f"{path.text} not set (no such place)")
    for path in rule.remove:
        if not path.remove(document):
            problems.append(f"{path.text} not removed (absent)")
    if frame.type in (FrameType.CALLERROR, FrameType.CALLRESULTERROR):
        message[2:5] = [document.get("errorCode"), document.get("errorDescription"),
                        document.get("errorDetails")]
    else:
        message[-1] = document
    return codec.to_json(message), problems


def error_answer(rule: Rule, frame: Frame) -> str:
    description = rule.description or f"answered by proxy rule {rule.name!r}"
    return codec.call_error(frame.unique_id, rule.error_code, description).raw


# ---- loading ------------------------------------------------------------------------------

def load_rules(path: str | FilePath) -> list[Rule]:
    """Read a rules file (.toml, or JSON otherwise); errors name the file and the rule."""
    path = FilePath(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read rules file {path}: {exc.strerror}") from None
    return parse_rules(text, toml=path.suffix.lower() == ".toml", where=f"rules file {path}")


def parse_rules(text: str, *, toml: bool, where: str = "rules") -> list[Rule]:
    if toml:
        import tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RuleError(f"{where} is not valid TOML: {exc}") from None
    else:
        try:
            data = json.loads(text) if text.strip() else {"rule": []}
        except json.JSONDecodeError as exc:
            raise RuleError(f"{where} is not valid JSON: {exc}") from None
    if isinstance(data, dict):
        unknown = sorted(set(data) - {"rule", "rules"})
        if unknown:
            raise RuleError(f"{where}: unknown top-level key {unknown[0]!r}; rules go in "
                            f"[[rule]] tables (TOML) or a \"rules\" list (JSON)")
        items = data.get("rule", data.get("rules", []))
    else:
        items = data
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise RuleError(f"{where}: rules must be a list of tables/objects")
    rules = [rule_from_dict(item, index) for index, item in enumerate(items, 1)]
    names = [r.name for r in rules]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise RuleError(f"{where}: two rules are named {twice[0]!r}; names must be unique")
    return rules


def rule_from_dict(item: dict, index: int = 1) -> Rule:
    name = str(item.get("name") or f"rule {index}")

    def problem(text: str) -> RuleError:
        return RuleError(f"rule {name!r}: {text}")

    do = item.get("do")
    if do not in ACTS:
        hint = difflib.get_close_matches(str(do), ACTS, n=1)
        raise problem(f"'do' must be one of {', '.join(ACTS)}" +
                      (f" (did you mean {hint[0]!r}?)" if hint else f", not {do!r}"))
    allowed = _MATCH_KEYS | _ACT_KEYS[do]
    for key in item:
        if key not in allowed:
            hint = difflib.get_close_matches(key, sorted(allowed), n=1)
            raise problem(f"unknown key {key!r} for do = {do!r}" +
                          (f" (did you mean {hint[0]!r}?)" if hint else ""))
    values: dict[str, Any] = {"name": name, "do": do, "source": dict(item)}
    values["enabled"] = _typed(item, "enabled", bool, True, problem)
    direction = item.get("direction", "any")
    if direction not in (*DIRECTIONS, "any"):
        raise problem(f"direction must be to_csms, to_charger or any, not {direction!r}")
    values["direction"] = None if direction == "any" else direction
    values["charge_point"] = _typed(item, "charge_point", str, "*", problem)
    message_type = item.get("type")
    if message_type is not None and message_type not in MESSAGE_TYPES:
        raise problem(f"type must be one of {', '.join(MESSAGE_TYPES)}, not {message_type!r}")
    values["message_type"] = message_type
    action = item.get("action")
    if action is not None:
        _check_action(str(action), problem)
        values["action"] = str(action)
    if "where" in item:
        try:
            values["where"] = parse_condition(_typed(item, "where", str, "", problem))
        except PathError as exc:
            raise problem(str(exc)) from None
    for key in ("first", "every", "times"):
        number = _typed(item, key, int, None, problem)
        if number is not None and number < 1:
            raise problem(f"{key} must be 1 or more")
        if number is not None:
            values[key] = number
    after = _typed(item, "after", (int, float), None, problem)
    if after is not None and after < 0:
        raise problem("after must be 0 or more seconds")
    values["after"] = after
    probability = _typed(item, "probability", (int, float), None, problem)
    if probability is not None and not 0 <= probability <= 1:
        raise problem("probability must be between 0 and 1")
    values["probability"] = probability
    values["ms"] = _typed(item, "ms", int, 0, problem)
    if values["ms"] < 0 or (do == "delay" and values["ms"] <= 0):
        raise problem("ms must be a positive number of milliseconds")
    if do == "patch":
        _patch_values(item, values, problem)
    elif do == "replace":
        _replace_values(item, values, problem)
    elif do == "callerror":
        if message_type not in (None, "CALL"):
            raise problem("callerror answers a CALL: give type = \"CALL\" or no type")
        values["error_code"] = _typed(item, "error_code", str, "GenericError", problem)
        values["description"] = _typed(item, "description", str, "", problem)
    elif do == "close":
        code = _typed(item, "close_code", int, 1000, problem)
        if not (code in (1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011)
                or 3000 <= code <= 4999):
            raise problem(f"close_code {code} cannot be sent in a close frame (RFC 6455 7.4)")
        values["close_code"] = code
        values["reason"] = _typed(item, "reason", str, "", problem)
        if len(values["reason"].encode("utf-8")) > 123:
            raise problem("reason is longer than a close frame holds (123 bytes)")
    return Rule(**values)


def _typed(item: dict, key: str, kind, default, problem):
    value = item.get(key, default)
    if value is default:
        return value
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise problem(f"{key} must be a number, not {json.dumps(value)}")
    if not isinstance(value, kinds):
        wanted = {"str": "text", "int": "a whole number", "float": "a number",
                  "bool": "true or false"}
        raise problem(f"{key} must be {' or '.join(wanted[k.__name__] for k in kinds)}, "
                      f"not {json.dumps(value)}")
    return value


def _check_action(action: str, problem) -> None:
    if any(c in action for c in "*?["):
        return
    known = {a for version in VERSIONS for a in schemas.actions(version)}
    if action not in known:
        hint = difflib.get_close_matches(action, sorted(known), n=1)
        raise problem(f"no OCPP action {action!r}" + (f" (did you mean {hint[0]}?)" if hint else ""))


def _patch_values(item: dict, values: dict, problem) -> None:
    changes = item.get("set", {})
    removals = item.get("remove", [])
    if not isinstance(changes, dict) or not isinstance(removals, list):
        raise problem("set must be a table of PATH = value, remove a list of paths")
    if not changes and not removals:
        raise problem("patch needs set (PATH = value) or remove ([PATH, ...])")
    try:
        values["set"] = tuple((parse_path(p), v) for p, v in changes.items())
        values["remove"] = tuple(parse_path(str(p)) for p in removals)
    except PathError as exc:
        raise problem(str(exc)) from None
    if any(not p.steps for p, _ in values["set"]) or any(not p.steps for p in values["remove"]):
        raise problem("a patch path names a field ($.status), not the whole payload ($); "
                      "use do = \"replace\" for that")


def _replace_values(item: dict, values: dict, problem) -> None:
    if ("frame" in item) == ("text" in item):
        raise problem("replace needs exactly one of frame (a JSON value) or text (sent verbatim)")
    if "text" in item:
        values["text"] = _typed(item, "text", str, None, problem)
    else:
        values["frame"] = item["frame"]
