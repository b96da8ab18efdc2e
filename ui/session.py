"""What one session shown in the window knows: frames, charge points, meter series. No Qt.

A session is either the live one (fed by hub events in batches) or a capture file opened
for offline browsing (fed by `Capture.frames()` export dicts). Both end up in the same
`FrameStore`, `Stations` and `MeterData`, so every view works the same on both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from inspector import flags
from inspector.smart_charging import ProfileHistory, transaction_change
from inspector.events import (CallUnanswered, ConnectionClosed, ConnectionOpened, FrameLogged,
                              Notice, opposite)

from .colours import ColourBook
from .framestore import CaptureFrameStore, FrameStore, RowInput
from .metering import METER_ACTIONS, MeterData

_STATUS_ACTION = "StatusNotification"
_PAYLOAD_ACTIONS = frozenset((*METER_ACTIONS, _STATUS_ACTION))
# what the limit line follows: profiles accepted, transactions starting and ending; the
# answer decides for these (kept until it comes)
_ANSWERED_ACTIONS = frozenset(("SetChargingProfile", "ClearChargingProfile", "StartTransaction"))
_FOLLOWED_ACTIONS = _PAYLOAD_ACTIONS | _ANSWERED_ACTIONS | {"StopTransaction"}


@dataclass
class Station:
    """One charge point as seen by one role (the same id may pass the proxy and the CSMS)."""

    charge_point_id: str
    role: str
    subprotocol: str | None = None
    remote_address: str | None = None
    opened_at: float | None = None
    closed_at: float | None = None
    close_code: int | None = None
    close_reason: str | None = None
    note: str | None = None
    open_connections: set = field(default_factory=set)
    connections: int = 0
    status: str | None = None  # last StatusNotification status
    status_connector: int | None = None
    frames: int = 0
    errors: int = 0  # frames invalid or flagged
    last_frame: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.charge_point_id, self.role)

    @property
    def state(self) -> str:
        if self.open_connections:
            return "connected"
        if self.note and not self.frames:
            return "refused"
        return "closed"


def status_of(payload) -> tuple[str | None, int | None]:
    """(status, connector) from a StatusNotification request, 1.6 or 2.x."""
    if not isinstance(payload, dict):
        return None, None
    status = payload.get("status") or payload.get("connectorStatus")
    connector = payload.get("connectorId")
    if "evseId" in payload:
        connector = payload.get("evseId")
    return (status if isinstance(status, str) else None,
            connector if isinstance(connector, int) else None)


class Stations:
    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], Station] = {}
        self._by_connection: dict[int, Station] = {}
        # a colour per charge point, given in the order they are first seen (live or read
        # back from a capture alike), shared by the plot and the Connections view
        self.colours = ColourBook()
        self.changed = False

    def __len__(self) -> int:
        return len(self.by_key)

    def _station(self, connection_id: int, charge_point_id: str, role: str) -> Station:
        station = self._by_connection.get(connection_id)
        if station is None:
            key = (charge_point_id, role)
            station = self.by_key.get(key)
            if station is None:
                station = self.by_key[key] = Station(charge_point_id, role)
                self.colours.colour(charge_point_id)
            self._by_connection[connection_id] = station
            station.connections += 1
        return station

    def opened(self, info: dict) -> Station:
        station = self._station(info["id"], info["charge_point_id"], info["role"])
        for name in ("subprotocol", "remote_address", "opened_at", "note"):
            if info.get(name) is not None:
                setattr(station, name, info[name])
        if info.get("closed_at") is None:
            station.open_connections.add(info["id"])
            station.closed_at = station.close_code = station.close_reason = None
        else:
            self.closed(info)
        self.changed = True
        return station

    def closed(self, info: dict) -> Station:
        station = self._station(info["id"], info["charge_point_id"], info["role"])
        station.open_connections.discard(info["id"])
        for name in ("closed_at", "close_code", "close_reason", "note"):
            setattr(station, name, info.get(name))
        self.changed = True
        return station

    def frame(self, connection_id: int, charge_point_id: str, role: str, time: float,
              bad: bool) -> Station:
        station = self._station(connection_id, charge_point_id, role)
        station.frames += 1
        station.errors += bad
        station.last_frame = time
        self.changed = True
        return station

    def mark_error(self, connection_id: int) -> None:
        station = self._by_connection.get(connection_id)
        if station is not None:
            station.errors += 1
            self.changed = True

    def take_changed(self) -> bool:
        changed, self.changed = self.changed, False
        return changed


def connection_dict(info) -> dict:
    """A ConnectionInfo as the dict shape `Capture.connections()` uses."""
    return {"id": info.id, "charge_point_id": info.charge_point_id, "role": info.role,
            "subprotocol": info.subprotocol, "remote_address": info.remote_address,
            "opened_at": info.opened_at, "closed_at": info.closed_at,
            "close_code": info.close_code, "close_reason": info.close_reason, "note": info.note}


@dataclass
class IngestResult:
    rows: range
    flag_rows: list[int] = field(default_factory=list)  # rows whose flags changed
    notices: list[Notice] = field(default_factory=list)
    opened: list = field(default_factory=list)  # ConnectionInfo
    closed: list = field(default_factory=list)


class SessionData:
    def __init__(self, title: str = "live session", *, path=None, store=None) -> None:
        self.title = title
        self.path = path  # capture file this session shows (None: not known yet)
        # live: frames kept in memory as they come; an opened capture: CaptureFrameStore
        self.store = store if store is not None else FrameStore()
        self.stations = Stations()
        self.meters = MeterData()
        # charge point -> its charging profiles as its frames tell them (the limit line)
        self.profiles: dict[str, ProfileHistory] = {}
        self._asked: dict[int, tuple] = {}  # seq of a profile/transaction CALL -> its facts

    # ---- live: hub events ---------------------------------------------------------------

    def ingest(self, events) -> IngestResult:
        """Apply a batch of hub events (in publication order)."""
        rows: list[RowInput] = []
        records = []
        result = IngestResult(range(self.store.count, self.store.count))
        unanswered = []
        for event in events:
            if isinstance(event, FrameLogged):
                record = event.record
                frame = record.frame
                rows.append(RowInput(
                    record.seq, record.time, record.connection.id, record.connection.charge_point_id,
                    record.action, record.direction, frame.type.value, record.valid,
                    record.latency_ms, record.request_seq, frame.unique_id, frame.raw,
                    [f.as_dict() for f in record.errors] if record.errors else None,
                    list(record.flags) if record.flags else None))
                records.append(record)
            elif isinstance(event, ConnectionOpened):
                self.stations.opened(connection_dict(event.connection))
                result.opened.append(event.connection)
            elif isinstance(event, ConnectionClosed):
                self.stations.closed(connection_dict(event.connection))
                result.closed.append(event.connection)
            elif isinstance(event, CallUnanswered):
                unanswered.append(event)
            elif isinstance(event, Notice):
                result.notices.append(event)
        if rows:
            result.rows = self.store.append(rows)
            roles = self.store.connection_roles
            for record in records:
                info = record.connection
                roles[info.id] = info.role
                self.stations.frame(info.id, info.charge_point_id, info.role, record.time,
                                    record.valid is False or bool(record.flags))
                if record.action in _FOLLOWED_ACTIONS:
                    self._follow(info.id, info.charge_point_id, info.role, record.time,
                                 record.frame.type.value, record.action, record.frame.payload,
                                 record.seq, record.request_seq)
        for event in unanswered:
            row = self.store.set_flags(event.record.seq, event.record.flags)
            if row is not None:
                result.flag_rows.append(row)
                if len(event.record.flags) == 1 and event.record.valid is not False:
                    self.stations.mark_error(event.record.connection.id)
        return result

    def _follow(self, connection_id, charge_point_id, role, moment, kind, action, payload,
                seq, request_seq) -> None:
        """What a frame tells the views beyond the log: statuses, meter readings, and the
        charging profiles in force (live and from a capture alike, in frame order)."""
        if not isinstance(payload, dict):
            return
        if kind == "CALL":
            if action in _ANSWERED_ACTIONS:
                if len(self._asked) > 10_000:  # calls never answered
                    self._asked.clear()
                self._asked[seq] = (charge_point_id, action, payload)
            # StopTransaction and TransactionEvent say it all in the CALL
            self._transaction(charge_point_id, transaction_change(action, payload), moment)
            if action in _PAYLOAD_ACTIONS:
                self._payload(connection_id, charge_point_id, role, action, payload, moment)
                history = self.profiles.get(charge_point_id)
                if action in METER_ACTIONS and history is not None and history.limited:
                    self._limit_point(charge_point_id, payload, moment)
        elif kind == "CALLRESULT" and request_seq in self._asked:
            self._answered(*self._asked.pop(request_seq), payload, moment)

    def _history(self, charge_point_id: str) -> ProfileHistory:
        history = self.profiles.get(charge_point_id)
        if history is None:
            history = self.profiles[charge_point_id] = ProfileHistory()
        return history

    def _answered(self, charge_point_id, action, asked: dict, answer: dict, moment) -> None:
        history = self._history(charge_point_id)
        if action in ("SetChargingProfile", "ClearChargingProfile"):
            if answer.get("status") != "Accepted":
                return
            if action == "SetChargingProfile":
                history.profile_set(asked)
            else:
                history.profile_cleared(asked)
            self._limit_point(charge_point_id, asked, moment)
        elif action == "StartTransaction":  # its answer holds the id and the acceptance
            self._transaction(charge_point_id, transaction_change(action, asked, answer), moment)

    def _transaction(self, charge_point_id, change, moment) -> None:
        """A transaction started or ended on a charger (for its TxProfiles)."""
        if change is None:
            return
        history = self._history(charge_point_id)
        if change.started:
            where = change.where or self.meters.connector_of(charge_point_id) or 1
            history.transaction_started(where, moment, change.transaction_id)
        else:
            history.transaction_ended(change.where, change.transaction_id)

    def _limit_point(self, charge_point_id, payload, moment) -> None:
        """The limit in force now, on the connector this payload names (or the last one
        the charger's meter values named), for the plot's limit line."""
        connector = payload.get("connectorId", payload.get("evseId"))
        if not isinstance(connector, int) or connector == 0:
            connector = self.meters.connector_of(charge_point_id)
        if connector is None:
            return
        self.meters.add_limit(charge_point_id, connector, moment,
                              self.profiles[charge_point_id].limit_w(connector, moment))

    def _payload(self, connection_id, charge_point_id, role, action, payload, time) -> None:
        if action == _STATUS_ACTION:
            status, connector = status_of(payload)
            if status:
                station = self.stations._station(connection_id, charge_point_id, role)
                station.status, station.status_connector = status, connector
                self.stations.changed = True
        else:
            self.meters.add_call(charge_point_id, action, payload, time)

    # ---- offline: a capture file ----------------------------------------------------------

    def add_connections(self, connections: list[dict]) -> None:
        for info in connections:
            self.store.connection_roles[info["id"]] = info["role"]
            self.stations.opened(info)
            if info.get("closed_at") is None:
                # a capture of a run that was killed: nobody is connected any more
                self.stations.by_key[(info["charge_point_id"], info["role"])] \
                    .open_connections.discard(info["id"])

    def count_frames(self, connections, times, valids, flagged, charge_point_of: dict) -> None:
        """The Connections view's counters for a chunk of capture rows, per connection."""
        connection_ids = np.asarray(connections, dtype=np.int64)
        bad = (np.asarray([v == 0 for v in valids], dtype=np.bool_)
               | np.asarray(flagged, dtype=np.bool_))
        unique, inverse = np.unique(connection_ids, return_inverse=True)
        counts = np.bincount(inverse)
        errors = np.bincount(inverse, weights=bad)
        last = np.full(len(unique), -np.inf)
        np.maximum.at(last, inverse, np.asarray(times, dtype=np.float64))
        for i, connection in enumerate(unique.tolist()):
            station = self.stations._station(connection, charge_point_of.get(connection, ""),
                                             self.store.connection_roles.get(connection, "?"))
            station.frames += int(counts[i])
            station.errors += int(errors[i])
            station.last_frame = float(last[i])
        self.stations.changed = True

    def add_frames(self, rows) -> None:
        """Statuses, meter values and charging profiles out of capture frames: (id,
        connection_id, charge_point_id, time, type, action, raw, request_id) tuples."""
        for frame_id, connection, charge_point_id, moment, kind, action, raw, request in rows:
            try:
                message = json.loads(raw)
                payload = message[3] if kind == "CALL" else message[2]
            except (ValueError, IndexError, TypeError, KeyError, RecursionError):
                continue
            role = self.store.connection_roles.get(connection, "?")
            self._follow(connection, charge_point_id, role, moment, kind, action, payload,
                         frame_id, request)


class CaptureLoad:
    """A capture read into a session in two passes, each a generator of steps so the
    window stays responsive between them: `frames()` fills the frame table from the
    capture's compact index (browsable when it ends; raw texts stay in the file until a
    view needs them), then `payloads()` reads the meter values and statuses.

    From frame `pairing_since` on, the capture holds the pairing the live session decided
    (`request_id`) and it is taken as is: the opened capture shows what the live view
    showed. Older frames (a capture from before that) are paired here, by connection,
    direction and unique id, as the live monitor would have."""

    def __init__(self, session: SessionData, capture) -> None:
        self.session = session
        self.capture = capture
        self.total = capture.count()
        self.pairing_since = capture.pairing_since()

    def frames(self):
        """Yields the range of store rows each chunk added."""
        session, capture = self.session, self.capture
        connections = capture.connections()
        session.add_connections(connections)
        charge_point_of = {c["id"]: c["charge_point_id"] for c in connections}
        since = self.pairing_since if self.pairing_since is not None else float("inf")
        paired_again = self._pair_older(since)
        # findings are few: read them first, so each chunk is complete when it is shown
        findings = {frame_id: (errors, flags.restore(found, codes))
                    for frame_id, errors, found, codes in capture.findings()}
        actions = capture.index_actions()
        for rows in capture.frame_index(actions):
            columns = list(zip(*rows))
            ids = columns[0]
            if ids[0] < since:
                columns[9] = [paired_again.get(i) if i < since else r
                              for i, r in zip(ids, columns[9])]
            added = session.store.append_index(columns, charge_point_of, actions)
            session.count_frames(columns[1], columns[2], columns[7], columns[8], charge_point_of)
            if findings:
                for frame_id in ids:
                    found = findings.get(frame_id)
                    if found is not None:
                        session.store.set_findings(frame_id, *found)
            yield added

    def _pair_older(self, since) -> dict[int, int]:
        """{response id: CALL id} for the frames before `since`."""
        pending: dict[tuple, int] = {}
        pairs = {}
        for frame_id, connection, direction, kind, unique_id in self.capture.pairing_rows(
                since if since != float("inf") else 1 << 62):
            if kind == "CALL" and unique_id:
                if len(pending) > 100_000:  # unanswered CALLs of a long capture
                    pending.clear()
                pending[(connection, direction, unique_id)] = frame_id
            elif kind in ("CALLRESULT", "CALLERROR"):
                call = pending.pop((connection, opposite(direction), unique_id), None)
                if call is not None:
                    pairs[frame_id] = call
        return pairs

    def payloads(self):
        """Yields after each chunk of CALLs read for the plot and the statuses."""
        for rows in self.capture.frames_of(sorted(_FOLLOWED_ACTIONS)):
            self.session.add_frames(rows)
            yield


def open_capture_session(capture, title: str, path) -> tuple[SessionData, CaptureLoad]:
    """A session showing a capture file (inspector.store.Capture, which the session's
    store keeps open to read raw texts from), and the load that fills it."""
    session = SessionData(title, path=path, store=CaptureFrameStore(capture))
    return session, CaptureLoad(session, capture)
