"""Small builders of OCPP-J frame texts, shared by the tests."""

import json


def a_call(action: str, payload: dict | None = None, unique_id: str = "1") -> str:
    return json.dumps([2, unique_id, action, payload or {}])


def a_result(payload: dict | None = None, unique_id: str = "1") -> str:
    return json.dumps([3, unique_id, payload or {}])


def an_error(code: str = "GenericError", unique_id: str = "1") -> str:
    return json.dumps([4, unique_id, code, "", {}])


BOOT_16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}


def legacy_capture(path, frames: list[tuple], connection_closed_at=None) -> None:
    """A capture file as ocpp-inspector wrote them before flag codes and stored pairing:
    one connection (CP1, csms, ocpp1.6) and `frames` as (id, time, direction, type,
    unique_id, action, latency_ms, valid, flags JSON, raw)."""
    import sqlite3
    db = sqlite3.connect(path)
    db.executescript("""CREATE TABLE connections (id INTEGER PRIMARY KEY, charge_point_id TEXT NOT NULL,
        role TEXT NOT NULL, subprotocol TEXT, remote_address TEXT, opened_at REAL, closed_at REAL,
        close_code INTEGER, close_reason TEXT, note TEXT);
        CREATE TABLE frames (id INTEGER PRIMARY KEY, connection_id INTEGER NOT NULL,
        charge_point_id TEXT NOT NULL, time REAL NOT NULL, direction TEXT NOT NULL, type TEXT NOT NULL,
        unique_id TEXT, action TEXT, latency_ms REAL, valid INTEGER, errors TEXT NOT NULL DEFAULT '[]',
        flags TEXT NOT NULL DEFAULT '[]', raw TEXT NOT NULL);""")
    db.execute("INSERT INTO connections VALUES (1, 'CP1', 'csms', 'ocpp1.6', NULL, 0, ?, ?, NULL,"
               " NULL)", (connection_closed_at, None if connection_closed_at is None else 1000))
    db.executemany("INSERT INTO frames VALUES (?, 1, 'CP1', ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)", frames)
    db.commit()
    db.close()
