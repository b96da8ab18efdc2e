"""Frame log ingest and export, against raw SQLite on the same rows.

    python -m benchmarks.store
"""

from __future__ import annotations

import io
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from inspector.events import FrameLogged, Hub
from inspector.monitor import ConnectionMonitor
from inspector.store import _SCHEMA, Capture, CaptureWriter, export_jsonl

COUNT = 200_000


def records(hub: Hub, count: int):
    info = hub.new_connection("CP1", "proxy", version="1.6", subprotocol="ocpp1.6", opened_at=0.0)
    monitor = ConnectionMonitor(info, hub.next_seq, validate_schemas=False)
    out = []
    for i in range(count // 2):
        out.append(monitor.observe("to_csms", f'[2,"{i}","Heartbeat",{{}}]', i * 0.01))
        out.append(monitor.observe("to_charger", f'[3,"{i}",{{"currentTime":"2026-11-25T10:00:00Z"}}]',
                                   i * 0.01 + 0.001))
    return out


def main(argv) -> None:
    hub = Hub()
    data = records(hub, COUNT)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        writer = CaptureWriter(path)
        writer.attach(hub)
        start = time.perf_counter()
        for record in data:
            hub.publish(FrameLogged(record))
        enqueue = time.perf_counter() - start
        writer.flush(timeout=120)
        ours = time.perf_counter() - start
        writer.close()
        # baseline: the same row tuples straight into SQLite, one transaction
        rows = [writer._frame_values(r) for r in data]  # noqa: SLF001 - the same rows
        raw = sqlite3.connect(Path(folder) / "raw.db")
        raw.execute("PRAGMA journal_mode=WAL")
        raw.executescript(_SCHEMA)
        raw.execute("INSERT INTO connections (id, charge_point_id, role) VALUES (1, 'CP1', 'proxy')")
        start = time.perf_counter()
        with raw:
            raw.executemany(f"INSERT INTO frames VALUES ({','.join('?' * len(rows[0]))})", rows)
        baseline = time.perf_counter() - start
        print(f"ingest: {COUNT / ours:,.0f} frames/s (hot path enqueue {COUNT / enqueue:,.0f}/s);"
              f" raw SQLite executemany {COUNT / baseline:,.0f}/s; ratio {baseline / ours:.2f}x"
              "   (target >= 50,000/s)")
        capture = Capture(path)
        start = time.perf_counter()
        exported = export_jsonl(capture, io.StringIO())
        ours = time.perf_counter() - start
        start = time.perf_counter()
        plain = sum(1 for _ in raw.execute("SELECT * FROM frames"))
        baseline = time.perf_counter() - start
        assert exported == plain == COUNT
        print(f"export: {COUNT / ours:,.0f} frames/s as JSONL; raw SELECT {COUNT / baseline:,.0f}/s;"
              f" ratio {baseline / ours:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
