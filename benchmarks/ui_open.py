"""Opening a big capture in the window: how long until a million frames are browsable, and
what they cost in memory.

A capture of N frames (100 charge points; Heartbeat, StatusNotification and MeterValues
calls with their answers, paired as the live monitor stores them) is written straight
into SQLite, then opened the way File › Open does (ui.session.SessionData.load_capture):
the frame table first, meter values and statuses after. The baseline, in the same run, is
reading the same rows from SQLite into Python tuples and nothing else.

    python -m benchmarks.ui_open [--frames 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_capture(path: Path, frames: int) -> None:
    from inspector.store import CaptureWriter

    CaptureWriter(path).close()  # the schema, as a role would create it
    db = sqlite3.connect(path)
    db.executemany("INSERT INTO connections (id, charge_point_id, role, subprotocol, opened_at)"
                   " VALUES (?,?,?,?,?)",
                   [(c + 1, f"CP{c:04d}", "csms", "ocpp1.6", 1_700_000_000.0) for c in range(100)])
    rows, start = [], 1_700_000_000.0
    meter = json.dumps({"connectorId": 1, "transactionId": 7, "meterValue": [
        {"timestamp": "2026-11-30T10:00:00Z", "sampledValue": [
            {"value": "1234", "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]})
    status = json.dumps({"connectorId": 1, "errorCode": "NoError", "status": "Charging"})
    for i in range(0, frames, 2):
        cp = (i // 2) % 100
        moment = start + i * 0.001
        kind = (i // 2) % 10
        action, payload = (("MeterValues", meter) if kind < 5 else
                           ("StatusNotification", status) if kind < 6 else ("Heartbeat", "{}"))
        uid = f"u{i}"
        rows.append((i + 1, cp + 1, f"CP{cp:04d}", moment, "to_csms", "CALL", uid, action, None, 1,
                     "[]", "[]", f'[2,"{uid}","{action}",{payload}]', "[]", None))
        answer = '{"currentTime":"2026-11-30T10:00:00Z"}' if action == "Heartbeat" else "{}"
        rows.append((i + 2, cp + 1, f"CP{cp:04d}", moment + 0.0004, "to_charger", "CALLRESULT",
                     uid, action, 0.4, 1, "[]", "[]", f'[3,"{uid}",{answer}]', "[]", i + 1))
        if len(rows) >= 100_000:
            db.executemany("INSERT INTO frames VALUES (" + ",".join("?" * 15) + ")", rows)
            rows = []
    if rows:
        db.executemany("INSERT INTO frames VALUES (" + ",".join("?" * 15) + ")", rows)
    db.commit()
    db.close()


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui_open")
    parser.add_argument("--frames", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    from inspector.store import Capture
    from ui.session import open_capture_session

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.db"
        write_capture(path, args.frames)
        before = rss_mb()
        capture = Capture(path)
        started = time.perf_counter()
        session, loader = open_capture_session(capture, path.name, path)
        for _ in loader.frames():
            pass
        browsable = time.perf_counter() - started
        for _ in loader.payloads():
            pass
        complete = time.perf_counter() - started
        after = rss_mb()
        sample = session.store.raw(args.frames // 2)  # read from the file on demand
        assert sample.startswith("[")
        capture.close()
        db = sqlite3.connect(path)
        started = time.perf_counter()
        plain = db.execute("SELECT * FROM frames").fetchall()
        baseline = time.perf_counter() - started
        assert len(plain) == session.store.count == args.frames
        points = session.meters.point_count()
    millions = args.frames / 1e6
    print(f"{args.frames:,} frames: browsable (frame table) in {browsable:.2f} s, meter values and "
          f"statuses read by {complete:.2f} s ({points:,} points)")
    print(f"baseline: SELECT * into Python tuples {baseline:.2f} s; ratio "
          f"{baseline / browsable:.2f}x (target: browsable within 3 s)")
    print(f"memory: +{after - before:.0f} MB for the session, "
          f"{(after - before) / millions:.0f} MB per million frames "
          f"({(after - before) * 1024 * 1024 / args.frames:.0f} bytes per frame)")


if __name__ == "__main__":
    main(sys.argv[1:])
