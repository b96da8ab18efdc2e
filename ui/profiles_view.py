"""The Charging profiles view: per charger, the profiles its frames show it accepted, and
the composite schedule they make (inspector.smart_charging), live or from a capture.

The session follows profiles as frames arrive (ui/session.py, ProfileHistory); this view
only shows them, for the charge point and connector picked, from "now" (live) or from the
last frame of an opened capture.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from inspector.smart_charging import composite_schedule
from inspector.timestamps import iso

REFRESH_MS = 1000
_PROFILE_COLUMNS = ("Id", "Connector", "Purpose", "Stack level", "Kind", "Valid from", "Valid to",
                    "Periods")


def _periods(profile) -> str:
    unit = profile.unit
    return ", ".join(f"{p.start} s: {p.limit:g} {unit}" for p in profile.periods)


class ChargingProfilesView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("chargingProfiles")
        self.charge_point = QComboBox()
        self.charge_point.setObjectName("profilesChargePoint")
        self.charge_point.setMinimumContentsLength(14)
        self.connector = QSpinBox()
        self.connector.setObjectName("profilesConnector")
        self.connector.setRange(0, 99)
        self.connector.setValue(1)
        self.info = QLabel()
        self.info.setObjectName("profilesInfo")
        self.profiles = QTableWidget(0, len(_PROFILE_COLUMNS))
        self.profiles.setObjectName("profilesTable")
        self.profiles.setHorizontalHeaderLabels(list(_PROFILE_COLUMNS))
        self.profiles.horizontalHeader().setStretchLastSection(True)
        self.profiles.verticalHeader().hide()
        self.composite = QTableWidget(0, 3)
        self.composite.setObjectName("profilesComposite")
        self.composite.setHorizontalHeaderLabels(["From", "Limit (W)", "Phases"])
        self.composite.horizontalHeader().setStretchLastSection(True)
        self.composite.verticalHeader().hide()
        top = QHBoxLayout()
        top.addWidget(QLabel("Charge point:"))
        top.addWidget(self.charge_point)
        top.addWidget(QLabel("Connector/EVSE:"))
        top.addWidget(self.connector)
        top.addStretch(1)
        top.addWidget(self.info)
        below = QHBoxLayout()
        installed = QVBoxLayout()
        installed.addWidget(QLabel("Installed profiles (as accepted by the charger)"))
        installed.addWidget(self.profiles)
        schedule = QVBoxLayout()
        schedule.addWidget(QLabel("Composite schedule, next hour"))
        schedule.addWidget(self.composite)
        below.addLayout(installed, 3)
        below.addLayout(schedule, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(below, 1)
        self._session = None
        self._live = True
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(REFRESH_MS)
        self._throttle.timeout.connect(self.refresh)
        self.charge_point.currentTextChanged.connect(lambda _text: self.refresh())
        self.connector.valueChanged.connect(lambda _value: self.refresh())

    def set_session(self, session, live: bool) -> None:
        self._session, self._live = session, live
        self.refresh()

    def rows_appended(self, _rows) -> None:
        """New frames: refresh, at most once a second while shown."""
        if self.isVisible() and not self._throttle.isActive():
            self._throttle.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        session = self._session
        names = sorted(cp for cp, h in session.profiles.items() if h.limited) if session else []
        current = self.charge_point.currentText()
        if names != [self.charge_point.itemText(i) for i in range(self.charge_point.count())]:
            self.charge_point.blockSignals(True)
            self.charge_point.clear()
            self.charge_point.addItems(names)
            if current in names:
                self.charge_point.setCurrentText(current)
            self.charge_point.blockSignals(False)
        name = self.charge_point.currentText()
        if not name:
            self.info.setText("no charging profile in the frames yet (SetChargingProfile "
                              "accepted by a charger)")
            self.profiles.setRowCount(0)
            self.composite.setRowCount(0)
            return
        history = session.profiles[name]
        connector = self.connector.value()
        installed = history.store.for_connector(connector) if connector else history.store.profiles
        self.profiles.setRowCount(len(installed))
        for row, p in enumerate(sorted(installed, key=lambda p: (p.connector, p.purpose, -p.stack_level))):
            cells = (str(p.id), str(p.connector), p.purpose_name, str(p.stack_level), p.kind,
                     iso(p.valid_from) if p.valid_from else "", iso(p.valid_to) if p.valid_to else "",
                     _periods(p))
            for column, text in enumerate(cells):
                self.profiles.setItem(row, column, QTableWidgetItem(text))
        self.profiles.resizeColumnsToContents()
        begin = time.time() if self._live else session.store.last_time()
        start, transaction = history.transactions.get(connector, (None, None))
        periods = composite_schedule(installed, begin, 3600, "W", transaction_start=start,
                                     transaction_id=transaction)
        self.composite.setRowCount(len(periods))
        for row, period in enumerate(periods):
            for column, text in enumerate((iso(begin + period.start), f"{period.limit:g}",
                                           str(period.phases or ""))):
                self.composite.setItem(row, column, QTableWidgetItem(text))
        self.composite.resizeColumnsToContents()
        where = "now" if self._live else f"the capture's end ({iso(begin)})"
        self.info.setText(f"{len(installed)} profile(s); composite from {where}"
                          + ("" if periods else ": no limit in force"))
