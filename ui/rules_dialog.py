"""The proxy's Rules window: add, edit, switch on and off the rules of a running proxy.

The rules are a list of TOML snippets, one per rule (what `[[rule]]` tables hold in a rules
file), so a rule keeps its comments however it is edited. Ticking a rule applies at once;
an edit applies with *Apply* (or Ctrl+Return) once every rule reads: the proxy's RuleBook
is swapped whole, so the next frame of every open connection obeys the new rules.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout, QWidget)

from inspector.rules import RuleBook, RuleError
from inspector.rules_toml import (join_rules, parse_snippet, rules_as_toml, set_enabled,
                                  split_rules)

from .widgets import ask_path, error_label, hint_label

NEW_RULE = '''name = "new rule"
direction = "to_charger"
type = "CALLRESULT"
action = "Heartbeat"
do = "delay"
ms = 2000'''


class RulesDialog(QDialog):
    applied = Signal()  # the book holds new rules

    def __init__(self, book: RuleBook, snippets: list[str], settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Proxy rules")
        self.setObjectName("rulesDialog")
        self.resize(900, 560)
        self.book, self.settings = book, settings
        self.snippets = list(snippets)
        self._current = -1
        self.list = QListWidget()
        self.list.setObjectName("rulesList")
        self.list.setWordWrap(True)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("rulesEditor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText("add a rule, or open a rules file")
        self.error = error_label("rulesError")
        self.state = QLabel()
        self.state.setObjectName("rulesState")
        buttons = {}
        row = QHBoxLayout()
        for key, text in (("add", "Add"), ("remove", "Remove"), ("open", "Open file…"),
                          ("save", "Save as…"), ("apply", "Apply")):
            buttons[key] = QPushButton(text)
            buttons[key].setObjectName(f"rules{text.rstrip('…').split()[0].title()}")
            row.addWidget(buttons[key])
            if key == "save":
                row.addStretch(1)
        self.apply_button = buttons["apply"]
        self.apply_button.setDefault(True)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.editor, 1)
        right_layout.addWidget(hint_label(
            "keys: name, enabled, direction, charge_point, type, action, where, first, every, "
            "after, probability, do (drop, delay, patch, replace, callerror, duplicate, close, "
            "cut) and its own keys; see README, Proxy rules"))
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setSizes([330, 570])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.state)
        layout.addLayout(row)
        buttons["add"].clicked.connect(self.add_rule)
        buttons["remove"].clicked.connect(self.remove_rule)
        buttons["open"].clicked.connect(self._ask_open)
        buttons["save"].clicked.connect(self._ask_save)
        self.apply_button.clicked.connect(self.apply)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.apply)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemChanged.connect(self._ticked)
        self._fill()
        self._say_state()

    # ---- the list ---------------------------------------------------------------------------

    def _fill(self, select: int = 0) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for snippet in self.snippets:
            item = QListWidgetItem()
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self._label(item, snippet)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._current = -1
        if self.snippets:
            self.list.setCurrentRow(min(select, len(self.snippets) - 1))
        else:
            self.editor.clear()
            self.editor.setEnabled(False)

    def _label(self, item: QListWidgetItem, snippet: str) -> None:
        try:
            rule = parse_snippet(snippet)
        except RuleError as exc:
            item.setText("⚠ (does not read)")
            item.setToolTip(str(exc))
            item.setCheckState(Qt.CheckState.Unchecked)
            return
        item.setText(f"{rule.name}\n    {rule.describe()}")
        item.setToolTip(rule.describe())
        item.setCheckState(Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked)

    def _keep_edit(self) -> None:
        if 0 <= self._current < len(self.snippets):
            self.snippets[self._current] = self.editor.toPlainText()

    def _show(self, row: int) -> None:
        self._keep_edit()
        self._current = row
        self.editor.setEnabled(row >= 0)
        self.editor.setPlainText(self.snippets[row] if row >= 0 else "")

    def _ticked(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        self._keep_edit()
        enabled = item.checkState() == Qt.CheckState.Checked
        self.snippets[row] = set_enabled(self.snippets[row], enabled)
        if row == self._current:
            self.editor.setPlainText(self.snippets[row])
        self.apply()

    def add_rule(self) -> None:
        self._keep_edit()
        names = {self._name(s) for s in self.snippets}
        number = 1
        while f"new rule {number}" in names:
            number += 1
        self.snippets.append(NEW_RULE.replace('"new rule"', f'"new rule {number}"'))
        self._fill(len(self.snippets) - 1)
        self.editor.setFocus()

    def remove_rule(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        self._current = -1
        del self.snippets[row]
        self._fill(row)
        self.apply()

    @staticmethod
    def _name(snippet: str) -> str:
        try:
            return parse_snippet(snippet).name
        except RuleError:
            return ""

    # ---- applying ---------------------------------------------------------------------------

    def apply(self) -> bool:
        """Every rule must read before any applies: the proxy never runs half an edit."""
        self._keep_edit()
        rules = []
        for row, snippet in enumerate(self.snippets):
            try:
                rules.append(parse_snippet(snippet))
            except RuleError as exc:
                self.list.setCurrentRow(row)
                self.error.setText(f"Not applied — rule {row + 1}: {exc}")
                self.error.show()
                return False
        names = [r.name for r in rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            self.error.setText(f"Not applied — two rules are named {twice[0]!r}")
            self.error.show()
            return False
        self.error.hide()
        self.book.replace(rules)
        self.settings.setValue("proxy/rules", join_rules(self.snippets))
        for row in range(self.list.count()):
            self.list.blockSignals(True)
            self._label(self.list.item(row), self.snippets[row])
            self.list.blockSignals(False)
        self._say_state()
        self.applied.emit()
        return True

    def _say_state(self) -> None:
        on = sum(r.enabled for r in self.book.rules)
        self.state.setText(f"In force: {on} of {len(self.book.rules)} rule(s) on"
                           if self.book.rules else "In force: no rules (the proxy is a byte pipe)")

    # ---- files ------------------------------------------------------------------------------

    def open_file(self, path: str) -> bool:
        try:
            snippets = split_rules(rules_as_toml(path))
        except (RuleError, OSError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self._current = -1
        self.snippets = snippets
        self._fill()
        return self.apply()

    def save_file(self, path: str) -> None:
        self._keep_edit()
        Path(path).write_text(join_rules(self.snippets), encoding="utf-8")

    def _ask_open(self) -> None:
        ask_path(self, self.settings, "folders/rules", "Open proxy rules",
                 self.settings.value("folders/rules", ""), "Rules (*.toml *.json);;All files (*)",
                 self.open_file, save=False)

    def _ask_save(self) -> None:
        ask_path(self, self.settings, "folders/rules", "Save proxy rules",
                 self.settings.value("folders/rules", ""), "TOML rules (*.toml)",
                 self.save_file, save=True, default_suffix="toml")
