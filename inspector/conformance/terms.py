"""The engine's two basic vocabularies: which side the SUT plays, and what a step's verdict is.

They live apart from steps and results because both (and the runner) use them.

- SUT kind "charger": the system under test is a charging station, the engine plays the
  CSMS (it listens). SUT kind "csms": the SUT is a central system, the engine plays the
  charging station (it connects).
- A step's verdict is one of pass / fail / inconclusive / error.
"""

from __future__ import annotations

from enum import Enum

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
