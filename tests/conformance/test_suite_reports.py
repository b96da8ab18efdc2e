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
