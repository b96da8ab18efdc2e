"""The frame log table model: a view (filtered index) over a `FrameStore`.

The store is columnar; the model holds an index array of the store rows that pass the
filter (or no index at all when there is no filter) and formats only the cells Qt asks
for, caching the formatted rows that are on screen.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from inspector import flags
from inspector.summary import summarize

from .framestore import FrameFilter, FrameStore, _Column

# "No." is the frame's number in its capture (row 1 is frame id 1, live and opened alike);
# "Info" is inspector.summary's line, the one `log show` prints
COLUMNS = ("No.", "Time", "Charge point", "Seen by", "Dir", "Type", "Action", "Info",
           "Unique id", "Latency", "Valid", "Notes")
(COL_NO, COL_TIME, COL_CP, COL_ROLE, COL_DIR, COL_TYPE, COL_ACTION, COL_INFO, COL_UID,
 COL_LATENCY, COL_VALID, COL_NOTES) = range(len(COLUMNS))
ARROWS = {"to_csms": "→ CSMS", "to_charger": "→ CP"}
ARROW_TIPS = {"to_csms": "charge point to CSMS", "to_charger": "CSMS to charge point"}

INVALID_BG = QColor("#ffd6d6")
FLAGGED_BG = QColor("#fff1c4")
UNANSWERED_BG = QColor("#ffd9a8")
ERROR_FG = QColor("#b00020")
OK_FG = QColor("#1b7f3b")
MUTED_FG = QColor("#777777")
_CACHE_LIMIT = 4096
_DISPLAY, _BACKGROUND, _FOREGROUND, _TOOLTIP, _ALIGN, _USER = range(6)
_ROLES = {int(Qt.ItemDataRole.DisplayRole.value): _DISPLAY,
          int(Qt.ItemDataRole.BackgroundRole.value): _BACKGROUND,
          int(Qt.ItemDataRole.ForegroundRole.value): _FOREGROUND,
          int(Qt.ItemDataRole.ToolTipRole.value): _TOOLTIP,
          int(Qt.ItemDataRole.TextAlignmentRole.value): _ALIGN,
          int(Qt.ItemDataRole.UserRole.value): _USER}
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)


def format_clock(epoch: float) -> str:
    local = time.localtime(epoch)
    return f"{local.tm_hour:02d}:{local.tm_min:02d}:{local.tm_sec:02d}.{int(epoch * 1000) % 1000:03d}"


def format_latency(latency: float | None) -> str:
    if latency is None:
        return ""
    return f"{latency:.0f} ms" if latency >= 100 else f"{latency:.1f} ms"


class _Cells:
    __slots__ = ("text", "background", "foregrounds", "tooltip")

    def __init__(self, text, background, foregrounds, tooltip):
        self.text, self.background, self.foregrounds, self.tooltip = text, background, foregrounds, tooltip


class FrameTableModel(QAbstractTableModel):
    def __init__(self, store: FrameStore | None = None, parent=None):
        super().__init__(parent)
        self._store = store if store is not None else FrameStore()
        self._filter = FrameFilter()
        self._index: _Column | None = None  # store rows shown; None = all rows
        self._count = self._store.count
        self._cache: dict[int, _Cells] = {}
        self.last_filter_seconds = 0.0
        self._bold = QFont()
        self._bold.setBold(True)

    # ---- wiring -------------------------------------------------------------------------

    @property
    def store(self) -> FrameStore:
        return self._store

    @property
    def filter(self) -> FrameFilter:
        return self._filter

    @property
    def total(self) -> int:
        return self._store.count

    def set_store(self, store: FrameStore) -> None:
        self.beginResetModel()
        self._store = store
        self._rebuild()
        self.endResetModel()

    def set_filter(self, flt: FrameFilter) -> float:
        """Apply a filter; returns the seconds the selection took."""
        self.beginResetModel()
        self._filter = flt
        self._rebuild()
        self.endResetModel()
        return self.last_filter_seconds

    def _rebuild(self) -> None:
        self._cache.clear()
        started = time.perf_counter()
        if self._filter.is_empty():
            self._index = None
            self._count = self._store.count
        else:
            rows = self._store.select(self._filter)
            self._index = _Column(np.int64, max(4096, len(rows)))
            self._index.extend(rows)
            self._count = len(rows)
        self.last_filter_seconds = time.perf_counter() - started

    def rows_appended(self, rows: range) -> int:
        """Show the store rows just appended that pass the filter; one insert per batch."""
        if not len(rows):
            return 0
        if self._index is None:
            new = len(rows)
            first = self._count
            if rows.start != first:  # the store grew behind our back: resync
                self.set_store(self._store)
                return new
            self.beginInsertRows(QModelIndex(), first, first + new - 1)
            self._count += new
            self.endInsertRows()
            return new
        matching = self._store.select(self._filter, rows.start, rows.stop)
        if not len(matching):
            return 0
        first = self._count
        self.beginInsertRows(QModelIndex(), first, first + len(matching) - 1)
        self._index.extend(matching)
        self._count += len(matching)
        self.endInsertRows()
        return len(matching)

    def rows_changed(self, store_rows) -> None:
        """Flags of these store rows changed (unanswered CALLs)."""
        for store_row in store_rows:
            self._cache.pop(store_row, None)
            view_row = self.view_row(store_row)
            if view_row is not None:
                self.dataChanged.emit(self.index(view_row, 0),
                                      self.index(view_row, len(COLUMNS) - 1))

    def store_row(self, view_row: int) -> int:
        return view_row if self._index is None else int(self._index.data[view_row])

    def view_row(self, store_row: int) -> int | None:
        if self._index is None:
            return store_row if 0 <= store_row < self._count else None
        index = self._index.view
        i = int(np.searchsorted(index, store_row))
        return i if i < len(index) and index[i] == store_row else None

    # ---- Qt model -----------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        # hot path: called ~2,500 times per repaint, so roles are plain ints looked up once
        kind = _ROLES.get(role if type(role) is int else int(role.value))
        if kind is None or not index.isValid():
            return None
        row = index.row()
        if row >= self._count:
            return None
        column = index.column()
        store_row = row if self._index is None else int(self._index.data[row])
        if kind == _ALIGN:
            return _RIGHT if column in (COL_LATENCY, COL_NO) else None
        if kind == _USER:
            return store_row
        cells = self._cache.get(store_row) or self._cells(store_row)
        if kind == _DISPLAY:
            return cells.text[column]
        if kind == _BACKGROUND:
            return cells.background
        if kind == _FOREGROUND:
            return cells.foregrounds.get(column)
        return cells.tooltip.get(column) or cells.text[column] or None

    def _cells(self, store_row: int) -> _Cells:
        cells = self._cache.get(store_row)
        if cells is not None:
            return cells
        r = self._store.row(store_row)
        unanswered = flags.has(r.flags, flags.UNANSWERED)
        if r.valid is False:
            background = QBrush(INVALID_BG)
        elif unanswered:
            background = QBrush(UNANSWERED_BG)
        elif r.flags:
            background = QBrush(FLAGGED_BG)
        else:
            background = None
        valid_text = {True: "✓", False: "✗", None: "–"}[r.valid]
        if r.flags:
            valid_text += " ⚑"
        notes = []
        notes.extend(f"{e.get('path', '$')}: {e.get('message', '')}" for e in r.errors[:2])
        notes.extend(r.flags[:2])
        foregrounds = {COL_VALID: {True: OK_FG, False: ERROR_FG, None: MUTED_FG}[r.valid]}
        if r.type in ("CALLERROR", "CALLRESULTERROR", "MALFORMED"):
            foregrounds[COL_TYPE] = ERROR_FG
        info = summarize(self._store.raw(store_row))  # visible rows only, then cached
        text = (str(store_row + 1), format_clock(r.time), r.charge_point_id, r.role,
                ARROWS.get(r.direction, r.direction), r.type, r.action, info,
                r.unique_id or "", format_latency(r.latency_ms), valid_text, "; ".join(notes))
        tooltip = {COL_DIR: ARROW_TIPS.get(r.direction, ""),
                   COL_ROLE: f"logged by the {r.role} role (connection {r.connection_id})",
                   COL_TIME: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.time))
                   + f".{int(r.time * 1000) % 1000:03d}",
                   COL_INFO: summarize(self._store.raw(store_row), 1000) if len(info) >= 100
                   else info,
                   COL_NOTES: "\n".join(
                       [f"{e.get('path', '$')}: {e.get('message', '')}" for e in r.errors]
                       + [f"⚑ {f}" for f in r.flags])}
        cells = _Cells(text, background, foregrounds, tooltip)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[store_row] = cells
        return cells
