"""The frame log: one SQLite file per capture, in WAL mode, written off the hot path.

Roles publish events on the asyncio loop; `CaptureWriter` only turns them into rows there
and a writer thread commits a batch every FLUSH_INTERVAL seconds, so a kill -9 loses at
most the last ~100 ms. WAL lets readers (`Capture`) open a file while it is being written.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from . import flags, native_threads
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
    raw TEXT NOT NULL,
    flag_codes TEXT NOT NULL DEFAULT '[]',
    request_id INTEGER,
    original TEXT
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
"""
# `request_id`: for a response, the id of the CALL it answers, as the live pairing decided
# (connection, direction, unique id, timeouts), so a capture read back shows the same pairs
# without pairing again. meta 'pairing_since': the first frame id written with it (older
# rows of a capture from before it are paired on reading, as they were then).
# `original`: what the sender wrote when a proxy rule changed the frame (`raw` is what the
# receiver got); NULL for every other frame.
_FRAME_ROW = "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_FRAME_COLUMNS = _FRAME_ROW.count("?")
_INSERT_FRAME = ("INSERT INTO frames (id, connection_id, charge_point_id, time, direction, type,"
                 " unique_id, action, latency_ms, valid, errors, flags, raw, flag_codes,"
                 " request_id, original) VALUES " + _FRAME_ROW)
_ROWS_PER_INSERT = (1024, 256, 64, 16, 4, 1)
_CALL_ROWS_KEPT = 200_000
_TYPE_NAMES = {member: member.value for member in FrameType}  # Enum.value is a slow property


def storable(text: str | None) -> str | None:
    """Text SQLite can store (UTF-8), kept lossless: a lone surrogate (from a JSON escape
    such as "\\ud800" in a unique id) is written as that escape, every other character as is."""
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def default_capture_path(now: float | None = None) -> Path:
    """A new capture file in the per-user data directory, unique to this process (two roles
    started in the same second never share one)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    when = datetime.fromtimestamp(now or time.time())
    stamp = f"{when:%Y%m%d-%H%M%S}-{when.microsecond // 1000:03d}"
    return base / "ocpp-inspector" / "captures" / f"capture-{stamp}-{os.getpid()}.db"


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
        columns = {row[1] for row in db.execute("PRAGMA table_info(frames)")}
        if "flag_codes" not in columns:  # a capture from before flags had codes
            db.execute("ALTER TABLE frames ADD COLUMN flag_codes TEXT NOT NULL DEFAULT '[]'")
        if "request_id" not in columns:  # from before pairing was stored
            db.execute("ALTER TABLE frames ADD COLUMN request_id INTEGER")
        if "original" not in columns:  # from before proxy rules
            db.execute("ALTER TABLE frames ADD COLUMN original TEXT")
        db.commit()
    return db


def remove_capture(path: str | Path) -> None:
    """Delete a capture file with its WAL companions (an import that failed half-way)."""
    for suffix in ("", "-wal", "-shm", ".writer"):
        try:
            Path(str(path) + suffix).unlink()
        except OSError:
            pass


class CaptureBusy(Exception):
    """Another process writes this capture file."""


class _WriterLock:
    """One writer per capture file: an exclusive lock on "<capture>.writer", held while
    the writer is open. Row ids are assigned by the writer, so a second writer on the same
    file would collide with the first and lose frames: it is refused instead."""

    def __init__(self, path: Path):
        self.path = path.with_name(path.name + ".writer")
        self.file = open(self.path, "a+")
        try:
            if sys.platform == "win32":
                import msvcrt
                msvcrt.locking(self.file.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.file.close()
            raise CaptureBusy(f"{path} is being written by another ocpp-inspector process; "
                              f"give this one another capture file (--db)") from None

    def release(self) -> None:
        try:
            self.path.unlink()
        except OSError:
            pass
        self.file.close()


# the columns of Capture.frame_index(), in order (to_charger: 1 for that direction)
INDEX_COLUMNS = ("id", "connection_id", "time", "to_charger", "type", "action", "latency_ms",
                 "valid", "flagged", "request_id")
INDEX_TYPES = tuple(t.value for t in FrameType)


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"

_INSERT_CONNECTION = ("INSERT INTO connections (id, charge_point_id, role, subprotocol,"
                      " remote_address, opened_at, note) VALUES (?,?,?,?,?,?,?)")
_UPDATE_CONNECTION = ("UPDATE connections SET subprotocol=?, closed_at=?, close_code=?,"
                      " close_reason=?, note=? WHERE id=?")


class CaptureWriter:
    """Subscribes to a Hub and persists its events in batches from a background thread.

    The publishing thread (the event loop) turns each event into what SQLite needs at
    once: frame rows get their ids there (frames and connections alike), and consecutive
    rows are appended to one flat list of values. The writer thread swaps that work list
    out every FLUSH_INTERVAL and only slices it into multi-row INSERTs, so it does no
    Python work per frame, and a frame's parsed payload dies right after inspection
    instead of waiting in a queue (where the garbage collector scanned it over and over).
    """

    def __init__(self, path: str | Path, *, flush_interval: float = FLUSH_INTERVAL):
        self.path = Path(path)
        self.flush_interval = flush_interval
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_file = _WriterLock(self.path)
        try:
            self._db = _connect(self.path)
        except Exception:
            self._lock_file.release()
            raise
        max_frame, = self._db.execute("SELECT max(id) FROM frames").fetchone()
        max_connection, = self._db.execute("SELECT max(id) FROM connections").fetchone()
        self._frame_ids = itertools.count((max_frame or 0) + 1)
        self._db.execute("INSERT OR IGNORE INTO meta VALUES ('pairing_since', ?)",
                         (str((max_frame or 0) + 1),))
        self._db.commit()
        self._connection_ids = itertools.count((max_connection or 0) + 1)
        # publisher thread only: hub connection id -> row id, seq of a CALL -> frame row id
        self._connection_rows: dict[int, int] = {}
        self._call_rows: dict[int, int] = {}
        # in order: flat lists of frame values, (sql, parameters) statements, flush markers
        self._pending: list = []
        self._lock = native_threads.Lock()
        self._wake = native_threads.Event()
        # the most rows one statement may bind (SQLite builds before 3.32 allow 999 values)
        limit = self._db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // _FRAME_COLUMNS
        self._inserts = [(size, _INSERT_FRAME + ("," + _FRAME_ROW) * (size - 1))
                         for size in _ROWS_PER_INSERT if size <= limit]
        self._stop = native_threads.Event()
        self._event_type = type(self._stop)  # what a flush marker is
        self._thread = native_threads.Thread(target=self._run, name="capture-writer", daemon=True)
        self.error: str | None = None  # the last write failure, for whoever shows it
        self.lost_frames = 0  # frames that could not be written
        # called on the writer thread with `error` each time a batch cannot be written
        self.on_error = None
        self._thread.start()

    def attach(self, hub):
        return hub.subscribe(self.handle)

    def handle(self, event) -> None:
        """Runs on the publishing thread, once per event."""
        kind = type(event)
        if kind is FrameLogged:
            values = self._frame_values(event.record)
            with self._lock:
                pending = self._pending
                if pending and type(pending[-1]) is list:
                    pending[-1] += values
                else:
                    pending.append(list(values))
        elif kind is ConnectionOpened:
            info = event.connection
            if info.id in self._connection_rows:
                self._append(self._connection_update(info))
            else:
                self._connection_row(info)
        elif kind is ConnectionClosed:
            self._connection_row(event.connection)
            self._append(self._connection_update(event.connection))
        elif kind is CallUnanswered:
            row = self._call_rows.pop(event.record.seq, None)
            if row is not None:
                self._append(("UPDATE frames SET flags=?, flag_codes=? WHERE id=?",
                              (json.dumps(event.record.flags),
                               json.dumps([flags.code_of(f) for f in event.record.flags]), row)))

    def flush(self, timeout: float = 5.0) -> None:
        """Block until everything handled so far is committed."""
        marker = native_threads.Event()
        self._append(marker)
        self._wake.set()
        marker.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
        self._db.close()
        self._lock_file.release()

    # ---- publisher thread --------------------------------------------------------------

    def _append(self, item) -> None:
        with self._lock:
            self._pending.append(item)

    def _connection_row(self, info) -> int:
        row = self._connection_rows.get(info.id)
        if row is None:
            row = self._connection_rows[info.id] = next(self._connection_ids)
            self._append((_INSERT_CONNECTION, (row, storable(info.charge_point_id), info.role,
                                               storable(info.subprotocol), info.remote_address,
                                               info.opened_at, storable(info.note))))
        return row

    def _connection_update(self, info) -> tuple:
        return (_UPDATE_CONNECTION, (storable(info.subprotocol), info.closed_at, info.close_code,
                                     storable(info.close_reason), storable(info.note),
                                     self._connection_rows[info.id]))

    def _frame_values(self, record) -> tuple:
        """The values of a record's frames row, in column order."""
        frame, connection = record.frame, record.connection
        frame_id = next(self._frame_ids)
        request_id = None
        if frame.type is FrameType.CALL:
            calls = self._call_rows
            calls[record.seq] = frame_id
            if len(calls) > _CALL_ROWS_KEPT:
                del calls[next(iter(calls))]
        elif record.request_seq is not None:
            # answered: it will not be flagged; the pair is stored with the response
            request_id = self._call_rows.pop(record.request_seq, None)
        connection_row = self._connection_row(connection)
        valid, errors, found = record.valid, record.errors, record.flags
        return (frame_id, connection_row, storable(connection.charge_point_id), record.time,
                record.direction, _TYPE_NAMES[frame.type], storable(frame.unique_id),
                storable(record.action), record.latency_ms, None if valid is None else int(valid),
                json.dumps([f.as_dict() for f in errors]) if errors else "[]",
                json.dumps(found) if found else "[]", storable(frame.raw),
                json.dumps([flags.code_of(f) for f in found]) if found else "[]", request_id,
                storable(record.original))

    # ---- writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            # sleep through the batching window (flush() cuts it short): waking per frame
            # would fight the relay's thread for the GIL on every frame
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001 - disk full, file gone: report, never die
                lost = sum(len(item) // _FRAME_COLUMNS for item in batch if type(item) is list)
                self.lost_frames += lost
                self.error = (f"capture {self.path}: {type(exc).__name__}: {exc}; "
                              f"{self.lost_frames:,} frame(s) not saved")
                if self.on_error is not None:
                    try:
                        self.on_error(self.error)
                    except Exception:  # noqa: BLE001 - a front-end's report must not kill us
                        pass
            for item in batch:
                if type(item) is self._event_type:
                    item.set()

    def _write(self, batch) -> None:
        db = self._db
        with db:
            for item in batch:
                if type(item) is list:
                    self._insert_frames(db, item)
                elif type(item) is tuple:
                    db.execute(*item)

    def _insert_frames(self, db, values: list) -> None:
        """Many rows per INSERT statement, not executemany.

        sqlite3 releases the GIL around every statement step: executemany does that per
        row, and while the relay's thread is busy each re-acquisition waits out a switch
        interval (measured: 6 ms per row under load, 100x the CPU). Rows go in statements
        of a few fixed sizes (1024, 256, 64, 16, 4, 1 rows), so each is prepared once
        and reused, and the GIL is released a handful of times per batch.
        """
        rows, start = len(values) // _FRAME_COLUMNS, 0
        for size, statement in self._inserts:
            while rows - start >= size:
                db.execute(statement, values[start * _FRAME_COLUMNS:(start + size) * _FRAME_COLUMNS])
                start += size


# ---- reading -----------------------------------------------------------------------------

def iso_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")


class Capture:
    """Read access to a capture file, safe while another process is writing it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._frame_columns: set[str] | None = None  # read once, when first needed
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

    def connection_events(self, charge_point: str | None = None) -> list[dict]:
        """Openings, refusals and closings in time order: {time, charge_point_id,
        connection_id, event ("opened", "refused", "closed"), text}."""
        events = []
        for c in self.connections():
            if charge_point and c["charge_point_id"] != charge_point:
                continue
            note = c["note"] or ""
            base = {"charge_point_id": c["charge_point_id"], "connection_id": c["id"]}
            if note.startswith("refused"):
                events.append({**base, "time": c["opened_at"], "event": "refused", "text": note})
                continue
            if c["opened_at"] is not None:
                opened = " ".join(x for x in (c["role"], c["subprotocol"] or "",
                                              f"from {c['remote_address']}" if c["remote_address"] else "")
                                  if x)
                events.append({**base, "time": c["opened_at"], "event": "opened", "text": opened})
            if c["closed_at"] is not None:
                closed = f"code {c['close_code']}" if c["close_code"] is not None else "no close frame"
                if c["close_reason"]:
                    closed += f" {c['close_reason']!r}"
                if note:
                    closed += f"; {note}"
                events.append({**base, "time": c["closed_at"], "event": "closed", "text": closed})
        return sorted(events, key=lambda e: e["time"] or 0)

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM frames").fetchone()[0]

    # ---- bulk and on-demand reading (File › Open in the window) --------------------------

    def _column(self, name: str, absent: str) -> str:
        """`name` where the capture has that column, else the SQL of its default (a file
        from before it was added)."""
        if self._frame_columns is None:
            self._frame_columns = {row[1] for row in self._db.execute("PRAGMA table_info(frames)")}
        return name if name in self._frame_columns else absent

    def _plain(self, sql: str, args=()) -> sqlite3.Cursor:
        cursor = self._db.cursor()
        cursor.row_factory = None  # tuples: no Row object per row
        return cursor.execute(sql, args)

    @staticmethod
    def _chunks(cursor: sqlite3.Cursor, chunk: int) -> Iterator[list[tuple]]:
        while True:
            rows = cursor.fetchmany(chunk)
            if not rows:
                return
            yield rows

    def index_actions(self) -> list[str | None]:
        """The actions of the capture; `frame_index` gives each frame's as a position in it."""
        return [row[0] for row in self._plain("SELECT DISTINCT action FROM frames ORDER BY 1")]

    def frame_index(self, actions: list[str | None], chunk: int = 100_000
                    ) -> Iterator[list[tuple]]:
        """The compact part of every frame, by id, `chunk` rows at a time, as tuples of
        INDEX_COLUMNS, numbers only: the type as a position in INDEX_TYPES, the action as
        one in `actions` (from `index_actions`). No raw text, no unique id (see `texts`),
        findings only as yes/no (see `findings`): enough to list, filter and pair a
        million frames quickly."""
        request = self._column("request_id", "NULL")

        def case(column: str, values) -> str:
            arms = " ".join(f"WHEN {_sql_text(v)} THEN {i}" for i, v in enumerate(values)
                            if v is not None)
            other = values.index(None) if None in values else -1
            return f"CASE {column} {arms} ELSE {other} END" if arms else str(other)
        cursor = self._plain(
            f"SELECT id, connection_id, time, direction = 'to_charger', {case('type', INDEX_TYPES)},"
            f" {case('action', actions)}, latency_ms, valid, flags != '[]', {request}"
            " FROM frames ORDER BY id")
        return self._chunks(cursor, chunk)

    def findings(self) -> Iterator[tuple]:
        """(id, errors, flags, flag codes) of the frames that have any, decoded."""
        codes = self._column("flag_codes", "'[]'")
        for frame_id, errors, found, flag_codes in self._plain(
                f"SELECT id, errors, flags, {codes} FROM frames"
                " WHERE errors != '[]' OR flags != '[]' ORDER BY id"):
            yield frame_id, json.loads(errors), json.loads(found), json.loads(flag_codes)

    def pairing_rows(self, before_id: int) -> Iterator[tuple]:
        """(id, connection_id, direction, type, unique_id) of the frames before `before_id`,
        for pairing a capture that did not store its pairing."""
        yield from self._plain("SELECT id, connection_id, direction, type, unique_id FROM frames"
                               " WHERE id < ? ORDER BY id", (before_id,))

    def frames_of(self, actions, chunk: int = 20_000) -> Iterator[list[tuple]]:
        """(id, connection_id, charge_point_id, time, type, action, raw, request_id) of the
        CALLs and CALLRESULTs of these actions, by id, a chunk at a time (meter values,
        statuses and charging profiles for the plot)."""
        marks = ",".join("?" * len(actions))
        cursor = self._plain(
            f"SELECT id, connection_id, charge_point_id, time, type, action, raw,"
            f" {self._column('request_id', 'NULL')} FROM frames"
            f" WHERE type IN ('CALL', 'CALLRESULT') AND action IN ({marks}) ORDER BY id",
            tuple(actions))
        return self._chunks(cursor, chunk)

    def texts(self, frame_ids) -> dict[int, tuple[str, str | None]]:
        """{id: (raw, unique_id)} for these frames (what a view shows of a row)."""
        frame_ids = list(frame_ids)
        found = {}
        for start in range(0, len(frame_ids), 500):
            part = frame_ids[start:start + 500]
            for frame_id, raw, unique_id in self._plain(
                    f"SELECT id, raw, unique_id FROM frames WHERE id IN ({','.join('?' * len(part))})",
                    part):
                found[frame_id] = (raw, unique_id)
        return found

    def search(self, text: str, first_id: int, last_id: int) -> list[int]:
        """Ids in [first_id, last_id] whose raw text holds `text`, ASCII case-insensitively
        (SQLite's lower() folds ASCII only, as the window's live search does)."""
        return [row[0] for row in self._plain(
            "SELECT id FROM frames WHERE id BETWEEN ? AND ? AND instr(lower(raw), ?) > 0"
            " ORDER BY id", (first_id, last_id, text.lower()))]

    def pairing_since(self) -> int | None:
        """The first frame id whose pairing the capture stores (`request_id`); None for a
        capture from before it was stored."""
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'pairing_since'").fetchone()
        except sqlite3.OperationalError:  # no meta table
            return None
        return int(row[0]) if row else None

    def frames(self, *, action: str | None = None, charge_point: str | None = None,
               invalid: bool = False, direction: str | None = None, type: str | None = None,
               text: str | None = None, after_id: int = 0, limit: int | None = None
               ) -> Iterator[dict]:
        """Frames in log order as export dicts, filtered."""
        where, args = ["id > ?"], [after_id]
        for column, value in (("action", action), ("charge_point_id", charge_point),
                              ("direction", direction), ("type", type)):
            if value:
                # an action typed in any case finds it ("bootnotification")
                where.append(f"{column} = ? COLLATE NOCASE" if column == "action" else f"{column} = ?")
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
        # the code of each flag, what code decides on (absent in files from before codes)
        "flag_codes": json.loads(row["flag_codes"]) if "flag_codes" in row.keys() else [],
        # the CALL a response answers, as paired live (absent before pairing was stored)
        "request_id": row["request_id"] if "request_id" in row.keys() else None,
        "raw": row["raw"],
        # what the sender wrote, when a proxy rule changed the frame (raw: what arrived)
        "original": row["original"] if "original" in row.keys() else None,
    }


def export_jsonl(capture: Capture, out, **filters) -> int:
    """Write one JSON object per frame to a text stream; returns the number written."""
    count = 0
    for item in capture.frames(**filters):
        out.write(json.dumps(item, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count
