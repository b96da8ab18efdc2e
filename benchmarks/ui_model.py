"""The frame log model at 1,000,000 frames: ingest, filters, table paint.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.ui_model [COUNT]

Every filter is timed against a baseline measured in the same run on the same data: a
plain Python loop over the rows (what a list of records + QSortFilterProxyModel-style
row-by-row predicate would cost at best). Target: each filter well under a second.
"""

from __future__ import annotations

import gc
import os
import random
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

COUNT = 1_000_000
BATCH = 250  # frames per UI tick at 5,000 frames/s
ACTIONS = ("Heartbeat", "MeterValues", "StatusNotification", "TransactionEvent", "Authorize",
           "BootNotification", "DataTransfer", "StartTransaction", "StopTransaction",
           "GetConfiguration", "ChangeConfiguration", "Reset")
STATUSES = ("Available", "Preparing", "Charging", "SuspendedEV", "Finishing", "Faulted")


def synthetic(count: int, seed: int = 1):
    """Realistic-looking rows: 200 charge points, CALL/CALLRESULT pairs, ~2 % invalid."""
    from ui.framestore import RowInput

    rng = random.Random(seed)
    rows = []
    t0 = 1_790_000_000.0
    for i in range(0, count, 2):
        cp = f"CP{rng.randrange(200):04d}"
        action = rng.choice(ACTIONS)
        uid = f"{rng.getrandbits(64):016x}-{i:08d}"
        moment = t0 + i * 0.0002
        if action == "MeterValues":
            payload = (f'{{"connectorId":1,"transactionId":{i},"meterValue":[{{"timestamp":'
                       f'"2026-11-25T10:00:00.000Z","sampledValue":[{{"value":"{i * 7 % 90000}",'
                       f'"measurand":"Energy.Active.Import.Register","unit":"Wh"}},{{"value":'
                       f'"{7000 + i % 360}","measurand":"Power.Active.Import","unit":"W"}}]}}]}}')
        elif action == "StatusNotification":
            payload = (f'{{"connectorId":1,"errorCode":"NoError","status":"{rng.choice(STATUSES)}",'
                       f'"timestamp":"2026-11-25T10:00:00.000Z"}}')
        else:
            payload = f'{{"seq":{i},"note":"synthetic {action} frame"}}'
        invalid = rng.random() < 0.02
        rows.append(RowInput(i + 1, moment, 1 + i % 200, cp, action, "to_csms", "CALL",
                             not invalid, None, None, uid, f'[2,"{uid}","{action}",{payload}]',
                             [{"path": "$.connectorId", "message": "'x' is not of type 'integer'",
                               "rule": "type", "ocpp_error": "TypeConstraintViolation"}]
                             if invalid else None,
                             ["unanswered after 30 s"] if rng.random() < 0.002 else None))
        rows.append(RowInput(i + 2, moment + 0.004, 1 + i % 200, cp, action, "to_charger",
                             "CALLRESULT", True, 4.0, i + 1, uid,
                             f'[3,"{uid}",{{"currentTime":"2026-11-25T10:00:00.000Z"}}]'))
    return rows[:count]


def python_filter(rows, flt) -> list[int]:
    """Baseline: the same predicate, row by row, in plain Python."""
    needle = flt.text.lower()
    out = []
    for i, r in enumerate(rows):
        if flt.charge_point and r.charge_point_id != flt.charge_point:
            continue
        if flt.action and r.action != flt.action:
            continue
        if flt.direction and r.direction != flt.direction:
            continue
        if flt.type and r.type != flt.type:
            continue
        if flt.invalid_only and not (r.valid is False or r.flags):
            continue
        if needle and needle not in r.raw.lower():
            continue
        out.append(i)
    return out


def proxy_filter_seconds(rows, flt) -> tuple[float, int]:
    """Second baseline: a list model behind QSortFilterProxyModel with a Python predicate."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel

    class ListModel(QAbstractTableModel):
        def rowCount(self, parent=QModelIndex()):  # noqa: N802
            return 0 if parent.isValid() else len(rows)

        def columnCount(self, parent=QModelIndex()):  # noqa: N802
            return 0 if parent.isValid() else 9

        def data(self, index, role=0):
            return None

    needle = flt.text.lower()

    class Proxy(QSortFilterProxyModel):
        def filterAcceptsRow(self, source_row, parent):  # noqa: N802
            r = rows[source_row]
            return ((not flt.charge_point or r.charge_point_id == flt.charge_point)
                    and (not flt.action or r.action == flt.action)
                    and (not flt.invalid_only or r.valid is False or bool(r.flags))
                    and (not needle or needle in r.raw.lower()))

    source = ListModel()
    proxy = Proxy()
    started = time.perf_counter()
    proxy.setSourceModel(source)  # filters every row once
    count = proxy.rowCount()
    return time.perf_counter() - started, count


def best(function, repeat: int = 3) -> tuple[float, object]:
    result, fastest = None, float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        fastest = min(fastest, time.perf_counter() - started)
    return fastest, result


def main(argv) -> None:
    from PySide6.QtWidgets import QApplication

    from ui.framelog import FrameTable
    from ui.framestore import FrameFilter, FrameStore
    from ui.model import FrameTableModel

    count = int(argv[0]) if argv else COUNT
    app = QApplication.instance() or QApplication([])
    print(f"generating {count:,} synthetic frames…", flush=True)
    rows = synthetic(count)
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    store = FrameStore()
    started = time.perf_counter()
    for start in range(0, count, BATCH):
        store.append(rows[start:start + BATCH])
    ingest = time.perf_counter() - started
    raw_mb = store._raw.n / 1e6  # noqa: SLF001 - report the buffer size
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ingest: {count / ingest:,.0f} frames/s in batches of {BATCH} "
          f"({ingest * 1e6 / (count / BATCH):,.0f} µs per batch); raw text {raw_mb:,.0f} MB; "
          f"peak RSS grew {rss_after - rss_before:,.0f} MB")

    model = FrameTableModel(store)
    table = FrameTable(model)
    table.resize(1200, 700)
    table.show()
    app.processEvents()

    target_uid = rows[count // 2].unique_id
    filters = [
        ("charge point", FrameFilter(charge_point="CP0042")),
        ("action", FrameFilter(action="StatusNotification")),
        ("direction+type", FrameFilter(direction="to_charger", type="CALLRESULT")),
        ("invalid only", FrameFilter(invalid_only=True)),
        ("text, rare (one unique id)", FrameFilter(text=target_uid)),
        ("text, common ('faulted')", FrameFilter(text="faulted")),
        ("text, very common ('energy')", FrameFilter(text="ENERGY")),
        ("cp + action + text", FrameFilter(charge_point="CP0042", action="MeterValues",
                                           text="power.active")),
    ]
    print(f"\n{'filter':<30} {'rows':>9} {'ours':>9} {'python':>9} {'speed-up':>9} "
          f"{'model reset':>12}")
    worst = 0.0
    for name, flt in filters:
        ours, selected = best(lambda: store.select(flt))
        baseline, expected = best(lambda: python_filter(rows, flt), repeat=1)
        assert selected.tolist() == expected, name
        reset = model.set_filter(flt)
        started = time.perf_counter()
        app.processEvents()  # the view catching up after the reset
        reset += time.perf_counter() - started
        worst = max(worst, reset)
        print(f"{name:<30} {len(selected):>9,} {ours * 1000:>7.1f}ms {baseline * 1000:>7.0f}ms "
              f"{baseline / ours:>8.0f}x {reset * 1000:>10.1f}ms")
    print(f"worst filter incl. model reset and repaint: {worst * 1000:.0f} ms (target < 1000 ms)")

    print("\nQSortFilterProxyModel over a list model, Python filterAcceptsRow (the usual design):")
    for name, flt in (filters[0], filters[5]):
        seconds, shown = proxy_filter_seconds(rows, flt)
        ours, selected = best(lambda: store.select(flt))
        assert shown == len(selected), name
        print(f"{name:<30} {shown:>9,} rows: proxy {seconds * 1000:,.0f} ms vs ours "
              f"{ours * 1000:.1f} ms = {seconds / ours:,.0f}x")

    model.set_filter(FrameFilter())
    started = time.perf_counter()
    table.scrollToBottom()
    app.processEvents()
    table.viewport().grab()
    paint = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        table.verticalScrollBar().setValue(random.randrange(count))
        table.viewport().grab()
    scroll = (time.perf_counter() - started) / 20
    extra = synthetic(BATCH, seed=9)
    extra = [r._replace(seq=r.seq + count + 10) for r in extra]
    started = time.perf_counter()
    new = store.append(extra)
    model.rows_appended(new)
    table.scrollToBottom()
    app.processEvents()
    insert = time.perf_counter() - started
    print(f"\ntable at {model.rowCount():,} rows: scroll to bottom + paint {paint * 1000:.1f} ms; "
          f"random jump + paint {scroll * 1000:.1f} ms; append {BATCH} rows + insert + follow "
          f"{insert * 1000:.1f} ms (one 50 ms tick's budget)")
    table.close()


if __name__ == "__main__":
    main(sys.argv[1:])
