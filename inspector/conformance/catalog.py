"""Finding cases: every case the installed suite packages provide, filtered by version and SUT.

The core never imports a suite package: a distribution registers a function returning its
cases under the entry-point group `ocpp_inspector.testsuites` (ours: `testsuites:all_cases`
in pyproject.toml), so suites depend on the engine and not the reverse, and other suites can
be added by installing them.
"""

from __future__ import annotations

import functools
from importlib.metadata import entry_points
from pathlib import Path

from ..versions import normalise
from .model import SUT_KINDS, Case
from .runner import SuiteError

ENTRY_POINT_GROUP = "ocpp_inspector.testsuites"


@functools.cache
def _all() -> tuple[Case, ...]:
    cases = tuple(case for provider in entry_points(group=ENTRY_POINT_GROUP)
                  for case in provider.load()())
    seen = set()
    for case in cases:
        if case.key in seen:
            raise SuiteError(f"duplicate case {case.id} for OCPP {case.version}")
        seen.add(case.key)
    return cases


# loaded from files (suite --cases, the Suites tab) in this process, by file: loading a file
# again (after editing it) replaces its cases
_user_files: dict[str, list[Case]] = {}


def load_user_cases(path) -> list[Case]:
    """A user's cases (a Python file whose CASES lists inspector.conformance.model.Case),
    added beside the catalogue; an id the catalogue or another file has is refused."""
    from ..scripting import ScriptError, load_module
    try:
        module = load_module(path)
    except ScriptError as exc:
        raise SuiteError(str(exc).replace("script ", "cases file ", 1)) from None
    where = str(Path(module.__file__))
    name = Path(where).name
    cases = getattr(module, "CASES", None)
    if not isinstance(cases, (list, tuple)) or not cases or \
            not all(isinstance(case, Case) for case in cases):
        raise SuiteError(f"cases file {name} must define CASES, a non-empty list of "
                         f"inspector.conformance.model.Case")
    taken = {case.key: "the catalogue" for case in _all()}
    for other, others in _user_files.items():
        if other != where:
            taken.update({case.key: Path(other).name for case in others})
    seen = set()
    for case in cases:
        owner = taken.get(case.key) or (name if case.key in seen else None)
        if owner is not None:
            raise SuiteError(f"cases file {name}: {case.id} (OCPP {case.version}) is already "
                             f"in {owner}; give it an id of its own")
        seen.add(case.key)
    _user_files[where] = list(cases)
    return list(cases)


def user_cases() -> list[Case]:
    return [case for cases in _user_files.values() for case in cases]


def all_cases() -> list[Case]:
    return list(_all()) + user_cases()


def list_cases(version: str | None = None, sut: str | None = None) -> list[Case]:
    """Cases for a version ('1.6', '2.0.1') and SUT kind ('charger', 'csms'), catalog order."""
    if version is not None:
        version = normalise(version)
    if sut is not None and sut not in SUT_KINDS:
        raise SuiteError(f"unknown SUT kind {sut!r}; use charger or csms")
    return [c for c in all_cases() if (version is None or c.version == version)
            and (sut is None or c.sut == sut)]


def select(version: str, sut: str, ids: list[str] | None = None) -> list[Case]:
    """The cases to run, in the order given (all of them when `ids` is empty)."""
    available = list_cases(version, sut)
    if not available:
        raise SuiteError(f"no cases for OCPP {version} with SUT {sut}"
                         + ("" if _all() else " (no suite package is installed: pip install .)"))
    if not ids:
        return available
    by_id = {c.id.upper(): c for c in available}
    chosen = []
    for wanted in ids:
        case = by_id.get(wanted.strip().upper())
        if case is None:
            raise SuiteError(f"no case {wanted!r} for OCPP {version} with SUT {sut} "
                             f"(see: ocpp-inspector suite list --version {version} --sut {sut})")
        if case not in chosen:
            chosen.append(case)
    return chosen
