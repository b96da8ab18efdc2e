"""JUnit XML and HTML reports: counts, reasons, step logs, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from inspector.conformance import Verdict, report
from inspector.conformance.model import CaseResult, FrameEntry, RunResult, StepResult

from suite_helpers import run


async def _mixed_run():
    """Two passing cases, one failing (wrong Authorize answer), one error (bad parameter)."""
    return await run("1.6", "csms", ["TC_001_CSMS", "TC_023_1_CSMS", "TC_064_CSMS", "RPC_03_CSMS"],
                     csms_overrides={"Authorize": {"idTagInfo": {"status": "Accepted"}}},
                     params={"hold": "not-a-number", "vendor_id": "<b>vendor & co</b>"})


async def test_junit_xml_counts_and_reasons(tmp_path):
    result = await _mixed_run()
    verdicts = {c.case_id: c.verdict for c in result.cases}
    assert verdicts == {"TC_001_CSMS": Verdict.PASS, "TC_023_1_CSMS": Verdict.FAIL,
                        "TC_064_CSMS": Verdict.PASS, "RPC_03_CSMS": Verdict.ERROR}
    assert result.exit_code == 1
    path = tmp_path / "junit.xml"
    report.write_junit(result, path)
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    cases = suite.findall("testcase")
    assert [c.get("name").split()[0] for c in cases] == [c.case_id for c in result.cases]
    failing = cases[1]
    failure = failing.find("failure")
    assert failure is not None and failing.find("error") is None
    assert "idTagInfo.status is 'Accepted', expected Invalid" in failure.get("message")
    assert "TC_023_1_CSMS" in failing.find("system-out").text
    assert cases[3].find("error") is not None
    assert cases[0].find("failure") is None and cases[0].find("error") is None
    assert "BootNotification" in cases[0].find("system-out").text


async def test_html_report_shows_every_case_and_verdict_escaped(tmp_path):
    result = await _mixed_run()
    path = tmp_path / "report.html"
    report.write_html(result, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "FAILED" in text
    for case in result.cases:
        assert case.case_id in text
    for verdict in ("pass", "fail", "error"):
        assert f'class="v {verdict}"' in text
    # the vendor id travelled in a frame: shown escaped, never as markup
    assert "&lt;b&gt;vendor &amp; co&lt;/b&gt;" in text
    assert "<b>vendor" not in text
    assert "<script" not in text.lower()


def test_reports_survive_control_characters_and_markup():
    frame = FrameEntry(seq=1, time=0.0, from_sut=True, type="MALFORMED", action=None, unique_id=None,
                       raw='[2,"\x01","<script>alert(1)</script>"]', valid=False,
                       errors=["$: not valid JSON"], flags=[], used=True)
    step = StepResult(1, "expect", "expect <Boot> & co", Verdict.FAIL, "bad \x02 frame", [frame])
    case = CaseResult("TC_X", "a <title>", "2.0.1", "charger", "B & C", Verdict.FAIL,
                      "step 1: bad \x02 frame", [step], 0.0, 1.0)
    result = RunResult("2.0.1", "charger", [case], 0.0, 1.0, "ws://h/", False)
    root = ET.fromstring(report.junit_xml(result).encode("utf-8"))
    assert root.find("testsuite").get("failures") == "1"
    assert "\\u0001" in root.find("testsuite/testcase/system-out").text
    html = report.render_html(result)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "a &lt;title&gt;" in html


def _result_with(*verdicts, tested="ws://csms.example/ocpp/CP7", auto=False) -> RunResult:
    cases = [CaseResult(f"TC_{i}", "t", "2.0.1", "csms", "g", verdict,
                        f"step 1: reason {verdict.value}" if verdict is not Verdict.PASS else "",
                        [StepResult(1, "send", "s", verdict, "why")], 0.0, 1.0)
             for i, verdict in enumerate(verdicts)]
    return RunResult("2.0.1", "csms", cases, 0.0, 1.0, "ws://csms.example/ocpp/CP7", auto,
                     tested=tested)


def test_junit_maps_inconclusive_and_not_applicable_to_skipped_and_names_the_sut():
    result = _result_with(Verdict.PASS, Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE, Verdict.FAIL)
    root = ET.fromstring(report.junit_xml(result).encode("utf-8"))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) \
        == ("4", "1", "0", "2")
    assert root.get("skipped") == "2"
    cases = suite.findall("testcase")
    assert cases[1].find("failure") is None
    assert cases[1].find("skipped").get("message") == "INCONCLUSIVE: step 1: reason inconclusive"
    assert cases[2].find("skipped").get("message") == "NOT APPLICABLE: step 1: reason not_applicable"
    assert cases[3].find("failure") is not None and cases[3].find("skipped") is None
    props = {p.get("name"): p.get("value") for p in suite.find("properties")}
    assert props["sut.tested"] == "ws://csms.example/ocpp/CP7" and props["simulated"] == "false"
    assert suite.get("name").endswith("of ws://csms.example/ocpp/CP7")
    html = report.render_html(result)
    assert "<title>OCPP 2.0.1 CSMS conformance of ws://csms.example/ocpp/CP7" in html
    assert 'class="v not_applicable">not applicable<' in html


def test_a_run_that_tested_nothing_does_not_pass():
    assert not _result_with(Verdict.NOT_APPLICABLE, Verdict.NOT_APPLICABLE).passed
    assert _result_with(Verdict.PASS, Verdict.NOT_APPLICABLE).passed
    assert not RunResult("1.6", "charger").passed


async def test_reports_of_a_simulated_run_say_so():
    result = await run("1.6", "csms", ["TC_001_CSMS"])
    assert result.tested == "simulated by ocpp-inspector (its own fake CSMS, --simulate-sut)"
    assert "simulated by ocpp-inspector" in report.render_html(result).split("</title>")[0]
