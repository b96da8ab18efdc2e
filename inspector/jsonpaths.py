"""The small JSONPath subset rules use to name a field: `$`, `.name`, `[index]`, `["name"]`.

`$.idTagInfo.status`, `$.meterValue[0].sampledValue[0].value` and `$["a.b"]` are paths;
filters, wildcards and `..` are not: a rule names one field, so one field is all a path
can reach, and a path that cannot be read is an error at load time, not a silent no-match.
Conditions compare a field with a JSON value: `$.status == "Accepted"`, `$.connectorId > 1`,
`$.idTag exists`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_MISSING = object()
_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(-?\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\[(\*)\]')
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")


class PathError(ValueError):
    """A path or condition that cannot be read; the message says where and why."""


@dataclass(frozen=True)
class Path:
    text: str
    steps: tuple  # str (object member) or int (array index)

    def get(self, document: Any, default: Any = _MISSING) -> Any:
        node = document
        for step in self.steps:
            try:
                if isinstance(step, int) and type(node) is list:
                    node = node[step]
                elif isinstance(step, str) and type(node) is dict:
                    node = node[step]
                else:
                    return default
            except (IndexError, KeyError):
                return default
        return node

    def set(self, document: Any, value: Any) -> bool:
        """Set the field in place (a missing last object member is added); False when the
        path does not lead there (a missing parent, an index out of range)."""
        if not self.steps:
            return False
        parent = Path(self.text, self.steps[:-1]).get(document)
        last = self.steps[-1]
        if isinstance(last, str) and type(parent) is dict:
            parent[last] = value
            return True
        if isinstance(last, int) and type(parent) is list and -len(parent) <= last < len(parent):
            parent[last] = value
            return True
        return False

    def remove(self, document: Any) -> bool:
        if not self.steps:
            return False
        parent = Path(self.text, self.steps[:-1]).get(document)
        last = self.steps[-1]
        if isinstance(last, str) and type(parent) is dict and last in parent:
            del parent[last]
            return True
        if isinstance(last, int) and type(parent) is list and -len(parent) <= last < len(parent):
            del parent[last]
            return True
        return False


def parse_path(text: str, *, any_index: bool = False) -> Path:
    """`any_index`: `[*]` is allowed, as the step "*" (a pattern for comparing, not a place
    to read or write)."""
    text = text.strip()
    if not text.startswith("$"):
        raise PathError(f"path {text!r} must start with $ (for example $.status)")
    steps, position = [], 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise PathError(f"path {text!r}: cannot read {text[position:]!r} "
                            f"(use .name, [0] or [\"name\"])")
        name, index, quoted, star = match.groups()
        if star and not any_index:
            raise PathError(f"path {text!r}: [*] names no single field (give an index)")
        steps.append(name if name is not None else int(index) if index is not None
                     else json.loads(quoted) if quoted is not None else "*")
        position = match.end()
    return Path(text, tuple(steps))


@dataclass(frozen=True)
class Condition:
    """`PATH OP VALUE` or `PATH exists`, read once when the rules load."""

    text: str
    path: Path
    operator: str  # one of _OPERATORS, or "exists"
    value: Any = None

    def holds(self, document: Any) -> bool:
        found = self.path.get(document)
        if self.operator == "exists":
            return found is not _MISSING
        if found is _MISSING:
            return False
        if self.operator == "==":
            return found == self.value
        if self.operator == "!=":
            return found != self.value
        try:
            if self.operator == "<":
                return found < self.value
            if self.operator == "<=":
                return found <= self.value
            if self.operator == ">":
                return found > self.value
            return found >= self.value
        except TypeError:  # "3" < 4: a field of another type never matches
            return False


def parse_condition(text: str) -> Condition:
    stripped = text.strip()
    if stripped.endswith(" exists"):
        return Condition(text, parse_path(stripped[:-len(" exists")]), "exists")
    for operator in _OPERATORS:  # two-character operators first
        left, found, right = stripped.partition(f" {operator} ")
        if found:
            try:
                value = json.loads(right)
            except json.JSONDecodeError:
                raise PathError(f"condition {text!r}: {right!r} is not a JSON value "
                                f"(strings need double quotes: \"Accepted\")") from None
            return Condition(text, parse_path(left), operator, value)
    raise PathError(f"condition {text!r}: expected PATH OP VALUE with OP one of "
                    f"{', '.join(_OPERATORS)} (spaces around it), or PATH exists")
