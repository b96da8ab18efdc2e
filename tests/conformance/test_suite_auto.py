"""Every case passes against our own simulators (--auto): fake charger and fake CSMS."""

from __future__ import annotations

import pytest

from inspector.conformance import Verdict, catalog

from suite_helpers import failures, run


@pytest.mark.parametrize(("version", "sut"), [("1.6", "charger"), ("1.6", "csms"),
                                              ("2.0.1", "charger"), ("2.0.1", "csms")])
async def test_whole_suite_passes_against_our_simulators(version, sut):
    result = await run(version, sut)
    assert len(result.cases) == len(catalog.list_cases(version, sut))
    assert result.passed, failures(result)
    # security profile cases need a run set up for them (test_suite_security.py runs them),
    # configuration cases a configuration the simulator does not have (test_suite_trust.py),
    # "lacks:" cases a SUT without a feature (test_suite_mutation_coverage.py runs them)
    cases = {c.id: c for c in catalog.list_cases(version, sut)}
    secured = [c for c in result.cases
               if any(n.startswith(("security:", "config:", "lacks:")) for n in cases[c.case_id].needs)]
    assert all(c.verdict is Verdict.NOT_APPLICABLE for c in secured)
    for case in result.cases:
        if case in secured:
            continue
        # every step was judged, with a readable reason, and the case used real frames
        assert all(step.verdict is Verdict.PASS and step.reason for step in case.steps), case.case_id
        assert any(frame.used for step in case.steps for frame in step.frames), case.case_id
