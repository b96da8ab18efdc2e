"""Access to the Open Charge Alliance JSON schemas shipped inside the `ocpp` wheel.

We never copy schemas: they are read from the installed package so that upgrading
`ocpp` upgrades the schemas.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from .versions import V16, V201, V21

_PACKAGE_DIR = {V16: "v16", V201: "v201", V21: "v21"}
REQUEST, RESPONSE = "request", "response"


def _schema_dir(version: str):
    # one joinpath per segment: frozen bundles hand back a MultiplexedPath that takes one
    return resources.files("ocpp").joinpath(_PACKAGE_DIR[version]).joinpath("schemas")


def _file_names(version: str, action: str, kind: str) -> tuple[str, ...]:
    if kind == RESPONSE:
        return (f"{action}Response.json",)
    # 1.6 names requests <Action>.json; 2.x <Action>Request.json, except 2.1's
    # SEND-only messages (NotifyPeriodicEventStream) which have no suffix.
    return (f"{action}Request.json", f"{action}.json")


@functools.cache
def actions(version: str) -> tuple[str, ...]:
    """All actions the version defines, sorted."""
    names = set()
    for entry in _schema_dir(version).iterdir():
        name = entry.name
        if not name.endswith(".json") or name.endswith("Response.json"):
            continue
        stem = name[: -len(".json")]
        names.add(stem.removesuffix("Request") if version != V16 else stem)
    return tuple(sorted(names))


@functools.cache
def load(version: str, action: str, kind: str) -> dict | None:
    """The schema for a request or response of an action, or None if the action is unknown."""
    if version not in _PACKAGE_DIR or action not in actions(version):
        return None
    for name in _file_names(version, action, kind):
        path = _schema_dir(version).joinpath(name)
        if path.is_file():
            # 2.0.1 files begin with a UTF-8 byte-order mark
            return json.loads(path.read_text(encoding="utf-8-sig"))
    return None
