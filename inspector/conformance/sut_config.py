"""The SUT description (`--sut-config FILE`): what the system under test has and can do.

In the spirit of OCTT's SUT configuration, a JSON file tells the engine the idTags a CSMS
knows (and in which state), the connectors or EVSEs of a charger, the feature profiles
(1.6) or functional blocks (2.0.1) it supports, whether a CSMS can be set to answer a
boot with Pending or Rejected, and configuration keys / variables::

    {
      "tags": {"valid": "04A2B3C4", "invalid": "DEADBEEF", "blocked": "0BADCAFE",
               "expired": "0E0E0E0E"},
      "connectors": [1, 2],
      "evses": [1],
      "features": ["Core", "RemoteTrigger", "Reservation"],
      "can_boot_pending": true,
      "can_boot_rejected": false,
      "configuration": {"HeartbeatInterval": "300"}
    }

Cases name what they need (`Case.needs`): ``feature:Reservation``, ``lacks:LocalAuthListManagement``
(a SUT without it; only ever met by a description that lists its features), ``tag:blocked``,
``boot:pending``, ``boot:pending_or_rejected``, ``config:TxCtrlr/TxStartPoint=EVConnected``
(a configuration key or Component/Variable with that value). With a description, a case whose needs it
does not declare is NOT_APPLICABLE, with the reason. Without one, needs are assumed met,
but a check that only holds when the SUT was set up for the case (`setup_check`) ends
INCONCLUSIVE instead of FAIL when nobody declared that set-up: the engine cannot tell a
wrong SUT from an unprepared one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .checks import TAG_STATES
from .options import SuiteError

_KEYS = {"tags", "connectors", "evses", "features", "can_boot_pending", "can_boot_rejected",
         "configuration", "description"}
# the run parameter each declaration fills in (an explicit --param still wins)
_TAG_PARAMS = {"valid": "valid_tag", "invalid": "invalid_tag", "blocked": "blocked_tag",
               "expired": "expired_tag"}


@dataclass
class SutDescription:
    source: str = ""  # the file it came from ("" for a built-in description)
    tags: dict[str, str] = field(default_factory=dict)
    connectors: list[int] = field(default_factory=list)
    evses: list[int] = field(default_factory=list)
    features: set[str] | None = None  # None: not declared
    can_boot_pending: bool | None = None
    can_boot_rejected: bool | None = None
    configuration: dict[str, str] = field(default_factory=dict)

    # ---- what a case needs -----------------------------------------------------------------

    def unmet(self, needs) -> list[str]:
        """Why each need is not declared (empty when the case applies)."""
        return [why for why in (self._unmet(n) for n in needs) if why]

    def declares(self, need: str) -> bool:
        return not self._unmet(need)

    def _unmet(self, need: str) -> str | None:
        kind, _, what = need.partition(":")
        where = self.source or "the SUT description"
        if kind == "feature":
            if self.features is None or what not in self.features:
                return f"the {what} feature (not among the features {where} declares)"
            return None
        if kind == "lacks":  # a case for a SUT without the feature: it must say so
            if self.features is None or what in self.features:
                return f"a SUT without the {what} feature (features in {where} leaving it out)"
            return None
        if kind == "tag":
            if not self.tags.get(what):
                return f"an idTag the SUT knows as {what} (tags.{what} in {where})"
            return None
        if kind == "config":
            key, _, value = what.partition("=")
            if self.configuration.get(key) != value:
                return f"the configuration {key} = {value} (configuration in {where})"
            return None
        if kind == "boot":
            pending, rejected = self.can_boot_pending, self.can_boot_rejected
            able = {"pending": pending, "rejected": rejected,
                    "pending_or_rejected": pending or rejected}.get(what)
            if not able:
                text = what.replace("_", " ")
                return (f"a CSMS that can be set to answer this station's boot with {text} "
                        f"(can_boot_{'pending' if what != 'rejected' else 'rejected'} in {where})")
            return None
        return f"{need} (unknown need)"

    def params(self) -> dict:
        """Run parameters the description fills in: tags, the connector and the EVSE."""
        out = {param: self.tags[state] for state, param in _TAG_PARAMS.items() if self.tags.get(state)}
        if self.tags.get("valid"):
            out["id_tag"] = self.tags["valid"]  # the card the operator presents to a charger
        if self.connectors:
            out["connector"] = self.connectors[0]
        if self.evses:
            out["evse"] = self.evses[0]
        return out


def load(path: str | Path) -> SutDescription:
    """Read a SUT description file; SuiteError with one readable line when it is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SuiteError(f"SUT description {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"SUT description {path}: cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise SuiteError(f"SUT description {path}: not valid JSON: {exc.msg} at line {exc.lineno}") from None
    return parse(data, str(path))


def parse(data, source: str) -> SutDescription:
    def bad(text: str) -> SuiteError:
        return SuiteError(f"SUT description {source}: {text}")

    if not isinstance(data, dict):
        raise bad("expected a JSON object")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise bad(f"unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    tags = data.get("tags", {})
    if not isinstance(tags, dict) or any(k not in TAG_STATES or not isinstance(v, str) or not v
                                         for k, v in tags.items()):
        raise bad(f"tags must map {', '.join(TAG_STATES)} to non-empty idTag strings")
    numbers = {}
    for key in ("connectors", "evses"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(type(n) is int and n > 0 for n in value):
            raise bad(f"{key} must be a list of positive integers, e.g. [1, 2]")
        numbers[key] = value
    features = data.get("features")
    if features is not None and (not isinstance(features, list)
                                 or not all(isinstance(f, str) and f for f in features)):
        raise bad("features must be a list of names, e.g. [\"Core\", \"Reservation\"]")
    flags = {}
    for key in ("can_boot_pending", "can_boot_rejected"):
        value = data.get(key)
        if value is not None and not isinstance(value, bool):
            raise bad(f"{key} must be true or false")
        flags[key] = value
    configuration = data.get("configuration", {})
    if not isinstance(configuration, dict):
        raise bad("configuration must map keys or Component/Variable names to values")
    return SutDescription(source=source, tags=dict(tags), features=set(features) if features is not None else None,
                          configuration={str(k): str(v) for k, v in configuration.items()},
                          **numbers, **flags)


def simulated(sut: str) -> SutDescription:
    """What our own simulators declare (--simulate-sut): every need the catalog has."""
    return SutDescription(
        source="ocpp-inspector's simulator",
        tags={"valid": "TAG0001", "invalid": "INVALID01", "blocked": "BLOCKED01",
              "expired": "EXPIRED01"},
        connectors=[1], evses=[1],
        features={"Core", "RemoteTrigger", "Reservation", "LocalAuthListManagement",
                  "SmartCharging", "FirmwareManagement", "Diagnostics"},
        can_boot_pending=True, can_boot_rejected=True)
