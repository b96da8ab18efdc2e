"""The session the window shows, as Qt signals.

Live frames (the hub's batches) and an opened capture (its chunks) reach the views the
same way: whoever fills a `SessionData` tells `SessionModel.announce` what it added, and
each view listens to the signals it needs (rows appended, rows changed, stations changed,
meter values changed, another session shown). Nothing pushes into the views by hand, and a
new view only subscribes.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .session import SessionData


class SessionModel(QObject):
    session_replaced = Signal(object)  # the SessionData now shown
    rows_appended = Signal(object)  # range of store rows
    rows_changed = Signal(object)  # store rows whose flags changed (unanswered CALLs)
    stations_changed = Signal(object)  # the shown session's Stations
    meters_changed = Signal()  # meter readings were added (the plot picks them up)

    def __init__(self, session: SessionData, parent=None):
        super().__init__(parent)
        self.session = session

    def show(self, session: SessionData) -> None:
        """Show another session (live, or an opened capture)."""
        self.session = session
        session.stations.take_changed()
        self.session_replaced.emit(session)

    def announce(self, session: SessionData, rows: range, changed_rows=()) -> None:
        """`session` got `rows` (and flag changes on `changed_rows`); the views of the
        shown session hear of it, a session in the background keeps it for when shown."""
        if session is not self.session:
            return
        if len(rows):
            self.rows_appended.emit(rows)
        if changed_rows:
            self.rows_changed.emit(list(changed_rows))
        if session.stations.take_changed():
            self.stations_changed.emit(session.stations)
        self.meters_changed.emit()
