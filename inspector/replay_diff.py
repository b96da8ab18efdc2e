"""Comparing a replayed exchange with the recorded one, field by field, sans-I/O.

What may differ without being a difference: timestamps (any ISO 8601 date-time string: a
replay happens now), ids a peer generates (1.6 `transactionId`s from the CSMS are learnt
from its answers and mapped, so the recorded id and the new one stand for each other), and
whatever `--ignore` names. Everything else is compared exactly, in both directions (a
field only one side has is a difference too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .jsonpaths import parse_path

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
GENERATED_IDS = ("transactionId",)  # 1.6: the CSMS makes them up; learnt and mapped


@dataclass(frozen=True)
class Difference:
    where: str  # "CP001 #12 Authorize answer"
    path: str  # "$.idTagInfo.status"
    recorded: Any
    replayed: Any

    def __str__(self) -> str:
        return (f"{self.where}: {self.path}: recorded {_show(self.recorded)}, "
                f"now {_show(self.replayed)}")


_ABSENT = object()


def _show(value) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 120 else text[:117] + "..."


def is_datetime(value) -> bool:
    return isinstance(value, str) and bool(_DATETIME.match(value))


def shift_times(value, offset: timedelta):
    """`value` with every date-time string moved by `offset` (recorded times brought to now)."""
    if isinstance(value, dict):
        return {k: shift_times(v, offset) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_times(v, offset) for v in value]
    if is_datetime(value):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        moved = (moment + offset).astimezone(timezone.utc)
        return moved.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


class IdMap:
    """Recorded generated ids <-> the ones the replay got, learnt as answers come."""

    def __init__(self):
        self.to_new: dict = {}

    def learn(self, recorded, replayed) -> None:
        for key in GENERATED_IDS:
            old, new = _find(recorded, key), _find(replayed, key)
            for a, b in zip(old, new):
                if a is not None and b is not None:
                    self.to_new[a] = b

    def back(self, value):
        """A replayed payload with the ids mapped back to the recording's (for comparing)."""
        return _mapped(value, {new: old for old, new in self.to_new.items()})

    def forward(self, value):
        """A recorded payload with the ids mapped to the replay's (for sending)."""
        return _mapped(value, self.to_new)


def _mapped(value, mapping: dict, key: str | None = None):
    """`value` with every generated id found in `mapping` replaced (one walk, one mapping)."""
    if isinstance(value, dict):
        return {k: _mapped(v, mapping, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mapped(v, mapping, key) for v in value]
    if key in GENERATED_IDS and value in mapping:
        return mapping[value]
    return value


def _find(value, key: str) -> list:
    if isinstance(value, dict):
        found = [value[key]] if key in value else []
        for child in value.values():
            found += _find(child, key)
        return found
    if isinstance(value, list):
        return [item for child in value for item in _find(child, key)]
    return []


class Ignore:
    """Paths never compared (`--ignore $.currentTime`), on top of times and generated ids."""

    def __init__(self, paths=()):
        self.paths = {parse_path(p, any_index=True).steps for p in paths}

    def __contains__(self, steps: tuple) -> bool:
        generic = tuple("*" if isinstance(s, int) else s for s in steps)
        return steps in self.paths or generic in self.paths


def compare(recorded, replayed, where: str, ignore: Ignore, ids: IdMap | None = None,
            steps: tuple = ()) -> list[Difference]:
    """Every difference between two JSON values (recorded first)."""
    if steps in ignore:
        return []
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        found = []
        for key in list(recorded) + [k for k in replayed if k not in recorded]:
            found += compare(recorded.get(key, _ABSENT), replayed.get(key, _ABSENT), where,
                             ignore, ids, steps + (key,))
        return found
    if isinstance(recorded, list) and isinstance(replayed, list):
        found = []
        for index in range(max(len(recorded), len(replayed))):
            found += compare(recorded[index] if index < len(recorded) else _ABSENT,
                             replayed[index] if index < len(replayed) else _ABSENT,
                             where, ignore, ids, steps + (index,))
        return found
    if is_datetime(recorded) and is_datetime(replayed):
        return []
    key = next((s for s in reversed(steps) if isinstance(s, str)), None)
    if key in GENERATED_IDS and recorded is not _ABSENT and replayed is not _ABSENT and \
            type(recorded) is type(replayed):
        return []  # a generated id: learnt and mapped, never compared
    if recorded == replayed and type(recorded) is type(replayed):
        return []
    return [Difference(where, _path_text(steps), recorded, replayed)]


def _path_text(steps: tuple) -> str:
    text = "$"
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else \
            (f".{step}" if re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", step) else f'["{step}"]')
    return text
