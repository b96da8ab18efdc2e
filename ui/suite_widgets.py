"""Widgets of the Suites tab: the catalog tree, the live results tree, the operator prompt
dialog, and the HTML shown in the details pane. No run logic here (see `ui/suites.py`)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QDialog, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout)

from inspector.conformance import CaseStarted, PromptReply, PromptRequest, Verdict, catalog

# the HTML report's colours: pass green, fail red, inconclusive amber, error purple
VERDICT_COLOURS = {Verdict.PASS: "#2e7d32", Verdict.FAIL: "#c62828",
                   Verdict.INCONCLUSIVE: "#9e7700", Verdict.NOT_APPLICABLE: "#607d8b",
                   Verdict.ERROR: "#6a1b9a"}
SUT_NAMES = {"charger": "Charging station", "csms": "CSMS"}
SUT_HINTS = {"charger": "the engine plays the CSMS", "csms": "the engine plays the charging station"}
BEFORE_TEXT = {"none": "nothing (the case starts from scratch)",
               "connected": "the SUT is connected",
               "booted": "the SUT is connected and booted"}
CASE_ROLE = Qt.ItemDataRole.UserRole
CHECKED, UNCHECKED = Qt.CheckState.Checked, Qt.CheckState.Unchecked


def badge_style(verdict: Verdict) -> str:
    return (f"background: {VERDICT_COLOURS[verdict]}; color: white; font-weight: 600; "
            "border-radius: 3px; padding: 2px 7px;")


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


# ---- the catalog -------------------------------------------------------------------------------

class CatalogTree(QTreeWidget):
    """Every case as version › SUT kind › functional block › case, with tristate checkboxes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("suitesCatalog")
        self.setColumnCount(2)
        self.setHeaderLabels(["Case", "Title"])
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setIndentation(14)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setStretchLastSection(True)
        self.cases: dict[tuple[str, str], QTreeWidgetItem] = {}  # (version, id) -> item
        self._build()

    def reload(self) -> None:
        """Build again (cases loaded from a file joined the catalogue); checks are kept."""
        checked = [case.key for case in self.checked_cases()]
        self.clear()
        self.cases = {}
        self._build()
        self.set_checked(checked)

    def _build(self) -> None:
        nodes: dict[tuple, QTreeWidgetItem] = {}
        flags = (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                 | Qt.ItemFlag.ItemIsUserCheckable)

        def node(key: tuple, parent, text: str) -> QTreeWidgetItem:
            item = nodes.get(key)
            if item is None:
                item = QTreeWidgetItem(parent, [text, ""])
                item.setFlags(flags | Qt.ItemFlag.ItemIsAutoTristate)
                item.setCheckState(0, UNCHECKED)
                item.setData(0, CASE_ROLE, key)
                font = item.font(0)
                font.setBold(len(key) < 3)
                item.setFont(0, font)
                nodes[key] = item
            return item

        for case in catalog.all_cases():
            top = node((case.version,), self, f"OCPP {case.version}")
            kind = node((case.version, case.sut), top, f"SUT: {SUT_NAMES[case.sut]}")
            kind.setToolTip(0, SUT_HINTS[case.sut])
            group = node((case.version, case.sut, case.group), kind, case.group)
            item = QTreeWidgetItem(group, [case.id, case.title])
            item.setFlags(flags | Qt.ItemFlag.ItemNeverHasChildren)
            item.setCheckState(0, UNCHECKED)
            item.setData(0, CASE_ROLE, case)
            item.setToolTip(1, case.title)
            self.cases[case.key] = item
        for item in nodes.values():
            if len(item.data(0, CASE_ROLE)) == 3:
                item.setText(1, f"{item.childCount()} case(s)")
            elif len(item.data(0, CASE_ROLE)) == 2:
                item.setText(1, f"{sum(item.child(i).childCount() for i in range(item.childCount()))}"
                                " case(s)")
        for i in range(self.topLevelItemCount()):
            self.topLevelItem(i).setExpanded(True)

    @staticmethod
    def case_of(item: QTreeWidgetItem | None):
        if item is None:
            return None
        data = item.data(0, CASE_ROLE)
        return None if isinstance(data, tuple) else data

    def checked_cases(self) -> list:
        """The checked cases, in catalog order."""
        return [self.case_of(item) for item in self.cases.values()
                if item.checkState(0) == CHECKED]

    def set_checked(self, keys, checked: bool = True) -> None:
        """Check (or uncheck) cases by (version, id); unknown keys are ignored."""
        for key in keys:
            item = self.cases.get(tuple(key))
            if item is not None:
                item.setCheckState(0, CHECKED if checked else UNCHECKED)

    def clear_checks(self) -> None:
        for i in range(self.topLevelItemCount()):
            self.topLevelItem(i).setCheckState(0, UNCHECKED)

    def find(self, version: str, case_id: str) -> QTreeWidgetItem | None:
        return self.cases.get((version, case_id))

    def apply_filter(self, text: str) -> None:
        """Show the cases whose id, title or group contains `text` (and their parents)."""
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem) -> bool:
            case = self.case_of(item)
            if case is not None:
                shown = not needle or needle in f"{case.id} {case.title} {case.group}".lower()
            else:
                shown = False
                for i in range(item.childCount()):
                    shown = visit(item.child(i)) or shown
            item.setHidden(not shown)
            if needle and shown and case is None:
                item.setExpanded(True)
            return shown
        for i in range(self.topLevelItemCount()):
            visit(self.topLevelItem(i))


def describe_case(case) -> str:
    """The catalog pane's HTML for one case."""
    e = html.escape
    info = case.info()
    steps = "".join(f"<li>{e(s['title'])}</li>" for s in info["steps"])
    parts = [f"<h3 style='margin:0'>{e(case.id)} — {e(case.title)}</h3>",
             f"<div style='color:#555'>OCPP {e(case.version)} · SUT: {e(SUT_NAMES[case.sut])} · "
             f"{e(case.group)}</div>",
             f"<p><b>Precondition:</b> {e(BEFORE_TEXT.get(case.before, case.before))}"
             + (f". {e(case.preconditions)}" if case.preconditions else "") + "</p>"]
    if case.description:
        parts.append(f"<p>{e(case.description)}</p>")
    if case.references:
        parts.append(f"<p style='color:#555'>References: {e(case.references)}</p>")
    parts.append(f"<b>Steps</b><ol style='margin-top:2px'>{steps}</ol>")
    return "".join(parts)


def _badge_html(verdict: Verdict | None) -> str:
    if verdict is None:
        return "<span style='color:#555'>running…</span>"
    return (f"<span style='background-color:{VERDICT_COLOURS[verdict]}; color:white; "
            f"font-weight:600'>&nbsp;{verdict.label}&nbsp;</span>")


def describe_step(case_id: str, step, sut: str, frame_limit: int = 2000) -> str:
    """The details pane's HTML for one step result: verdict, reason, notes, frames."""
    e = html.escape
    other = "charger" if sut == "charger" else "CSMS"
    parts = [f"<h3 style='margin:0'>{e(case_id)} · step {step.index}</h3>",
             f"<div>{e(step.title)}</div>",
             f"<p>{_badge_html(step.verdict)} &nbsp;{e(step.reason)}"
             + (f" <span style='color:#555'>({step.duration:.2f} s)</span>" if step.ended else "")
             + "</p>"]
    parts += [f"<div style='color:#8a6d00'>note: {e(note)}</div>" for note in step.notes]
    if step.frames:
        parts.append("<b>Frames</b>")
    for frame in step.frames:
        who = f"{other} → engine" if frame.from_sut else f"engine → {other}"
        raw = frame.raw if len(frame.raw) <= frame_limit else frame.raw[:frame_limit] + " …"
        colour = "#c62828" if frame.valid is False else ("#1565c0" if frame.from_sut else "#666")
        problems = "".join(f"<br>! {e(x)}" for x in list(frame.errors) + list(frame.flags))
        parts.append(f"<p style='margin:2px 0; border-left:3px solid {colour}'>"
                     f"&nbsp;<span style='color:{colour}'>{who}</span>"
                     f"{' (used)' if frame.used else ''} "
                     f"<a href='frame:{frame.seq}'>show in the log</a><br>"
                     f"<code>&nbsp;{e(raw)}</code><span style='color:#c62828'>{problems}</span></p>")
    return "".join(parts)


def describe_case_result(result) -> str:
    """The details pane's HTML for one case result: verdict, reason, each step's line."""
    e = html.escape
    rows = "".join(f"<tr><td>{s.index}</td><td>{_badge_html(s.verdict)}</td>"
                   f"<td>{e(s.title)}<br><span style='color:#555'>{e(s.reason)}</span></td></tr>"
                   for s in result.steps)
    return (f"<h3 style='margin:0'>{e(result.case_id)} — {e(result.title)}</h3>"
            f"<p>{_badge_html(result.verdict)} &nbsp;{e(result.reason or 'every step passed')} "
            f"<span style='color:#555'>({result.duration:.2f} s)</span></p>"
            f"<table cellspacing='0' cellpadding='2'>{rows}</table>")


# ---- the operator prompt --------------------------------------------------------------------------

class PromptDialog(QDialog):
    """'Do this now' for the operator: Done / Failed / Skip, with an optional note.

    Non-modal on purpose: the tester may look at the frame log or press Stop meanwhile.
    Closing the dialog counts as Skip."""

    answered = Signal(object)  # PromptReply

    def __init__(self, request: PromptRequest, parent=None):
        super().__init__(parent)
        self.request = request
        self.reply: PromptReply | None = None
        self.setObjectName("suitesPrompt")
        self.setWindowTitle(f"Operator action — {request.case_id}")
        self.setWindowModality(Qt.WindowModality.NonModal)
        where = QLabel(f"{request.case_id} — {request.case_title} · step {request.step_index}")
        where.setStyleSheet("color: #555;")
        where.setWordWrap(True)
        self.text = QLabel(request.text)
        self.text.setObjectName("suitesPromptText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.text.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.text.setFont(font)
        self.note = QLineEdit()
        self.note.setObjectName("suitesPromptNote")
        self.note.setPlaceholderText("note for the report (optional), e.g. what went wrong")
        hint = QLabel("Done: you did it. Failed: the SUT did not behave as asked (step fails). "
                      "Skip: you cannot do it here (step inconclusive).")
        # an observable action ends the prompt by itself; the countdown shows how long it waits
        self.watch = QLabel()
        self.watch.setObjectName("suitesPromptWatch")
        self.watch.setWordWrap(True)
        self.watch.setStyleSheet("color: #1565c0;")
        self._left = request.timeout
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self._show_watch()
        if request.timeout is not None:
            self._timer.start()
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #666;")
        self.done_button = QPushButton("Done")
        self.done_button.setObjectName("suitesPromptDone")
        self.done_button.setDefault(True)
        self.failed_button = QPushButton("Failed")
        self.failed_button.setObjectName("suitesPromptFailed")
        self.skip_button = QPushButton("Skip")
        self.skip_button.setObjectName("suitesPromptSkip")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.done_button, self.failed_button, self.skip_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(where)
        layout.addWidget(self.text)
        layout.addWidget(self.watch)
        layout.addWidget(self.note)
        layout.addWidget(hint)
        layout.addLayout(buttons)
        self.setMinimumWidth(460)
        self.done_button.clicked.connect(
            lambda: self._answer(PromptReply.done(self._note() or "operator confirmed")))
        self.failed_button.clicked.connect(
            lambda: self._answer(PromptReply.failed(self._note())))
        self.skip_button.clicked.connect(
            lambda: self._answer(PromptReply.skip(self._note() or "skipped by the operator")))

    def _note(self) -> str:
        return self.note.text().strip()

    def _show_watch(self) -> None:
        request = self.request
        left = f"{max(0, int(self._left or 0))} s left" if self._left is not None else ""
        if request.observe:
            self.watch.setText(f"Watching for {request.observe}: this prompt closes by "
                               f"itself when it is seen, no need to press Done ({left}).")
        elif left:
            self.watch.setText(f"The engine cannot see this happen: press Done when it is done "
                               f"({left}).")
        self.watch.setVisible(bool(self.watch.text()))

    def _tick(self) -> None:
        if self._left is not None:
            self._left -= 1
            self._show_watch()

    def _answer(self, reply: PromptReply) -> None:
        if self.reply is None:
            self.reply = reply
            self.answered.emit(reply)
        self.hide()

    def reject(self) -> None:  # Esc or the window's close button
        self._answer(PromptReply.skip(self._note() or "the prompt was closed"))

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.reply is None:
            self._answer(PromptReply.skip(self._note() or "the prompt was closed"))
        super().closeEvent(event)


# ---- the live run --------------------------------------------------------------------------------

class ResultsTree(QTreeWidget):
    """Cases › steps of the run, verdicts as coloured badges; long reasons elide (tooltip, and
    the details pane shows them in full with the step's frames)."""

    COLUMNS = ("Case / step", "Verdict", "Time", "Reason")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("suitesResults")
        self.setColumnCount(len(self.COLUMNS))
        self.setHeaderLabels(list(self.COLUMNS))
        self.setAlternatingRowColors(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.setColumnWidth(0, 280)
        self.setColumnWidth(1, 100)
        self.items: dict[str, QTreeWidgetItem] = {}  # case id -> item

    def clear_run(self) -> None:
        self.clear()
        self.items.clear()

    def case_started(self, event: CaseStarted) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self, [f"{event.case_id}  {event.title}", "", "", ""])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setToolTip(0, f"{event.case_id} — {event.title} ({event.number} of {event.total})")
        for index, title in enumerate(event.steps):
            QTreeWidgetItem(item, [f"{index:>2}  {title}", "", "", ""]).setToolTip(0, title)
        self.items[event.case_id] = item
        self.set_pending(item, "running…")
        item.setExpanded(True)
        self.scrollToItem(item)
        return item

    def step(self, case_id: str, index: int) -> QTreeWidgetItem | None:
        item = self.items.get(case_id)
        if item is None or not 0 <= index < item.childCount():
            return None
        return item.child(index)

    @staticmethod
    def set_pending(item: QTreeWidgetItem, text: str, colour: str = "#555") -> None:
        item.setText(1, text)
        item.setData(1, Qt.ItemDataRole.BackgroundRole, None)
        item.setForeground(1, QBrush(QColor(colour)))
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignCenter)

    @staticmethod
    def set_verdict(item: QTreeWidgetItem, verdict: Verdict | None, reason: str,
                    duration: float | None, notes=()) -> None:
        if verdict is None:
            return
        item.setText(1, verdict.label)
        item.setBackground(1, QBrush(QColor(VERDICT_COLOURS[verdict])))
        item.setForeground(1, QBrush(QColor("white")))
        font = item.font(1)
        font.setBold(True)
        item.setFont(1, font)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignCenter)
        item.setData(1, CASE_ROLE, verdict)
        item.setText(2, _seconds(duration) if duration is not None else "")
        text = reason + "".join(f"\nnote: {n}" for n in notes)
        item.setText(3, text)
        item.setToolTip(3, text)
        if verdict is not Verdict.PASS:
            item.setForeground(3, QBrush(QColor(VERDICT_COLOURS[verdict])))

    def step_finished(self, case_id: str, result) -> None:
        child = self.step(case_id, result.index)
        if child is None:
            return
        child.setText(0, f"{result.index:>2}  {result.title}")
        child.setToolTip(0, result.title)
        child.setData(0, CASE_ROLE, result)
        self.set_verdict(child, result.verdict, result.reason, result.duration, result.notes)

    def case_finished(self, result) -> None:
        item = self.items.get(result.case_id)
        if item is None:
            return
        for step in result.steps:  # also the "not run" steps, which get no StepFinished
            self.step_finished(result.case_id, step)
        item.setData(0, CASE_ROLE, result)
        self.set_verdict(item, result.verdict, result.reason, result.duration)
        item.setExpanded(result.verdict is not Verdict.PASS)

    def verdict_texts(self) -> dict[str, str]:
        """case id -> verdict column text (for tests and the screenshot)."""
        return {case_id: item.text(1) for case_id, item in self.items.items()}
