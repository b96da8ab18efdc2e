"""Several captures read as one: the workers of `fleet --workers` and `csms --workers` each
write their own, and `log show`, `log export` and the window open them together.

The frames of every file are merged in time order into one capture file and numbered anew;
connection ids and the stored pairing (a response's `request_id`) are renumbered with them,
so the merged file reads exactly like one written live.
"""

from __future__ import annotations

import heapq
import sqlite3
from pathlib import Path

from .store import _connect

_FRAME_COLUMNS = ("id", "connection_id", "charge_point_id", "time", "direction", "type",
                  "unique_id", "action", "latency_ms", "valid", "errors", "flags", "raw",
                  "flag_codes", "request_id", "original")
_CONNECTION_COLUMNS = ("id", "charge_point_id", "role", "subprotocol", "remote_address",
                       "opened_at", "closed_at", "close_code", "close_reason", "note")
_BATCH = 5000


class MergeError(ValueError):
    """A file that is not a capture (one line for the user)."""


def merge_captures(paths, out: str | Path) -> int:
    """Write the frames of `paths` merged by time into the new capture `out`; returns how many."""
    out = Path(out)
    if out.exists():
        raise MergeError(f"{out} exists: merge into a new file")
    sources = []
    for path in paths:
        if not Path(path).is_file():
            raise MergeError(f"no capture file {path}")
        try:
            db = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
            db.execute("SELECT id FROM frames LIMIT 1")
        except sqlite3.Error as exc:
            raise MergeError(f"{path} is not a capture file: {exc}") from None
        sources.append(db)
    target = _connect(out)
    try:
        connection_ids = _copy_connections(sources, target)
        count = _copy_frames(sources, target, connection_ids)
        target.commit()
    finally:
        target.close()
        for db in sources:
            db.close()
    return count


def _columns(db: sqlite3.Connection, table: str, wanted) -> list[str]:
    have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
    return [c if c in have else "NULL" for c in wanted]


def _copy_connections(sources, target) -> list[dict[int, int]]:
    """Every file's connections, renumbered in order of opening; old id -> new, per file."""
    rows = []
    for index, db in enumerate(sources):
        columns = _columns(db, "connections", _CONNECTION_COLUMNS)
        for row in db.execute(f"SELECT {', '.join(columns)} FROM connections"):
            rows.append((row[5] or 0.0, index, row))
    rows.sort(key=lambda item: (item[0], item[1], item[2][0]))
    mapping: list[dict[int, int]] = [{} for _ in sources]
    placeholders = ",".join("?" * len(_CONNECTION_COLUMNS))
    for new_id, (_, index, row) in enumerate(rows, 1):
        mapping[index][row[0]] = new_id
        target.execute(f"INSERT INTO connections ({', '.join(_CONNECTION_COLUMNS)}) "
                       f"VALUES ({placeholders})", (new_id, *row[1:]))
    return mapping


def _copy_frames(sources, target, connection_ids) -> int:
    streams = []
    for index, db in enumerate(sources):
        columns = _columns(db, "frames", _FRAME_COLUMNS)
        cursor = db.execute(f"SELECT {', '.join(columns)} FROM frames ORDER BY time, id")
        streams.append(_keyed(cursor, index))
    frame_ids: list[dict[int, int]] = [{} for _ in sources]
    placeholders = ",".join("?" * len(_FRAME_COLUMNS))
    sql = f"INSERT INTO frames ({', '.join(_FRAME_COLUMNS)}) VALUES ({placeholders})"
    batch, count = [], 0
    for _, index, _, row in heapq.merge(*streams, key=lambda item: item[:3]):
        count += 1
        frame_ids[index][row[0]] = count
        values = list(row)
        values[0] = count
        values[1] = connection_ids[index].get(row[1], row[1])
        values[14] = frame_ids[index].get(row[14]) if row[14] is not None else None
        values[10] = values[10] or "[]"
        values[11] = values[11] or "[]"
        values[13] = values[13] or "[]"
        batch.append(values)
        if len(batch) >= _BATCH:
            target.executemany(sql, batch)
            batch.clear()
    if batch:
        target.executemany(sql, batch)
    if all(_paired_from_the_start(db) for db in sources):  # else readers pair on reading
        target.execute("INSERT OR REPLACE INTO meta VALUES ('pairing_since', '1')")
    return count


def _keyed(cursor, index: int):
    """A file's frames as (time, file, id, row): what the merge orders by."""
    for row in cursor:
        yield row[3], index, row[0], row


def _paired_from_the_start(db) -> bool:
    """Every frame of this file has its pairing stored (no frames from before that)."""
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'pairing_since'").fetchone()
    except sqlite3.Error:
        return False
    first = db.execute("SELECT min(id) FROM frames").fetchone()[0]
    return row is not None and (first is None or int(row[0]) <= first)
