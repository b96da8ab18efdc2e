"""The columnar frame store behind the table: filters must equal a plain Python loop."""

from __future__ import annotations

import random

import numpy as np
import pytest

from ui.framestore import FrameFilter, FrameStore, RowInput, find_all

ACTIONS = ["BootNotification", "Heartbeat", "MeterValues", "StatusNotification", None]
TYPES = ["CALL", "CALLRESULT", "CALLERROR", "MALFORMED"]


def synthetic(count: int, seed: int = 7) -> list[RowInput]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        action = rng.choice(ACTIONS)
        kind = rng.choice(TYPES)
        text = rng.choice(["Charging", "Faulted", "Available", "ÉNERGIE", "x"])
        raw = f'[2,"id{i}","{action}",{{"status":"{text}","n":{i}}}]'
        valid = rng.choice([True, False, None])
        flags = ["unanswered after 30 s"] if rng.random() < 0.05 else None
        rows.append(RowInput(i + 1, 1_700_000_000 + i, 1 + i % 3, f"CP{i % 5}", action,
                             rng.choice(["to_csms", "to_charger"]), kind, valid,
                             rng.random() * 10 if kind != "CALL" else None,
                             i if kind == "CALLRESULT" and i else None, f"id{i}", raw,
                             [{"path": "$.x", "message": "bad", "rule": "type",
                               "ocpp_error": "TypeConstraintViolation"}] if valid is False else None,
                             flags))
    return rows


def reference(rows: list[RowInput], flt: FrameFilter) -> list[int]:
    needle = flt.text.encode().lower()
    out = []
    for i, r in enumerate(rows):
        if flt.charge_point and r.charge_point_id != flt.charge_point:
            continue
        if flt.action and (r.action or "") != flt.action:
            continue
        if flt.direction and r.direction != flt.direction:
            continue
        if flt.type and r.type != flt.type:
            continue
        if flt.invalid_only and not (r.valid is False or r.flags):
            continue
        if needle and needle not in r.raw.encode().lower():
            continue
        out.append(i)
    return out


FILTERS = [
    FrameFilter(),
    FrameFilter(charge_point="CP3"),
    FrameFilter(charge_point="nope"),
    FrameFilter(action="MeterValues"),
    FrameFilter(direction="to_charger", type="CALLERROR"),
    FrameFilter(invalid_only=True),
    FrameFilter(text="faulted"),
    FrameFilter(text="CHARGING"),
    FrameFilter(text="énergie"),  # non-ASCII: matched exactly (ASCII case folding only)
    FrameFilter(text='"n":12'),
    FrameFilter(charge_point="CP1", text="available", invalid_only=True),
    FrameFilter(action="Heartbeat", text="id1"),
    FrameFilter(text="no such text"),
]


@pytest.fixture(scope="module")
def filled():
    rows = synthetic(30_000)
    store = FrameStore()
    for start in range(0, len(rows), 997):  # batches, like the UI timer
        store.append(rows[start:start + 997])
    return store, rows


@pytest.mark.parametrize("flt", FILTERS, ids=[repr(f) for f in FILTERS])
def test_select_matches_a_python_loop(filled, flt):
    store, rows = filled
    assert store.select(flt).tolist() == reference(rows, flt)


def test_incremental_select_equals_full_select(filled):
    store, rows = filled
    flt = FrameFilter(text="charging", direction="to_csms")
    pieces = [store.select(flt, start, min(start + 4096, store.count))
              for start in range(0, store.count, 4096)]
    assert np.concatenate(pieces).tolist() == store.select(flt).tolist()


def test_rows_read_back(filled):
    store, rows = filled
    for i in (0, 1, 12_345, len(rows) - 1):
        row = store.row(i)
        assert store.raw(i) == rows[i].raw
        assert (row.seq, row.charge_point_id, row.direction, row.type, row.unique_id) == \
            (rows[i].seq, rows[i].charge_point_id, rows[i].direction, rows[i].type, rows[i].unique_id)
        assert row.action == (rows[i].action or "")
        assert row.valid is rows[i].valid
        assert store.row_of_seq(rows[i].seq) == i


def test_pairing_and_flags():
    store = FrameStore()
    store.append([
        RowInput(1, 1.0, 1, "CP1", "Heartbeat", "to_csms", "CALL", True, None, None, "a",
                 '[2,"a","Heartbeat",{}]'),
        RowInput(2, 1.1, 1, "CP1", "Heartbeat", "to_charger", "CALLRESULT", True, 100.0, 1, "a",
                 '[3,"a",{"currentTime":"2026-01-01T00:00:00Z"}]'),
        RowInput(3, 2.0, 1, "CP1", "Reset", "to_charger", "CALL", True, None, None, "b",
                 '[2,"b","Reset",{"type":"Soft"}]'),
    ])
    assert store.paired_row(0) == 1 and store.paired_row(1) == 0
    assert store.paired_row(2) is None
    assert store.select(FrameFilter(invalid_only=True)).tolist() == []
    assert store.set_flags(3, ["unanswered after 30 s"]) == 2
    assert store.select(FrameFilter(invalid_only=True)).tolist() == [2]
    assert store.row(2).flags == ["unanswered after 30 s"]
    exported = store.export_row(1)
    assert exported["id"] == 2 and exported["latency_ms"] == 100.0 and exported["action"] == "Heartbeat"
    assert exported["time"].endswith("Z") and exported["raw"].startswith("[3,")


def test_find_all_is_case_insensitive_for_ascii_only():
    data = "xxABCabcAbC\x00éÉabc".encode()
    buffer = np.frombuffer(data, dtype=np.uint8)
    assert find_all(buffer, b"abc").tolist() == [2, 5, 8, 16]
    assert find_all(buffer, "é".encode()).tolist() == [12]
    assert find_all(buffer, b"zzzz").tolist() == []
    assert find_all(buffer[:2], b"abc").tolist() == []


def test_a_match_never_spans_two_frames():
    store = FrameStore()
    store.append([RowInput(1, 0.0, 1, "A", None, "to_csms", "CALL", None, None, None, None, "ab"),
                  RowInput(2, 0.0, 1, "A", None, "to_csms", "CALL", None, None, None, None, "cd")])
    assert store.select(FrameFilter(text="bc")).tolist() == []
    assert store.select(FrameFilter(text="cd")).tolist() == [1]


def test_unique_ids_read_back_from_the_raw_text_or_kept_when_they_cannot_be():
    """The store keeps no unique id it can read back from the frame itself."""
    store = FrameStore()
    cases = [('[2,"abc-1","Heartbeat",{}]', "abc-1"),
             ('[3,"abc-1",{}]', "abc-1"),
             ('[2, "spaced", "Heartbeat", {}]', "spaced"),
             ('[2,"q\\\\"uote","Heartbeat",{}]', 'q"uote'),
             ('[2,"back\\\\\\\\slash","Heartbeat",{}]', "back\\\\slash"),
             ('{"not": "a list"}', None),
             ('[2,"","Heartbeat",{}]', ""),
             ('[2,"x"', "x")]
    store.append([RowInput(i + 1, float(i), 1, "CP1", "Heartbeat", "to_csms", "CALL", True, None,
                           None, uid, raw) for i, (raw, uid) in enumerate(cases)])
    assert [store.unique_id(i) for i in range(len(cases))] == [uid for _raw, uid in cases]
    assert len(store._odd_uids) == 4  # spaced, quote, backslash, none
