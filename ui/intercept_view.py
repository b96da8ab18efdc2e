"""The Intercepted frames window: frames an `intercept` proxy rule paused, to forward as they
came, forward edited, or drop (inspector.intercept). It opens by itself when a frame is
paused; each paused frame holds only its own direction of its own connection.
"""

from __future__ import annotations

import json
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QDialog, QHBoxLayout, QListWidget, QListWidgetItem,
                               QPlainTextEdit, QPushButton, QSplitter, QVBoxLayout)

from inspector.events import TO_CSMS
from inspector.intercept import FramePaused, Interceptor, PauseEnded

from .widgets import error_label, hint_label


def shown_text(text: str) -> str:
    """A frame as the editor shows it: indented when it is JSON (edits are sent compact)."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (json.JSONDecodeError, RecursionError):
        return text


class PauseSignals(QObject):
    """Pause events from the roles' thread, delivered on the window's (queued signals)."""

    paused = Signal(object)
    ended = Signal(object)

    def attach(self, hub):
        def forward(event) -> None:  # runs on the roles' thread for every event: one test
            kind = type(event)
            if kind is FramePaused:
                self.paused.emit(event.paused)
            elif kind is PauseEnded:
                self.ended.emit(event)
        return hub.subscribe(forward)


class InterceptDialog(QDialog):
    def __init__(self, interceptor: Interceptor, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Intercepted frames")
        self.setObjectName("interceptDialog")
        self.resize(860, 480)
        self.interceptor = interceptor
        self.items: dict[int, QListWidgetItem] = {}
        self.list = QListWidget()
        self.list.setObjectName("interceptList")
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("interceptEditor")
        self.editor.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.editor.setPlaceholderText("nothing paused: frames matching an intercept rule "
                                       "(do = \"intercept\" in Rules…) wait here")
        self.error = error_label("interceptError")
        self.forward_button = QPushButton("Forward")
        self.forward_button.setObjectName("interceptForward")
        self.forward_button.setToolTip("send the frame as the editor shows it")
        self.drop_button = QPushButton("Drop")
        self.drop_button.setObjectName("interceptDrop")
        self.all_button = QPushButton("Forward all")
        self.all_button.setObjectName("interceptForwardAll")
        self.all_button.setToolTip("let every paused frame go on as it came")
        splitter = QSplitter()
        splitter.addWidget(self.list)
        splitter.addWidget(self.editor)
        splitter.setSizes([330, 530])
        buttons = QHBoxLayout()
        buttons.addWidget(self.forward_button)
        buttons.addWidget(self.drop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.all_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(hint_label("a paused frame holds what its sender sent after it on "
                                    "that connection; other connections and the other "
                                    "direction flow on"))
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.forward_button.clicked.connect(self.forward)
        self.drop_button.clicked.connect(self.drop)
        self.all_button.clicked.connect(self.interceptor.forward_all)
        self.list.currentItemChanged.connect(lambda item, _: self._show(item))
        self._ages = QTimer(self)
        self._ages.setInterval(1000)
        self._ages.timeout.connect(self._relabel)
        self._ages.start()
        self._buttons()

    # ---- pause events ---------------------------------------------------------------------

    def add(self, paused) -> None:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, paused)
        self.items[paused.id] = item
        self.list.addItem(item)
        self._label(item)
        if self.list.currentItem() is None:
            self.list.setCurrentItem(item)
        self._buttons()

    def ended(self, event) -> None:
        item = self.items.pop(event.paused.id, None)
        if item is not None:
            self.list.takeItem(self.list.row(item))
        self._buttons()

    # ---- actions --------------------------------------------------------------------------

    def selected(self):
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def forward(self) -> None:
        paused = self.selected()
        if paused is None:
            return
        text = self.editor.toPlainText()
        if text == shown_text(paused.text):
            self.error.hide()
            self.interceptor.forward(paused.id)  # untouched: the exact bytes that came
            return
        try:
            text = json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
        except json.JSONDecodeError as exc:  # sent anyway if asked twice: it may be the point
            if self.error.isHidden() or "not JSON" not in self.error.text():
                self.error.setText(f"The edited frame is not JSON ({exc.msg}, line "
                                   f"{exc.lineno}); press Forward again to send it as typed")
                self.error.show()
                return
        self.error.hide()
        self.interceptor.forward(paused.id, text)

    def drop(self) -> None:
        paused = self.selected()
        if paused is not None:
            self.error.hide()
            self.interceptor.drop(paused.id)

    # ---- display ----------------------------------------------------------------------------

    def _show(self, item) -> None:
        self.error.hide()
        paused = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        self.editor.setPlainText(shown_text(paused.text) if paused is not None else "")
        self._buttons()

    def _label(self, item) -> None:
        paused = item.data(Qt.ItemDataRole.UserRole)
        arrow = "→ CSMS" if paused.direction == TO_CSMS else "→ charger"
        item.setText(f"{paused.connection.charge_point_id} {arrow}  {paused.action or '?'}\n"
                     f"    rule {paused.rule!r}, paused {time.time() - paused.since:.0f} s")

    def _relabel(self) -> None:
        for item in self.items.values():
            self._label(item)

    def _buttons(self) -> None:
        some = self.selected() is not None
        self.forward_button.setEnabled(some)
        self.drop_button.setEnabled(some)
        self.editor.setEnabled(some)
        self.all_button.setEnabled(bool(self.items))
