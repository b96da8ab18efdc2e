"""Run reports: JUnit XML (for CI) and a self-contained HTML page (for people)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from .. import __version__
from .model import CaseResult, RunResult, Verdict

# characters XML 1.0 cannot carry, even escaped
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _XML_ILLEGAL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _iso(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def _suite_name(result: RunResult) -> str:
    return f"OCPP {result.version} {'charging station' if result.sut == 'charger' else 'CSMS'} conformance"


def _title(result: RunResult) -> str:
    """The suite and the SUT actually tested: a URL, a charger, or our own simulator."""
    return f"{_suite_name(result)} of {result.tested}" if result.tested else _suite_name(result)


# verdicts JUnit has no word for: the case says nothing about the SUT, like a skipped test
_SKIPPED = (Verdict.INCONCLUSIVE, Verdict.NOT_APPLICABLE)


def junit_xml(result: RunResult) -> str:
    """One <testcase> per case: <failure> for fail, <error> for error, <skipped> for
    inconclusive and not applicable (with the reason); counts come from the results."""
    failures = result.count(Verdict.FAIL)
    errors = result.count(Verdict.ERROR)
    skipped = sum(result.count(v) for v in _SKIPPED)
    root = ET.Element("testsuites", name="OCPP Inspector conformance", tests=str(len(result.cases)),
                      failures=str(failures), errors=str(errors), skipped=str(skipped),
                      time=f"{result.duration:.3f}")
    suite = ET.SubElement(root, "testsuite", name=_xml_text(_title(result)),
                          tests=str(len(result.cases)), failures=str(failures), errors=str(errors),
                          skipped=str(skipped), time=f"{result.duration:.3f}",
                          timestamp=_iso(result.started))
    props = ET.SubElement(suite, "properties")
    for name, value in (("ocpp.version", result.version), ("sut", result.sut),
                        ("sut.tested", result.tested), ("endpoint", result.endpoint),
                        ("simulated", str(result.auto).lower()),
                        ("sut.config", result.sut_config),
                        ("tool", f"ocpp-inspector {__version__}")):
        ET.SubElement(props, "property", name=name, value=_xml_text(value))
    for case in result.cases:
        element = ET.SubElement(suite, "testcase",
                                classname=_xml_text(f"ocpp{result.version}.{result.sut}.{case.group}"),
                                name=_xml_text(f"{case.case_id} {case.title}"),
                                time=f"{case.duration:.3f}")
        message = _xml_text(f"{case.verdict.label}: {case.reason}" if case.reason
                            else case.verdict.label)
        if case.verdict in _SKIPPED:
            ET.SubElement(element, "skipped", message=message, type=case.verdict.value)
        elif case.verdict is not Verdict.PASS:
            tag = "error" if case.verdict is Verdict.ERROR else "failure"
            child = ET.SubElement(element, tag, message=message, type=case.verdict.value)
            child.text = _xml_text(case.log(frames=False))
        out = ET.SubElement(element, "system-out")
        out.text = _xml_text(case.log())
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(result: RunResult, path: str | Path) -> None:
    Path(path).write_text(junit_xml(result), encoding="utf-8")


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em;color:#1d1d1f}
h1{font-size:1.4em;margin-bottom:.2em} .meta{color:#555;margin-bottom:1em}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.2em}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top;font-size:.92em}
th{background:#f4f4f6}
.v{font-weight:600;text-transform:uppercase;font-size:.8em;padding:2px 6px;border-radius:3px;
   white-space:nowrap;color:#fff}
.pass{background:#2e7d32}.fail{background:#c62828}.inconclusive{background:#9e7700}
.error{background:#6a1b9a}.not_applicable{background:#607d8b}
.counts span{margin-right:1em}
details{border:1px solid #ddd;border-radius:4px;margin:.5em 0;padding:.3em .6em}
summary{cursor:pointer;font-weight:600}
pre{white-space:pre-wrap;word-break:break-all;margin:.2em 0;font-size:.85em;background:#fafafa;
    padding:3px 5px;border-left:3px solid #ccc}
pre.sut{border-left-color:#1565c0} pre.eng{border-left-color:#888} pre.used{background:#eef5ff}
pre.bad{border-left-color:#c62828;background:#fff3f3}
.reason{color:#333} .note{color:#8a6d00;font-size:.85em}
.pre{color:#555;font-size:.9em;margin:.3em 0}
"""


def _badge(verdict: Verdict | None) -> str:
    value = verdict.value if verdict else "none"
    label = verdict.label.lower() if verdict else "none"
    return f'<span class="v {value}">{html.escape(label)}</span>'


def _case_html(case: CaseResult, anchor: str, sut: str) -> str:
    e = html.escape
    sut_name = "charger" if sut == "charger" else "CSMS"
    rows = []
    for step in case.steps:
        frames = []
        for frame in step.frames:
            who = f"{sut_name} &rarr; engine" if frame.from_sut else f"engine &rarr; {sut_name}"
            classes = ["sut" if frame.from_sut else "eng"]
            if frame.used:
                classes.append("used")
            if frame.valid is False:
                classes.append("bad")
            problems = "".join(f"\n  ! {e(x)}" for x in frame.errors + frame.flags)
            frames.append(f'<pre class="{" ".join(classes)}">{who}: {e(frame.raw)}{problems}</pre>')
        notes = "".join(f'<div class="note">note: {e(n)}</div>' for n in step.notes)
        rows.append(
            f"<tr><td>{step.index}</td><td>{e(step.kind)}</td><td>{e(step.title)}</td>"
            f"<td>{_badge(step.verdict)}</td><td class=\"reason\">{e(step.reason)}{notes}</td>"
            f"<td>{''.join(frames)}</td></tr>")
    open_attr = "" if case.verdict is Verdict.PASS else " open"
    return (f'<details id="{e(anchor)}"{open_attr}><summary>{_badge(case.verdict)} '
            f"{e(case.case_id)} &mdash; {e(case.title)} ({case.duration:.2f} s)</summary>"
            f'<div class="pre">group {e(case.group)}</div>'
            + (f'<div class="reason"><b>Reason:</b> {e(case.reason)}</div>' if case.reason else "")
            + "<table><tr><th>#</th><th>kind</th><th>step</th><th>verdict</th><th>reason</th>"
              "<th>frames</th></tr>" + "".join(rows) + "</table></details>")


def render_html(result: RunResult) -> str:
    e = html.escape
    counts = " ".join(f"<span>{_badge(v)} {result.count(v)}</span>" for v in Verdict)
    summary_rows = []
    details = []
    for number, case in enumerate(result.cases, 1):
        anchor = f"case-{number}"
        summary_rows.append(
            f'<tr><td><a href="#{anchor}">{e(case.case_id)}</a></td><td>{e(case.title)}</td>'
            f"<td>{e(case.group)}</td><td>{_badge(case.verdict)}</td>"
            f"<td>{case.duration:.2f} s</td><td class=\"reason\">{e(case.reason)}</td></tr>")
        details.append(_case_html(case, anchor, result.sut))
    overall = "PASSED" if result.passed else "FAILED"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{e(_title(result))} &mdash; {overall}</title>
<style>{_CSS}</style></head><body>
<h1>{e(_suite_name(result))}: {overall}</h1>
<div class="meta"><b>Tested:</b> {e(result.tested or result.endpoint)}
{'(our own simulator, not a real device)' if result.auto else ''}<br>
SUT kind: {e(result.sut)} &middot; endpoint: {e(result.endpoint)} &middot;
SUT description: {e(result.sut_config or 'none given')} &middot; started {e(_iso(result.started))}
&middot; {result.duration:.1f} s &middot; ocpp-inspector {e(__version__)}</div>
<div class="counts">{counts}</div>
<table><tr><th>case</th><th>title</th><th>group</th><th>verdict</th><th>time</th><th>reason</th></tr>
{''.join(summary_rows)}</table>
{''.join(details)}
</body></html>
"""


def write_html(result: RunResult, path: str | Path) -> None:
    Path(path).write_text(render_html(result), encoding="utf-8")
