"""The engine's two basic vocabularies: which side the SUT plays, and what a step's verdict is.

They live apart from steps and results because both (and the runner) use them.

- SUT kind "charger": the system under test is a charging station, the engine plays the
  CSMS (it listens). SUT kind "csms": the SUT is a central system, the engine plays the
  charging station (it connects).
- A step's verdict is one of pass / fail / inconclusive / not applicable / error.
  NOT_APPLICABLE is decided before a case runs: the SUT description (`sut_config.py`)
  does not declare what the case needs, so the case says nothing about this SUT.
"""

from __future__ import annotations

from enum import Enum

CHARGER, CSMS = "charger", "csms"
SUT_KINDS = (CHARGER, CSMS)


class Verdict(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"

    @property
    def ok(self) -> bool:
        return self is Verdict.PASS

    @property
    def label(self) -> str:
        """'NOT APPLICABLE', 'PASS': how reports and consoles print it."""
        return self.value.replace("_", " ").upper()


def worst(verdicts) -> Verdict:
    """The case verdict from its steps: error > fail > inconclusive > not applicable > pass."""
    order = (Verdict.ERROR, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE)
    verdicts = list(verdicts)
    for verdict in order:
        if verdict in verdicts:
            return verdict
    return Verdict.PASS
