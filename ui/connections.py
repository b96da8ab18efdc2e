"""Connections panel: every charge point seen, per role, with state and counters."""

from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from .session import Station, Stations

REFRESH_MS = 250  # a visible view is refreshed at most this often
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

    def refresh(self, stations: Stations) -> None:
        items = sorted(stations.by_key.values(), key=lambda s: (s.charge_point_id, s.role))
        keys = [s.key for s in items]
        if keys != self._keys:
            self.beginResetModel()
            self._stations, self._keys = items, keys
            self.endResetModel()
        elif items:
            self._stations = items
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
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (5, 6):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ConnectionsView(QTableView):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("connections")
        self.stations_model = StationsModel(self)
        self.setModel(self.stations_model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        header = self.horizontalHeader()
        header.setStretchLastSection(True)
        for column, width in enumerate((120, 70, 86, 90, 170, 70, 60, 130, 70)):
            self.setColumnWidth(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self._stations: Stations | None = None
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(REFRESH_MS)
        self._throttle.timeout.connect(self._apply)

    def refresh(self, stations: Stations) -> None:
        """Show the stations' current state (called per 50 ms batch).

        Hidden, the model is updated at once (cheap: nothing is painted). Visible, at most
        every REFRESH_MS: repainting every row 20 times a second while a fleet of chargers
        connects would take a good part of the loop's time and delay every frame.
        """
        self._stations = stations
        if not self.isVisible():
            self._throttle.stop()
            self.stations_model.refresh(stations)
        elif not self._throttle.isActive():
            self.stations_model.refresh(stations)
            self._throttle.start()

    def _apply(self) -> None:
        if self._stations is not None:
            self.stations_model.refresh(self._stations)
