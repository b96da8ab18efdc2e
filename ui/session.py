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
from inspector.events import (CallUnanswered, ConnectionClosed, ConnectionOpened, FrameLogged,
                              Notice, opposite)

from .colours import ColourBook
from .framestore import FrameStore, RowInput
from .metering import METER_ACTIONS, MeterData

_STATUS_ACTION = "StatusNotification"
_PAYLOAD_ACTIONS = frozenset((*METER_ACTIONS, _STATUS_ACTION))


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
    def __init__(self, title: str = "live session", *, path=None) -> None:
        self.title = title
        self.path = path  # capture file this session shows (None: not known yet)
        self.store = FrameStore()
        self.stations = Stations()
        self.meters = MeterData()
        self._roles: dict[int, str] = {}  # connection id -> role (captures)
        self._pending: dict[tuple, int] = {}  # (connection, call direction, unique id) -> seq

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
                if record.frame.type.value == "CALL" and record.action in _PAYLOAD_ACTIONS:
                    self._payload(info.id, info.charge_point_id, info.role, record.action,
                                  record.frame.payload, record.time)
        for event in unanswered:
            row = self.store.set_flags(event.record.seq, event.record.flags)
            if row is not None:
                result.flag_rows.append(row)
                if len(event.record.flags) == 1 and event.record.valid is not False:
                    self.stations.mark_error(event.record.connection.id)
        return result

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
            self._roles[info["id"]] = info["role"]
            self.store.connection_roles[info["id"]] = info["role"]
            self.stations.opened(info)
            if info.get("closed_at") is None:
                # a capture of a run that was killed: nobody is connected any more
                self.stations.by_key[(info["charge_point_id"], info["role"])] \
                    .open_connections.discard(info["id"])

    def load_capture(self, capture) -> "CaptureLoad":
        """Read a capture (inspector.store.Capture) into this session: see CaptureLoad."""
        return CaptureLoad(self, capture)

    def add_rows(self, rows: list[tuple], pairing_since: int | None,
                 payload_rows: list[int]) -> range:
        """Append capture rows (`Capture.frame_rows()` tuples) column by column.

        From frame `pairing_since` on, the capture holds the pairing the live session
        decided (`request_id`) and it is taken as is: the opened capture shows what the
        live view showed. Frames of older captures are paired here, by connection,
        direction and unique id. The store rows of CALLs whose payload feeds the plot or
        the statuses are added to `payload_rows`, for `CaptureLoad.payloads()`."""
        (ids, connections, charge_points, times, directions, types, unique_ids, actions,
         latencies, valids, errors, found, raws, codes, requests) = zip(*rows)
        since = pairing_since if pairing_since is not None else float("inf")
        if ids[0] < since:
            requests = [self._pair_again(*row) if row[0] < since else row[4]
                        for row in zip(ids, connections, directions, types, requests,
                                       unique_ids)]
        first = self.store.count
        added = self.store.append_columns(
            ids, times, connections, charge_points, actions, directions, types, valids,
            latencies, requests, unique_ids, raws,
            {k: json.loads(text) for k, text in enumerate(errors) if text != "[]"},
            {k: flags.restore(json.loads(text), json.loads(code or "[]"))
             for k, (text, code) in enumerate(zip(found, codes)) if text != "[]"})
        self._count_frames(connections, charge_points, times, valids, found)
        payload_rows.extend(first + k for k, (kind, action) in enumerate(zip(types, actions))
                            if kind == "CALL" and action in _PAYLOAD_ACTIONS)
        return added

    def _pair_again(self, frame_id, connection, direction, kind, _stored, unique_id):
        """The pairing of a frame from a capture that did not store it."""
        if kind == "CALL" and unique_id:
            if len(self._pending) > 100_000:  # unanswered CALLs of a long capture
                self._pending.clear()
            self._pending[(connection, direction, unique_id)] = frame_id
        elif kind in ("CALLRESULT", "CALLERROR"):
            return self._pending.pop((connection, opposite(direction), unique_id), None)
        return None

    def _count_frames(self, connections, charge_points, times, valids, found) -> None:
        """The Connections view's counters for a chunk of capture rows, per connection."""
        connection_ids = np.asarray(connections, dtype=np.int64)
        bad = np.fromiter((v == 0 or f != "[]" for v, f in zip(valids, found)), dtype=np.bool_,
                          count=len(valids))
        unique, first, inverse = np.unique(connection_ids, return_index=True, return_inverse=True)
        counts = np.bincount(inverse)
        errors = np.bincount(inverse, weights=bad)
        last = np.full(len(unique), -np.inf)
        np.maximum.at(last, inverse, np.asarray(times, dtype=np.float64))
        for i, connection in enumerate(unique.tolist()):
            station = self.stations._station(connection, charge_points[first[i]],
                                             self._roles.get(connection, "?"))
            station.frames += int(counts[i])
            station.errors += int(errors[i])
            station.last_frame = float(last[i])
        self.stations.changed = True

    def add_payloads(self, store_rows) -> None:
        """Meter values and statuses out of these CALLs (read back from the store)."""
        store = self.store
        for row in store_rows:
            r = store.row(row)
            try:
                payload = json.loads(store.raw(row))[3]
            except (ValueError, IndexError, TypeError, KeyError, RecursionError):
                continue
            self._payload(r.connection_id, r.charge_point_id, r.role or "?", r.action,
                          payload, r.time)


class CaptureLoad:
    """A capture read into a session in two passes, each a generator of steps so the
    window stays responsive between them: `frames()` fills the frame table (browsable
    when it ends), then `payloads()` reads the meter values and statuses."""

    PAYLOAD_CHUNK = 20_000

    def __init__(self, session: SessionData, capture) -> None:
        self.session = session
        self.capture = capture
        self.total = capture.count()
        self.pairing_since = capture.pairing_since()
        self._payload_rows: list[int] = []

    def frames(self):
        """Yields the range of store rows each chunk added."""
        session = self.session
        session.add_connections(self.capture.connections())
        for rows in self.capture.frame_rows():
            yield session.add_rows(rows, self.pairing_since, self._payload_rows)

    def payloads(self):
        """Yields after each chunk of payloads read."""
        rows = self._payload_rows
        for start in range(0, len(rows), self.PAYLOAD_CHUNK):
            self.session.add_payloads(rows[start:start + self.PAYLOAD_CHUNK])
            yield
