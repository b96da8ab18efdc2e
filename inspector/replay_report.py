"""A replay's result as JUnit XML (one test case per recorded connection, its differences
the failure) and as a small HTML page, for CI and for people."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from pathlib import Path

from .replay import ReplayResult


def write_junit(result: ReplayResult, path: str | Path) -> None:
    suite = ET.Element("testsuite", name=f"replay against {result.target}",
                       tests=str(len(result.connections)),
                       failures=str(sum(1 for c in result.connections if c.differences)),
                       errors=str(sum(1 for c in result.connections if c.error)),
                       time=f"{result.seconds:.3f}")
    for connection in result.connections:
        case = ET.SubElement(suite, "testcase", classname="replay", name=connection.name)
        if connection.error:
            ET.SubElement(case, "error", message=connection.error)
        if connection.differences:
            failure = ET.SubElement(case, "failure",
                                    message=f"{len(connection.differences)} difference(s)")
            failure.text = "\n".join(str(d) for d in connection.differences)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_html(result: ReplayResult, path: str | Path) -> None:
    rows = []
    for connection in result.connections:
        verdict = "error" if connection.error else "differs" if connection.differences else "same"
        colour = {"same": "#1b7f3b", "differs": "#b00020", "error": "#8a4b00"}[verdict]
        rows.append(f"<tr><td>{html.escape(connection.name)}</td><td>{connection.calls}</td>"
                    f"<td style='color:{colour};font-weight:bold'>{verdict}</td><td>"
                    + html.escape(connection.error or "")
                    + "".join(f"<div><code>{html.escape(d.where)}</code> <code>"
                              f"{html.escape(d.path)}</code>: recorded "
                              f"{html.escape(_value(d.recorded))}, now "
                              f"{html.escape(_value(d.replayed))}</div>"
                              for d in connection.differences)
                    + "</td></tr>")
    Path(path).write_text(
        "<!doctype html><meta charset='utf-8'><title>Replay</title>"
        "<style>body{font-family:sans-serif}td,th{border-bottom:1px solid #ddd;padding:4px 8px;"
        "text-align:left;vertical-align:top}</style>"
        f"<h1>Replay against {html.escape(result.target)}</h1>"
        f"<p>{html.escape(result.summary())}; recorded as seen by the {html.escape(result.role)}"
        " role.</p><table><tr><th>connection</th><th>exchanges</th><th>verdict</th>"
        "<th>differences</th></tr>" + "".join(rows) + "</table>", encoding="utf-8")


def _value(value) -> str:
    from .replay_diff import _show
    return _show(value)
