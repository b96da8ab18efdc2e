"""The detail pane: the selected frame pretty-printed beside its request/response, findings."""

from __future__ import annotations

import json
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (QColor, QFontDatabase, QGuiApplication, QSyntaxHighlighter,
                           QTextCharFormat, QTextOption)
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSplitter,
                               QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

from inspector import flags

from .framestore import FrameStore, Row
from .model import ARROWS, format_clock, format_latency

_TOKEN = re.compile(r'(?P<key>"(?:[^"\\]|\\.)*"\s*:)|(?P<string>"(?:[^"\\]|\\.)*")'
                    r'|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<literal>\btrue\b|\bfalse\b|\bnull\b)')


def _format(color: str, bold: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(700)
    return fmt


class JsonHighlighter(QSyntaxHighlighter):
    FORMATS = {"key": _format("#1f4e9c", True), "string": _format("#2e7d32"),
               "number": _format("#8e24aa"), "literal": _format("#c55a00")}

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        for match in _TOKEN.finditer(text):
            kind = match.lastgroup
            self.setFormat(match.start(), match.end() - match.start(), self.FORMATS[kind])


def pretty(raw: str) -> str:
    """A frame as readable JSON: the envelope on one line, the payload indented."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    if isinstance(value, list) and len(value) in (3, 4) and isinstance(value[-1], (dict, list)):
        head = ", ".join(json.dumps(v, ensure_ascii=False) for v in value[:-1])
        body = json.dumps(value[-1], indent=2, ensure_ascii=False)
        return f"[{head},\n{body}\n]"
    return json.dumps(value, indent=2, ensure_ascii=False)


def summary(row: Row) -> str:
    parts = [f"<b>{row.type}</b>"]
    if row.action:
        parts.append(f"<b>{row.action}</b>")
    parts.append(ARROWS.get(row.direction, row.direction))
    parts.append(row.charge_point_id)
    parts.append(f"#{row.seq}")
    parts.append(format_clock(row.time))
    if row.latency_ms is not None:
        parts.append(f"latency {format_latency(row.latency_ms)}")
    if row.valid is True:
        parts.append("<span style='color:#1b7f3b'>✓ valid</span>")
    elif row.valid is False:
        parts.append(f"<span style='color:#b00020'>✗ {len(row.errors)} finding(s)</span>")
    else:
        parts.append("<span style='color:#777'>not validated</span>")
    if row.flags:
        parts.append(f"<span style='color:#a35a00'>⚑ {len(row.flags)} flag(s)</span>")
    return " · ".join(parts)


class FramePanel(QWidget):
    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.title = title
        self.header = QLabel()
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.text.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self._highlighter = JsonHighlighter(self.text.document())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.text)
        self.clear()

    def clear(self, note: str = "") -> None:
        self.header.setText(f"<i>{self.title}</i>" + (f": {note}" if note else ""))
        self.text.setPlainText("")

    def show_frame(self, title: str, row: Row, raw: str) -> None:
        self.header.setText(f"{title}: {summary(row)}")
        self.text.setPlainText(pretty(raw))


class DetailPane(QWidget):
    resend_requested = Signal(int)  # store row of a CALL

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("detailPane")
        self.frame = FramePanel("Selected frame")
        self.pair = FramePanel("Paired frame")
        self.resend = QPushButton("Resend / edit…")
        self.resend.setObjectName("resendButton")
        self.resend.setToolTip("compose a new CALL from this one (fake CSMS or fake charger)")
        self.copy = QPushButton("Copy raw")
        self.findings = QTreeWidget()
        self.findings.setObjectName("findings")
        self.findings.setHeaderLabels(["Frame", "JSON path", "Problem", "Rule", "OCPP error"])
        self.findings.setRootIsDecorated(False)
        self.findings.setAlternatingRowColors(True)
        for column, width in enumerate((90, 220, 380, 90)):
            self.findings.setColumnWidth(column, width)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.frame)
        splitter.addWidget(self.pair)
        splitter.setSizes([1, 1])
        # the JSON takes the height; the findings table appears (sized to its rows) only
        # when there is something to show, else one line beside the buttons says so
        self.vertical = vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(splitter)
        vertical.addWidget(self.findings)
        vertical.setStretchFactor(0, 1)
        vertical.setStretchFactor(1, 0)
        vertical.setCollapsible(0, False)
        self.verdict = QLabel()
        self.verdict.setObjectName("findingsSummary")
        buttons = QHBoxLayout()
        buttons.addWidget(self.verdict)
        buttons.addStretch(1)
        buttons.addWidget(self.copy)
        buttons.addWidget(self.resend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(vertical, 1)
        layout.addLayout(buttons)
        self.resend.clicked.connect(lambda: self.resend_requested.emit(self.store_row))
        self.copy.clicked.connect(self._copy)
        self.store_row = -1
        self._raw = ""
        self.show_row(None, -1)

    def show_row(self, store: FrameStore | None, store_row: int) -> None:
        self.store_row = store_row
        self.findings.clear()
        if store is None or store_row < 0 or store_row >= store.count:
            self.frame.clear("select a frame in the log")
            self.pair.clear()
            self.resend.setEnabled(False)
            self.copy.setEnabled(False)
            self._raw = ""
            self.findings.hide()
            self.verdict.clear()
            return
        row = store.row(store_row)
        self._raw = store.raw(store_row)
        self.frame.show_frame("Selected", row, self._raw)
        self.copy.setEnabled(True)
        self.resend.setEnabled(row.type == "CALL")
        pair_row = store.paired_row(store_row)
        rows = [("selected", row)]
        if pair_row is None:
            if row.type == "CALL":
                self.pair.clear("no response logged" + (" (unanswered)" if any(
                    flags.code_of(f) == flags.UNANSWERED for f in row.flags) else " yet"))
            elif row.type in ("CALLRESULT", "CALLERROR"):
                self.pair.clear("its CALL is not in the log")
            else:
                self.pair.clear("none for this frame type")
        else:
            pair = store.row(pair_row)
            title = "Response" if row.type == "CALL" else "Request"
            self.pair.show_frame(title, pair, store.raw(pair_row))
            rows.append((title.lower(), pair))
        for label, item in rows:
            for error in item.errors:
                QTreeWidgetItem(self.findings, [label, error.get("path", ""), error.get("message", ""),
                                                error.get("rule", ""), error.get("ocpp_error", "")])
            for flag in item.flags:
                QTreeWidgetItem(self.findings, [label, "", f"⚑ {flag}", "flag", ""])
        self._show_findings()

    def _show_findings(self) -> None:
        count = self.findings.topLevelItemCount()
        self.findings.setVisible(count > 0)
        if not count:
            self.verdict.setText("✓ no findings, no flags")
            self.verdict.setStyleSheet("color: #1b7f3b;")
            return
        self.verdict.setText(f"⚠ {count} finding(s)")
        self.verdict.setStyleSheet("color: #b00020; font-weight: 600;")
        rows = min(count, 6)
        wanted = self.findings.header().height() + rows * (self.findings.sizeHintForRow(0) + 2) + 6
        total = sum(self.vertical.sizes()) or self.vertical.height()
        self.vertical.setSizes([max(total - wanted, 120), wanted])

    def findings_text(self) -> list[str]:
        if not self.findings.topLevelItemCount():
            return [self.verdict.text()]
        return [" | ".join(self.findings.topLevelItem(i).text(c) for c in range(5))
                for i in range(self.findings.topLevelItemCount())]

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self._raw)
