"""The frame table with its filter bar and follow (auto-scroll) behaviour."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QTimer, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QTableView, QVBoxLayout, QWidget)

from .framestore import DIRECTIONS, TYPES, FrameFilter
from .model import (COL_ACTION, COL_CP, COL_DIR, COL_INFO, COL_LATENCY, COL_NO, COL_NOTES,
                    COL_ROLE, COL_TIME, COL_TYPE, COL_UID, COL_VALID, FrameTableModel)

_WIDTHS = {COL_NO: 56, COL_TIME: 96, COL_CP: 100, COL_ROLE: 60, COL_DIR: 58, COL_TYPE: 92,
           COL_ACTION: 140, COL_INFO: 280, COL_UID: 110, COL_LATENCY: 66, COL_VALID: 46}
_ANY = ""
FOLLOW_MS = 200  # a followed log scrolls to new frames at most this often (5 times a second)


class FrameTable(QTableView):
    """A table tuned for millions of rows that follows new frames unless scrolled up."""

    follow_changed = Signal(bool)

    def __init__(self, model: FrameTableModel, parent=None):
        super().__init__(parent)
        self.setModel(model)
        self.setObjectName("frameTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.setSortingEnabled(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # never measure 1M rows
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        vertical.hide()
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for column, width in _WIDTHS.items():
            self.setColumnWidth(column, width)
        self.setColumnWidth(COL_NOTES, 240)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._mono = mono
        self.following = True
        model.rowsAboutToBeInserted.connect(self._before_insert)
        model.rowsInserted.connect(self._after_insert)
        model.modelReset.connect(self._after_reset)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self._stick = True
        # scrolling a million-row table to the bottom takes milliseconds in C++; run from a
        # Python slot it would hold the interpreter lock all along (the roles' thread waits),
        # connected to the C++ slot through a timer it runs without it. Each scroll repaints
        # every visible cell (~2,500 calls of the model's Python `data`), so a busy log
        # scrolls at most FOLLOW_MS apart, not once per batch of frames
        self._scroll_soon = QTimer(self)
        self._scroll_soon.setSingleShot(True)
        self._scroll_soon.setInterval(FOLLOW_MS)
        self._scroll_soon.timeout.connect(self.scrollToBottom)
        self._hint = QLabel(self.viewport())
        self._hint.setObjectName("emptyLogHint")
        self._hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._hint.setWordWrap(True)
        self._hint.setStyleSheet("color: #777777")
        self._hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset,
                       model.layoutChanged):
            signal.connect(self._update_hint)
        self._update_hint()

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 1

    def _before_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        self._stick = self.following and (self._at_bottom() or self._scroll_soon.isActive())

    def _after_insert(self, parent: QModelIndex, first: int, last: int) -> None:
        if self._stick and not self._scroll_soon.isActive():
            self._scroll_soon.start()

    def _after_reset(self) -> None:
        if self.following:
            QTimer.singleShot(0, lambda: self.following and self.scrollToBottom())

    def _scrolled(self, value: int) -> None:
        following = value >= self.verticalScrollBar().maximum() - 1
        if following != self.following:
            self.following = following
            if not following:
                self._scroll_soon.stop()  # the user scrolled up: a due scroll must not yank
            self.follow_changed.emit(following)

    def pause(self) -> None:
        """Stop auto-scroll (a row was selected from elsewhere); scrolling down resumes it."""
        if self.following:
            self.following = False
            self._scroll_soon.stop()
            self.follow_changed.emit(False)

    def follow(self) -> None:
        """Resume auto-scroll."""
        self.following = True
        self.scrollToBottom()
        self.follow_changed.emit(True)

    # The empty log says what to do in a label over the viewport, not by overriding
    # paintEvent: a Python paintEvent makes Qt paint the whole table while holding the
    # interpreter lock, and the roles' thread (answering chargers) waits for every repaint.
    def _update_hint(self, *_args) -> None:
        model = self.model()
        if model.rowCount():
            self._hint.hide()
            return
        if model.total:
            text = "No frame matches the filter — ✕ in the filter bar clears it"
        else:
            text = ("No frames yet: start a role in the Roles dock (a fake CSMS, a proxy, a "
                    "fake charger or a fleet), or File › Open capture…")
        self._hint.setText(text)
        self._hint.setGeometry(self.viewport().rect().adjusted(20, 20, -20, -20))
        self._hint.show()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if self._hint.isVisible():
            self._hint.setGeometry(self.viewport().rect().adjusted(20, 20, -20, -20))

    def keyPressEvent(self, event) -> None:  # noqa: N802
        # End resumes following (as in a terminal or Wireshark), rather than selecting the
        # last row, which would pause it again
        if event.key() == Qt.Key.Key_End and not event.modifiers():
            self.follow()
            event.accept()
            return
        super().keyPressEvent(event)


class FilterBar(QWidget):
    """Charge point, action, direction, type, invalid-only and free text; emits FrameFilter."""

    filter_changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.charge_point = self._combo("charge point", "any charge point", 8)
        self.action = self._combo("action", "any action", 11)
        self.direction = QComboBox()
        self.direction.setObjectName("directionFilter")
        self.direction.addItem("both ways", _ANY)
        self.direction.addItem("→ CSMS", DIRECTIONS[0])
        self.direction.addItem("→ CP", DIRECTIONS[1])
        self.direction.setItemData(1, "from the charge point to the CSMS", Qt.ItemDataRole.ToolTipRole)
        self.direction.setItemData(2, "from the CSMS to the charge point", Qt.ItemDataRole.ToolTipRole)
        self.type = QComboBox()
        self.type.setObjectName("typeFilter")
        self.type.setMinimumContentsLength(8)  # "CALLRESULTERROR" need not set the width
        self.type.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type.addItem("any type", _ANY)
        for name in TYPES:
            self.type.addItem(name, name)
        self.invalid = QCheckBox("Invalid only")
        self.invalid.setToolTip("only frames that failed validation or carry a flag")
        self.invalid.setObjectName("invalidFilter")
        self.text = QLineEdit()
        self.text.setObjectName("textFilter")
        self.text.setPlaceholderText("text in raw frame…")
        self.text.setClearButtonEnabled(True)
        self.text.setMinimumWidth(110)
        self.clear = QPushButton("✕")
        self.clear.setObjectName("clearFilters")
        self.clear.setToolTip("clear every filter (Ctrl+Shift+F)")
        self.clear.setFixedWidth(self.clear.fontMetrics().horizontalAdvance("✕") + 18)
        self.count = QLabel()
        self.count.setObjectName("filterCount")
        # wide enough for any count from the start: a growing label would squeeze the
        # Roles dock each time a filter is applied
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance(
            "999,999 of 9,999,999 frames"))
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.follow = QPushButton("Follow ↓")
        self.follow.setObjectName("followButton")
        self.follow.setToolTip("auto-scroll to new frames; selecting a frame or scrolling up "
                               "pauses it, this button or the End key resumes it")
        self.follow.setCheckable(True)
        self.follow.setChecked(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        for widget, stretch in ((self.charge_point, 2), (self.action, 3), (self.direction, 0),
                                (self.type, 0), (self.invalid, 0), (self.text, 3),
                                (self.clear, 0), (self.count, 0), (self.follow, 0)):
            layout.addWidget(widget, stretch)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._emit)
        self.charge_point.currentTextChanged.connect(lambda _: self._debounce.start())
        self.action.currentTextChanged.connect(lambda _: self._debounce.start())
        self.text.textChanged.connect(lambda _: self._debounce.start())
        self.direction.currentIndexChanged.connect(lambda _: self._emit())
        self.type.currentIndexChanged.connect(lambda _: self._emit())
        self.invalid.toggled.connect(lambda _: self._emit())
        self.clear.clicked.connect(self.reset)
        self._known: tuple[int, int] = (0, 0)
        self._last: FrameFilter | None = None

    @staticmethod
    def _combo(name: str, placeholder: str, width: int) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(f"{name.replace(' ', '')}Filter")
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.lineEdit().setPlaceholderText(placeholder)
        combo.lineEdit().setClearButtonEnabled(True)
        combo.setMinimumContentsLength(width)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.addItem("")
        return combo

    def current(self) -> FrameFilter:
        return FrameFilter(
            charge_point=self.charge_point.currentText().strip(),
            action=self.action.currentText().strip(),
            direction=self.direction.currentData() or _ANY,
            type=self.type.currentData() or _ANY,
            invalid_only=self.invalid.isChecked(),
            text=self.text.text())

    def set_filter(self, flt: FrameFilter) -> None:
        """Show a filter in the widgets and apply it at once (used by tests and menus)."""
        widgets = (self.charge_point, self.action, self.direction, self.type, self.invalid,
                   self.text)
        for widget in widgets:
            widget.blockSignals(True)
        self.charge_point.setCurrentText(flt.charge_point)
        self.action.setCurrentText(flt.action)
        self.direction.setCurrentIndex(max(0, self.direction.findData(flt.direction)))
        self.type.setCurrentIndex(max(0, self.type.findData(flt.type)))
        self.invalid.setChecked(flt.invalid_only)
        self.text.setText(flt.text)
        for combo in (self.charge_point, self.action):
            combo.lineEdit().setCursorPosition(0)
        for widget in widgets:
            widget.blockSignals(False)
        self._emit()

    def reset(self) -> None:
        self.set_filter(FrameFilter())

    def _emit(self) -> None:
        self._debounce.stop()
        flt = self.current()
        if flt != self._last:
            self._last = flt
            self.filter_changed.emit(flt)

    def reset_choices(self) -> None:
        self._known = (0, 0)

    def update_choices(self, charge_points: list[str], actions: list[str]) -> None:
        """Offer the charge points and actions seen so far (keeps what the user typed)."""
        known = (len(charge_points), len(actions))
        if known == self._known:
            return
        self._known = known
        for combo, values in ((self.charge_point, charge_points), (self.action, actions)):
            text = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("")
            combo.addItems(values)
            combo.setCurrentText(text)
            combo.blockSignals(False)

    def show_count(self, shown: int, total: int, seconds: float | None = None) -> None:
        if shown == total:
            text = f"{total:,} frames"
        else:
            text = f"{shown:,} of {total:,} frames"
        self.count.setText(text)
        # how long the filter took: in the tooltip, so the label's width never changes
        self.count.setToolTip("" if seconds is None else
                              f"filtered in {seconds * 1000:.0f} ms")


class FrameLog(QWidget):
    """Filter bar + table; keeps the selection across filter changes."""

    selected = Signal(int)  # store row, -1 when nothing is selected

    def __init__(self, model: FrameTableModel, parent=None):
        super().__init__(parent)
        self.model = model
        self.bar = FilterBar()
        self.table = FrameTable(model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.bar)
        layout.addWidget(self.table)
        self.bar.filter_changed.connect(self.apply_filter)
        self.bar.follow.toggled.connect(self._follow_toggled)
        self.table.follow_changed.connect(self._follow_changed)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        model.modelReset.connect(self._restore_selection)
        self._selected_store_row = -1
        self.update_count()

    def rows_appended(self, _rows: range) -> None:
        """The session model announced new rows (the table model inserts them itself)."""
        self.update_count()
        store = self.model.store
        self.bar.update_choices(store.charge_points.values(), store.actions.values())

    def session_shown(self) -> None:
        """Another session is shown: the filter applies to it, the choices are its own."""
        self.apply_filter(self.bar.current())
        self.bar.reset_choices()
        store = self.model.store
        self.bar.update_choices(store.charge_points.values(), store.actions.values())
        self._selected_store_row = -1

    def apply_filter(self, flt: FrameFilter) -> None:
        seconds = self.model.set_filter(flt)
        self.update_count(seconds)

    def update_count(self, seconds: float | None = None) -> None:
        self.bar.show_count(self.model.rowCount(), self.model.total, seconds)

    def selected_store_row(self) -> int:
        return self._selected_store_row

    def select_store_row(self, store_row: int) -> bool:
        view_row = self.model.view_row(store_row)
        if view_row is None:
            return False
        index = self.model.index(view_row, 0)
        self.table.pause()
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        return True

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        store_row = self.model.store_row(current.row()) if current.isValid() else -1
        if store_row >= 0:
            self.table.pause()  # the frame being read stays where it is until Follow/End
        if store_row != self._selected_store_row:
            self._selected_store_row = store_row
            self.selected.emit(store_row)

    def _restore_selection(self) -> None:
        if self._selected_store_row < 0:
            return
        view_row = self.model.view_row(self._selected_store_row)
        if view_row is None:
            return  # filtered out: the detail pane keeps showing it
        index = self.model.index(view_row, 0)
        selection = self.table.selectionModel()
        selection.blockSignals(True)
        self.table.setCurrentIndex(index)
        selection.blockSignals(False)
        if not self.table.following:
            QTimer.singleShot(0, lambda: self.table.scrollTo(index))

    def _follow_toggled(self, on: bool) -> None:
        if on and not self.table.following:
            self.table.follow()
        elif not on:
            self.table.following = False

    def _follow_changed(self, following: bool) -> None:
        self.bar.follow.blockSignals(True)
        self.bar.follow.setChecked(following)
        self.bar.follow.blockSignals(False)

