"""The frame log: one SQLite file per capture, in WAL mode, written off the hot path.

Roles publish events on the asyncio loop; `CaptureWriter` only enqueues them there and a
writer thread commits a batch every FLUSH_INTERVAL seconds, so a kill -9 loses at most
the last ~100 ms. WAL lets readers (`Capture`) open a file while it is being written.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import sqlite3
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from .codec import FrameType
from .events import CallUnanswered, ConnectionClosed, ConnectionOpened, FrameLogged

FLUSH_INTERVAL = 0.05
_SCHEMA = """
CREATE TABLE IF NOT EXISTS connections (
    id INTEGER PRIMARY KEY,
    charge_point_id TEXT NOT NULL,
    role TEXT NOT NULL,
    subprotocol TEXT,
    remote_address TEXT,
    opened_at REAL,
    closed_at REAL,
    close_code INTEGER,
    close_reason TEXT,
    note TEXT
);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY,
    connection_id INTEGER NOT NULL REFERENCES connections(id),
    charge_point_id TEXT NOT NULL,
    time REAL NOT NULL,
    direction TEXT NOT NULL,
    type TEXT NOT NULL,
    unique_id TEXT,
    action TEXT,
    latency_ms REAL,
    valid INTEGER,
    errors TEXT NOT NULL DEFAULT '[]',
    flags TEXT NOT NULL DEFAULT '[]',
    raw TEXT NOT NULL
);
"""
_INSERT_FRAME = ("INSERT INTO frames (id, connection_id, charge_point_id, time, direction, type,"
                 " unique_id, action, latency_ms, valid, errors, flags, raw)"
                 " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)")
_FRAME_COLUMNS = 13
_ROWS_PER_INSERT = (1024, 256, 64, 16, 4, 1)
_CALL_ROWS_KEPT = 200_000
_TYPE_NAMES = {member: member.value for member in FrameType}  # Enum.value is a slow property
_LOGGED_EVENTS = frozenset({FrameLogged, ConnectionOpened, ConnectionClosed, CallUnanswered})


def default_capture_path(now: float | None = None) -> Path:
    """A new capture file in the per-user data directory."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    stamp = datetime.fromtimestamp(now or time.time()).strftime("%Y%m%d-%H%M%S")
    return base / "ocpp-inspector" / "captures" / f"capture-{stamp}.db"


def _connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        uri = Path(path).resolve().as_uri() + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
    else:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(str(path), check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        db.commit()
    return db


@dataclass(frozen=True, slots=True)
class _Flagged:
    """A logged CALL got a flag after the fact (unanswered): rewrite its row's flags."""

    row: int
    flags: str


class CaptureWriter:
    """Subscribes to a Hub and persists its events in batches from a background thread."""

    def __init__(self, path: str | Path, *, flush_interval: float = FLUSH_INTERVAL):
        self.path = Path(path)
        self.flush_interval = flush_interval
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._db = _connect(self.path)
        first_id = (self._db.execute("SELECT max(id) FROM frames").fetchone()[0] or 0) + 1
        self._frame_ids = itertools.count(first_id)
        self._connection_rows: dict[int, int] = {}  # hub connection id -> row id (writer thread)
        self._call_rows: dict[int, int] = {}  # seq of a CALL -> frame row id (publisher thread)
        # the most rows one statement may bind (SQLite builds before 3.32 allow 999 values)
        limit = self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _FRAME_COLUMNS
        self._inserts = [(size, _INSERT_FRAME + ",(?,?,?,?,?,?,?,?,?,?,?,?,?)" * (size - 1))
                         for size in _ROWS_PER_INSERT if size <= limit]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._thread.start()
        self.error: str | None = None

    def attach(self, hub):
        return hub.subscribe(self.handle)

    def handle(self, event) -> None:
        """Runs on the publishing thread: a frame becomes its row at once.

        Queueing the row instead of the event lets the parsed payload die right after
        inspection: held for the batching window, every frame's JSON tree survived into
        the garbage collector's older generations and was scanned again and again.
        """
        kind = type(event)
        if kind is FrameLogged:
            self._queue.put(self._frame_row(event.record))
        elif kind is CallUnanswered:
            row = self._call_rows.pop(event.record.seq, None)
            if row is not None:
                self._queue.put(_Flagged(row, json.dumps(event.record.flags)))
        elif kind in _LOGGED_EVENTS:
            self._queue.put(event)

    def flush(self, timeout: float = 5.0) -> None:
        """Block until everything enqueued so far is committed."""
        marker = threading.Event()
        self._queue.put(marker)
        marker.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._thread.join(5)
        self._db.close()

    # ---- writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=self.flush_interval)
            except queue.Empty:
                continue
            # Sleep through the batching window, then take everything at once: waking per
            # frame (or polling) would fight the relay's thread for the GIL on every frame.
            if not isinstance(first, threading.Event):
                time.sleep(self.flush_interval)
            batch = [first]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._write(batch)
            except sqlite3.Error as exc:  # disk full, file removed: report, keep running
                self.error = f"capture {self.path}: {exc}"
            for item in batch:
                if isinstance(item, threading.Event):
                    item.set()

    def _write(self, batch) -> None:
        db = self._db
        rows = []
        with db:
            for item in batch:
                if type(item) is list:  # a frame's row; its connection becomes a row id here
                    item[1] = self._connection_row(db, item[1])
                    rows.append(item)
                    continue
                if rows:
                    self._insert_frames(db, rows)
                    rows = []
                if isinstance(item, ConnectionOpened):
                    self._open_connection(db, item.connection)
                elif isinstance(item, ConnectionClosed):
                    self._close_connection(db, item.connection)
                elif isinstance(item, _Flagged):
                    db.execute("UPDATE frames SET flags=? WHERE id=?", (item.flags, item.row))
            if rows:
                self._insert_frames(db, rows)

    def _insert_frames(self, db, rows: list[tuple]) -> None:
        """Many rows per INSERT statement, not executemany.

        sqlite3 releases the GIL around every statement step: executemany does that per
        row, and while the relay's thread is busy each re-acquisition waits out a switch
        interval (measured: 6 ms per row under load, 100x the CPU). Rows go in statements
        of a few fixed sizes (1024, 256, 64, 16, 4, 1 rows), so each is prepared once
        and reused, and the GIL is released a handful of times per batch.
        """
        start = 0
        for size, statement in self._inserts:
            while len(rows) - start >= size:
                chunk = rows[start:start + size]
                db.execute(statement, [value for row in chunk for value in row])
                start += size

    def _connection_row(self, db, info) -> int:
        row = self._connection_rows.get(info.id)
        if row is None:
            row = self._open_connection(db, info)
        return row

    def _open_connection(self, db, info) -> int:
        if info.id in self._connection_rows:
            self._update_connection(db, info)
            return self._connection_rows[info.id]
        cursor = db.execute(
            "INSERT INTO connections (charge_point_id, role, subprotocol, remote_address, opened_at,"
            " note) VALUES (?,?,?,?,?,?)",
            (info.charge_point_id, info.role, info.subprotocol, info.remote_address,
             info.opened_at, info.note))
        self._connection_rows[info.id] = cursor.lastrowid
        return cursor.lastrowid

    def _close_connection(self, db, info) -> None:
        self._connection_row(db, info)
        self._update_connection(db, info)

    def _update_connection(self, db, info) -> None:
        db.execute(
            "UPDATE connections SET subprotocol=?, closed_at=?, close_code=?, close_reason=?, note=?"
            " WHERE id=?",
            (info.subprotocol, info.closed_at, info.close_code, info.close_reason, info.note,
             self._connection_rows[info.id]))

    def _frame_row(self, record) -> list:
        """The frames row of a record, its connection still a ConnectionInfo (publisher thread)."""
        frame, connection = record.frame, record.connection
        frame_id = next(self._frame_ids)
        if frame.type is FrameType.CALL:
            calls = self._call_rows
            calls[record.seq] = frame_id
            if len(calls) > _CALL_ROWS_KEPT:
                del calls[next(iter(calls))]
        valid, errors, flags = record.valid, record.errors, record.flags
        return [frame_id, connection, connection.charge_point_id, record.time, record.direction,
                _TYPE_NAMES[frame.type], frame.unique_id, record.action, record.latency_ms,
                None if valid is None else int(valid),
                json.dumps([f.as_dict() for f in errors]) if errors else "[]",
                json.dumps(flags) if flags else "[]", frame.raw]


# ---- reading -----------------------------------------------------------------------------

def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


class Capture:
    """Read access to a capture file, safe while another process is writing it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no capture file at {self.path}")
        try:
            self._db = _connect(self.path, readonly=True)
            self._db.row_factory = sqlite3.Row
            self._db.execute("SELECT count(*) FROM frames").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ValueError(f"{self.path} is not an OCPP Inspector capture: {exc}") from None

    def close(self) -> None:
        self._db.close()

    def connections(self) -> list[dict]:
        return [dict(r) for r in self._db.execute("SELECT * FROM connections ORDER BY id")]

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM frames").fetchone()[0]

    def frames(self, *, action: str | None = None, charge_point: str | None = None,
               invalid: bool = False, direction: str | None = None, type: str | None = None,
               text: str | None = None, after_id: int = 0, limit: int | None = None
               ) -> Iterator[dict]:
        """Frames in log order as export dicts, filtered."""
        where, args = ["id > ?"], [after_id]
        for column, value in (("action", action), ("charge_point_id", charge_point),
                              ("direction", direction), ("type", type)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if invalid:
            where.append("(valid = 0 OR flags != '[]')")
        if text:
            where.append("instr(raw, ?) > 0")
            args.append(text)
        sql = f"SELECT * FROM frames WHERE {' AND '.join(where)} ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._db.execute(sql, args):
            yield export_dict(row)


def export_dict(row) -> dict:
    valid = row["valid"]
    return {
        "id": row["id"],
        "time": iso_time(row["time"]),
        "charge_point_id": row["charge_point_id"],
        "connection_id": row["connection_id"],
        "direction": row["direction"],
        "type": row["type"],
        "unique_id": row["unique_id"],
        "action": row["action"],
        "latency_ms": row["latency_ms"],
        "valid": None if valid is None else bool(valid),
        "errors": json.loads(row["errors"]),  # [{path, message, rule, ocpp_error}]
        "flags": json.loads(row["flags"]),
        "raw": row["raw"],
    }


def export_jsonl(capture: Capture, out, **filters) -> int:
    """Write one JSON object per frame to a text stream; returns the number written."""
    count = 0
    for item in capture.frames(**filters):
        out.write(json.dumps(item, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count
