"""A conformance test case: OCTT-style metadata plus the steps the engine runs.

Cases are plain data built in `testsuites/`; nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .terms import SUT_KINDS

# the state the engine establishes before step 1 (the "precondition", step 0)
BEFORE_STATES = ("none", "connected", "booted")


@dataclass
class Case:
    id: str
    title: str
    version: str
    sut: str
    group: str
    steps: list
    preconditions: str = ""
    description: str = ""
    before: str = "booted"  # state the engine establishes first: none / connected / booted
    auto_csms: dict = field(default_factory=dict)  # FakeCsms overrides in --auto mode
    params: dict = field(default_factory=dict)  # case-specific parameter defaults
    vars: dict = field(default_factory=dict)  # initial variables (callables are called)
    references: str = ""
    # what the SUT must have for the case to say anything (sut_config.py): "feature:Reservation",
    # "tag:blocked", "boot:pending"; undeclared in a SUT description -> NOT_APPLICABLE
    needs: tuple[str, ...] = ()

    def __post_init__(self):
        # fail when the suite is imported, not halfway through a run
        if self.sut not in SUT_KINDS:
            raise ValueError(f"{self.id}: unknown SUT kind {self.sut!r}")
        if self.before not in BEFORE_STATES:
            raise ValueError(f"{self.id}: unknown precondition state {self.before!r}")

    @property
    def key(self) -> tuple[str, str]:
        return (self.version, self.id)

    def info(self) -> dict:
        """A JSON-friendly summary (for listings and GUIs)."""
        return {"id": self.id, "title": self.title, "version": self.version, "sut": self.sut,
                "group": self.group, "preconditions": self.preconditions, "needs": list(self.needs),
                "description": self.description, "before": self.before,
                "steps": [{"kind": s.kind, "title": s.describe()} for s in self.steps]}
