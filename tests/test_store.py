"""The frame log: SQLite in WAL mode, batched writes, readable while written, JSONL export."""

import io
import json
import sqlite3

import pytest

from inspector.events import ConnectionClosed, ConnectionOpened, FrameLogged, Hub
from inspector.monitor import ConnectionMonitor
from inspector.store import Capture, CaptureWriter, export_jsonl
from tests.factories import BOOT_16, a_call, a_result, legacy_capture


def feed(hub, writer, frames):
    info = hub.new_connection("CP7", "proxy", version="1.6", subprotocol="ocpp1.6", opened_at=1.0)
    hub.publish(ConnectionOpened(info))
    m = ConnectionMonitor(info, hub.next_seq)
    for direction, text, t in frames:
        hub.publish(FrameLogged(m.observe(direction, text, t)))
    return info


def test_capture_is_wal_and_readable_while_written(tmp_path):
    """A reader sees committed frames while the writer is still open."""
    hub, path = Hub(), tmp_path / "c.db"
    writer = CaptureWriter(path)
    writer.attach(hub)
    feed(hub, writer, [("to_csms", a_call("BootNotification", BOOT_16, "b"), 1700000000.5)])
    writer.flush()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    capture = Capture(path)
    assert capture.count() == 1
    writer.close()


def test_export_has_every_documented_field(tmp_path):
    """Exported objects carry time, ids, direction, type, action, latency, validity, raw."""
    hub, path = Hub(), tmp_path / "c.db"
    writer = CaptureWriter(path)
    writer.attach(hub)
    info = feed(hub, writer, [
        ("to_csms", a_call("BootNotification", BOOT_16, "b"), 1700000000.5),
        ("to_charger", a_result({"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                                 "interval": "300"}, "b"), 1700000000.5123),
    ])
    info.closed_at, info.close_code = 1700000001.0, 1000
    hub.publish(ConnectionClosed(info))
    writer.close()
    out = io.StringIO()
    assert export_jsonl(Capture(path), out) == 2
    call, result = [json.loads(line) for line in out.getvalue().splitlines()]
    assert call["time"] == "2023-11-14T22:13:20.500000Z"
    assert (call["charge_point_id"], call["direction"], call["type"], call["unique_id"],
            call["action"], call["valid"], call["errors"]) == (
        "CP7", "to_csms", "CALL", "b", "BootNotification", True, [])
    assert result["action"] == "BootNotification" and result["latency_ms"] == pytest.approx(12.3)
    assert result["valid"] is False and result["errors"][0]["path"] == "$.interval"
    assert result["raw"] == a_result({"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                                      "interval": "300"}, "b")
    [connection] = Capture(path).connections()
    assert (connection["charge_point_id"], connection["subprotocol"], connection["close_code"]) == (
        "CP7", "ocpp1.6", 1000)
    # the pairing the live monitor decided is stored: the response names its CALL
    assert (call["request_id"], result["request_id"]) == (None, call["id"])
    assert Capture(path).pairing_since() == 1


def test_filters_select_frames(tmp_path):
    """Filters by action, charge point, invalid and text narrow the frames."""
    hub, path = Hub(), tmp_path / "c.db"
    writer = CaptureWriter(path)
    writer.attach(hub)
    feed(hub, writer, [("to_csms", a_call("Heartbeat", {}, "1"), 1.0),
                       ("to_csms", a_call("Authorize", {"idTag": "NEEDLE"}, "2"), 2.0),
                       ("to_csms", a_call("Authorize", {}, "3"), 3.0)])
    writer.close()
    capture = Capture(path)
    assert [f["unique_id"] for f in capture.frames(action="Authorize")] == ["2", "3"]
    assert [f["unique_id"] for f in capture.frames(text="NEEDLE")] == ["2"]
    assert [f["unique_id"] for f in capture.frames(invalid=True)] == ["2", "3"]  # 3 invalid, 2 second CALL
    assert list(capture.frames(charge_point="other")) == []


def test_opening_a_non_capture_is_a_clear_error(tmp_path):
    """A random file is refused with a message, not a traceback."""
    bogus = tmp_path / "x.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ValueError, match="not an OCPP Inspector capture"):
        Capture(bogus)
    with pytest.raises(FileNotFoundError):
        Capture(tmp_path / "missing.db")


def test_large_batches_keep_every_frame_in_order(tmp_path):
    """One batch larger than a multi-row INSERT, two connections interleaved: nothing lost."""
    hub, path = Hub(), tmp_path / "c.db"
    writer = CaptureWriter(path, flush_interval=0.2)
    writer.attach(hub)
    count = 2 * 1024 + 256 + 3 * 16 + 5  # spans every statement size
    first = feed(hub, writer, [("to_csms", a_call("Heartbeat", {}, f"a{i}"), 1.0 + i)
                               for i in range(count)])
    second = feed(hub, writer, [("to_csms", a_call("Heartbeat", {}, "z"), 9e9)])
    first.closed_at, first.close_code = 5.0, 1000
    hub.publish(ConnectionClosed(first))
    writer.close()
    capture = Capture(path)
    rows = list(capture.frames())
    assert len(rows) == count + 1
    assert [r["unique_id"] for r in rows[:count]] == [f"a{i}" for i in range(count)]
    assert rows[-1]["unique_id"] == "z" and second.id != first.id
    assert [c["close_code"] for c in capture.connections()] == [1000, None]


def test_flags_are_stored_with_their_codes_and_old_captures_still_read(tmp_path):
    from inspector import flags
    from inspector.events import Hub
    from inspector.monitor import ConnectionMonitor
    from inspector.events import FrameLogged
    from inspector.store import Capture, CaptureWriter
    path = tmp_path / "capture.db"
    hub = Hub()
    writer = CaptureWriter(path)
    writer.attach(hub)
    info = hub.new_connection("CP1", "csms", subprotocol="ocpp1.6", version="1.6")
    monitor = ConnectionMonitor(info, hub.next_seq)
    for raw in ('[2,"a","Heartbeat",{}]', '[2,"a","Heartbeat",{}]', '[2,"b","Teleport",{}]'):
        hub.publish(FrameLogged(monitor.observe("to_csms", raw, 0.0)))
    writer.close()
    capture = Capture(path)
    rows = list(capture.frames())
    capture.close()
    assert rows[1]["flag_codes"] == ["duplicate-id"] and rows[1]["flags"][0].startswith("duplicate")
    assert flags.UNKNOWN_ACTION in rows[2]["flag_codes"]
    restored = flags.restore(rows[1]["flags"], rows[1]["flag_codes"])
    assert restored[0].code == flags.DUPLICATE_ID and restored == rows[1]["flags"]
    # a capture written before codes existed: codes come from the wording, once, on reading
    old = tmp_path / "old.db"
    legacy_capture(old, [(1, 0, "to_csms", "CALL", "x", "Heartbeat", None, 1,
                          '["unanswered after 30 s"]', '[2,"x","Heartbeat",{}]')])
    legacy = Capture(old)
    assert legacy.pairing_since() is None  # from before pairing was stored: paired on reading
    row = next(legacy.frames())
    legacy.close()
    assert row["flag_codes"] == [] and flags.restore(row["flags"], [])[0].code == flags.UNANSWERED
