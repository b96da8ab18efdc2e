"""The SUT description: undeclared needs are NOT_APPLICABLE, declared tags and set-ups are
used and judged, and an unprepared SUT is inconclusive rather than failed."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from inspector.cli import main
from inspector.conformance import SuiteError, SuiteRunner, Verdict, catalog, report
from inspector.conformance.sut_config import load, parse

from independent import Csms201, serve_csms
from suite_helpers import by_id, failures, options, run


def test_a_bad_description_is_one_readable_line(tmp_path, capsys):
    with pytest.raises(SuiteError, match="unknown key\\(s\\) colour"):
        parse({"colour": "red"}, "sut.json")
    with pytest.raises(SuiteError, match="tags must map"):
        parse({"tags": {"valid": 7}}, "sut.json")
    with pytest.raises(SuiteError, match="connectors must be a list of positive integers"):
        parse({"connectors": [0]}, "sut.json")
    path = tmp_path / "sut.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SuiteError, match="not valid JSON"):
        load(path)
    code = main(["suite", "run", "--version", "1.6", "--sut", "csms", "--target",
                 "ws://127.0.0.1:9/CP1", "--sut-config", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "SUT description" in err and err.count("\n") == 1


async def test_a_feature_the_sut_does_not_declare_is_not_applicable():
    description = parse({"features": ["Core"], "connectors": [1]}, "sut.json")
    result = await run("1.6", "charger", ["TC_019_CS", "TC_051_CS"], sut_config=description)
    cases = by_id(result)
    assert cases["TC_019_CS"].passed, failures(result)
    na = cases["TC_051_CS"]
    assert na.verdict is Verdict.NOT_APPLICABLE
    assert na.reason == ("step 0: the SUT description does not declare the Reservation feature "
                         "(not among the features sut.json declares)")
    assert all(s.verdict is Verdict.NOT_APPLICABLE for s in na.steps)
    assert all(not s.frames for s in na.steps)  # nothing was sent for it
    assert result.passed and result.sut_config == "sut.json"
    root = ET.fromstring(report.junit_xml(result).encode("utf-8"))
    assert root.find("testsuite").get("skipped") == "1"


KNOWN = {"04A2B3C4": "Accepted", "0BADCAFE": "Blocked"}


class KnownTagsCsms(Csms201):
    tags = KNOWN


class PendingCsms(KnownTagsCsms):
    boot_status = "Pending"


async def _against(cls, ids, description=None):
    async with await serve_csms(cls) as server:
        port = server.sockets[0].getsockname()[1]
        runner = SuiteRunner(options("2.0.1", "csms", auto=False, step_timeout=2,
                                     target=f"ws://127.0.0.1:{port}/CP42", sut_config=description))
        try:
            return await runner.run(catalog.select("2.0.1", "csms", ids))
        finally:
            runner.close()


async def test_declared_tags_are_used_and_undeclared_ones_make_cases_not_applicable():
    description = parse({"tags": {"valid": "04A2B3C4", "blocked": "0BADCAFE"}, "evses": [1]},
                        "lab.json")
    ids = ["TC_E_03_CSMS", "TC_C_06_CSMS", "TC_C_07_CSMS", "TC_B_02_CSMS"]
    result = await _against(KnownTagsCsms, ids, description)
    cases = by_id(result)
    assert cases["TC_E_03_CSMS"].passed, failures(result)  # the file's valid tag was sent
    assert cases["TC_C_06_CSMS"].passed, failures(result)
    assert cases["TC_C_07_CSMS"].verdict is Verdict.NOT_APPLICABLE
    assert "an idTag the SUT knows as expired (tags.expired in lab.json)" in cases["TC_C_07_CSMS"].reason
    assert cases["TC_B_02_CSMS"].verdict is Verdict.NOT_APPLICABLE
    assert "can_boot_pending in lab.json" in cases["TC_B_02_CSMS"].reason


async def test_an_unprepared_sut_is_inconclusive_and_a_declared_one_is_judged():
    """The CSMS answers Accepted where the case needs Pending: without a description nobody
    said it was set up for Pending (inconclusive); declared, it is a failure."""
    bare = await _against(KnownTagsCsms, ["TC_B_02_CSMS", "TC_E_03_CSMS"])
    cases = by_id(bare)
    pending = cases["TC_B_02_CSMS"]
    assert pending.verdict is Verdict.INCONCLUSIVE
    assert pending.reason.startswith("step 2: precondition not met: BootNotification response: "
                                     "status is 'Accepted', expected Pending")
    assert "declare boot:pending in a SUT description" in pending.reason
    # the default tag TAG0001 is unknown to this CSMS: not the CSMS's fault either
    assert cases["TC_E_03_CSMS"].verdict is Verdict.INCONCLUSIVE
    declared = parse({"can_boot_pending": True, "tags": {"valid": "04A2B3C4"}}, "lab.json")
    judged = await _against(KnownTagsCsms, ["TC_B_02_CSMS"], declared)
    assert judged.cases[0].verdict is Verdict.FAIL
    assert judged.cases[0].reason == ("step 2: BootNotification response: status is 'Accepted', "
                                      "expected Pending")
    prepared = await _against(PendingCsms, ["TC_B_02_CSMS"], declared)
    assert prepared.cases[0].passed, failures(prepared)


def test_the_cli_reads_the_description(tmp_path, capsys):
    path = tmp_path / "sut.json"
    path.write_text(json.dumps({"features": ["Core"]}), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    code = main(["suite", "run", "--version", "1.6", "--sut", "charger", "--listen", "127.0.0.1:0",
                 "--simulate-sut", "--case", "TC_052_CS", "--sut-config", str(path),
                 "--junit", str(junit), "--step-timeout", "3"])
    out = capsys.readouterr().out
    assert "NOT APPLICABLE" in out and "0 passed" in out
    assert code == 1  # nothing was tested: not a pass
    suite = ET.parse(junit).getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["sut.config"] == str(path)
    assert suite.find("testcase/skipped").get("message").startswith("NOT APPLICABLE: step 0:")
