"""Connections panel: every charge point seen, per role, with state and counters."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel,
                               QLineEdit, QTableView, QVBoxLayout, QWidget)

from .session import Station, Stations

REFRESH_MS = 250  # a visible view is refreshed at most this often
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Charge point", "Role", "State", "Subprotocol", "Last status", "Frames", "Errors",
           "Remote address", "Since", "Note")
_STATE_COLORS = {"connected": QColor("#1b7f3b"), "closed": QColor("#666666"),
                 "refused": QColor("#b00020")}
_STATUS_COLORS = {"Faulted": QColor("#b00020"), "Unavailable": QColor("#a35a00"),
                  "Charging": QColor("#1f4e9c")}


def _since(station: Station) -> str:
    moment = station.opened_at if station.state == "connected" else station.closed_at
    return time.strftime("%H:%M:%S", time.localtime(moment)) if moment else ""


def _note(station: Station) -> str:
    if station.note:
        return station.note
    if station.state == "closed" and station.close_code is not None:
        reason = f" {station.close_reason}" if station.close_reason else ""
        return f"closed with code {station.close_code}{reason}"
    return ""


class StationsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._stations: list[Station] = []
        self._keys: list[tuple] = []
        self._colours = None  # the session's ColourBook: the plot's colour of each charger
        self._swatches: dict[str, QIcon] = {}

    def _swatch(self, charge_point_id: str) -> QIcon | None:
        if self._colours is None:
            return None
        colour = self._colours.colour(charge_point_id)
        icon = self._swatches.get(colour)
        if icon is None:
            pixmap = QPixmap(10, 10)
            pixmap.fill(QColor(colour))
            icon = self._swatches[colour] = QIcon(pixmap)
        return icon

    def refresh(self, stations: Stations, announce: bool = True) -> None:
        """Take the stations' current state; with `announce` False (nobody is looking),
        only a change of rows is signalled, not every counter: re-sorting and re-filtering
        hundreds of rows 20 times a second would take the window's time for nothing."""
        self._colours = stations.colours
        items = sorted(stations.by_key.values(), key=lambda s: (s.charge_point_id, s.role))
        keys = [s.key for s in items]
        if keys != self._keys:
            self.beginResetModel()
            self._stations, self._keys = items, keys
            self.endResetModel()
        elif items:
            self._stations = items
            if announce:
                self.dataChanged.emit(self.index(0, 0), self.index(len(items) - 1, len(COLUMNS) - 1))

    def station(self, row: int) -> Station:
        return self._stations[row]

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._stations)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        s = self._stations[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            status = ""
            if s.status:
                status = s.status if s.status_connector is None else f"{s.status} (connector {s.status_connector})"
            values = (s.charge_point_id, s.role, s.state, s.subprotocol or "", status,
                      f"{s.frames:,}", f"{s.errors:,}", s.remote_address or "", _since(s), _note(s))
            return values[column]
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == 2:
                return QBrush(_STATE_COLORS.get(s.state, QColor("#000")))
            if column == 4 and s.status in _STATUS_COLORS:
                return QBrush(_STATUS_COLORS[s.status])
            if column == 6 and s.errors:
                return QBrush(QColor("#b00020"))
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self._swatch(s.charge_point_id)
        if role == SORT_ROLE:  # numbers sort as numbers, times as times
            return (s.charge_point_id, s.role, s.state, s.subprotocol or "", s.status or "",
                    s.frames, s.errors, s.remote_address or "",
                    (s.opened_at if s.state == "connected" else s.closed_at) or 0.0,
                    _note(s))[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class _StationFilter(QSortFilterProxyModel):
    """Text in the charge point id, role, state, status, address or note; closed hidden
    on request (a fleet leaves hundreds of them)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text = ""
        self.hide_closed = False
        self.setSortRole(SORT_ROLE)

    def set(self, text: str, hide_closed: bool) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt 6.9+; invalidateFilter is deprecated
            self.beginFilterChange()
            self.text, self.hide_closed = text.strip().lower(), hide_closed
            self.endFilterChange()
        else:
            self.text, self.hide_closed = text.strip().lower(), hide_closed
            self.invalidateFilter()

    def filterAcceptsRow(self, row: int, parent) -> bool:  # noqa: N802
        station = self.sourceModel().station(row)
        if self.hide_closed and station.state != "connected":
            return False
        if not self.text:
            return True
        fields = (station.charge_point_id, station.role, station.state, station.status or "",
                  station.remote_address or "", _note(station))
        return any(self.text in value.lower() for value in fields)


class ConnectionsView(QWidget):
    """The Connections tab: a filter line, "Hide closed", and the sortable table."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("connections")
        self.stations_model = StationsModel(self)
        self.proxy = _StationFilter(self)
        self.proxy.setSourceModel(self.stations_model)
        self.filter = QLineEdit()
        self.filter.setObjectName("connectionsFilter")
        self.filter.setPlaceholderText("filter: charge point, state, status, address…")
        self.filter.setClearButtonEnabled(True)
        self.hide_closed = QCheckBox("Hide closed")
        self.hide_closed.setObjectName("connectionsHideClosed")
        self.count = QLabel()
        self.count.setObjectName("connectionsCount")
        self.table = QTableView()
        self.table.setObjectName("connectionsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        vertical = self.table.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 4)  # compact rows
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((120, 70, 86, 90, 170, 70, 60, 130, 70)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 2)
        bar.addWidget(self.filter, 1)
        bar.addWidget(self.hide_closed)
        bar.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self.filter.textChanged.connect(lambda _text: self._refilter())
        self.hide_closed.toggled.connect(lambda _on: self._refilter())
        self.stations_model.modelReset.connect(self._show_count)
        self._stations: Stations | None = None
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(REFRESH_MS)
        self._throttle.timeout.connect(self._apply)
        self._show_count()

    def _refilter(self) -> None:
        self.proxy.set(self.filter.text(), self.hide_closed.isChecked())
        self._show_count()

    def _show_count(self) -> None:
        total, shown = self.stations_model.rowCount(), self.proxy.rowCount()
        if not total:  # the empty view says what to do, in the filter line (no width taken)
            self.filter.setPlaceholderText("no connection yet: start a role, or open a capture "
                                           "(File › Open capture…)")
            self.count.setText("")
        else:
            self.filter.setPlaceholderText("filter: charge point, state, status, address…")
            self.count.setText(f"{total:,} connection(s)" if shown == total
                               else f"{shown:,} of {total:,} connection(s)")

    def refresh(self, stations: Stations) -> None:
        """Show the stations' current state (called per 50 ms batch).

        Hidden, the rows are updated at once and the counters quietly (cheap: nothing is
        painted or re-sorted; showing the view announces them). Visible, at most
        every REFRESH_MS: repainting every row 20 times a second while a fleet of chargers
        connects would take a good part of the loop's time and delay every frame.
        """
        self._stations = stations
        if not self.isVisible():
            self._throttle.stop()
            self.stations_model.refresh(stations, announce=False)
        elif not self._throttle.isActive():
            self.stations_model.refresh(stations)
            self._throttle.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._apply()  # counters changed while hidden: show (and sort by) them now

    def _apply(self) -> None:
        if self._stations is not None:
            self.stations_model.refresh(self._stations)
        self._show_count()
