"""5,000 frames/s through hub → window → model while measuring event-loop lag.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.ui_feed [SECONDS] [RATE] [hidden]

With `hidden` the window is not shown: the hub → session → model path without painting.

The real main window runs on the qasync loop with a capture writer attached, the table
following new rows. Frames (pre-built by the core's ConnectionMonitor, so validation is
not part of the figure) are published on the hub at RATE frames/s in 2 ms steps. Lag is
measured twice, each time by an asyncio sleeper (asked for 10 ms) and a 10 ms QTimer:
first with the window idle (baseline), then under the feed. Reported: p50/p99/max lag,
the ratio to the idle baseline, frames that reached the model, and the UI time per batch.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RATE = 5_000
SECONDS = 6.0
PROBE = 0.010


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def build_records(hub, count: int):
    from inspector.monitor import ConnectionMonitor

    monitors = []
    for n in range(50):
        info = hub.new_connection(f"CP{n:03d}", "proxy", version="1.6", subprotocol="ocpp1.6",
                                  opened_at=time.time())
        monitors.append(ConnectionMonitor(info, hub.next_seq))
    records = []
    stamp = "2026-11-25T10:00:00.000Z"
    for i in range(count // 2):
        monitor = monitors[i % len(monitors)]
        value = f"{i * 3 % 100000}"
        call = (f'[2,"u{i}","MeterValues",{{"connectorId":1,"meterValue":[{{"timestamp":"{stamp}",'
                f'"sampledValue":[{{"value":"{value}","measurand":"Energy.Active.Import.Register",'
                f'"unit":"Wh"}}]}}]}}]') if i % 4 == 0 else f'[2,"u{i}","Heartbeat",{{}}]'
        records.append(monitor.observe("to_csms", call, time.time()))
        result = '[3,"u%d",{}]' % i if i % 4 == 0 else \
            '[3,"u%d",{"currentTime":"%s"}]' % (i, stamp)
        records.append(monitor.observe("to_charger", result, time.time()))
    return records


async def probe(seconds: float, stop_feed=None) -> tuple[list[float], list[float]]:
    """Lag samples (ms) of an asyncio sleeper and of a QTimer, for `seconds`."""
    from PySide6.QtCore import QTimer

    timer_lags: list[float] = []
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        timer_lags.append(max(0.0, (now - last[0] - PROBE) * 1000))
        last[0] = now
    timer = QTimer()
    timer.setInterval(int(PROBE * 1000))
    timer.timeout.connect(tick)
    timer.start()
    sleep_lags = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        await asyncio.sleep(PROBE)
        sleep_lags.append(max(0.0, (time.perf_counter() - started - PROBE) * 1000))
    timer.stop()
    return sleep_lags, timer_lags[1:]


async def feed(hub, records, rate: int, seconds: float) -> int:
    from inspector.events import FrameLogged

    publish = hub.publish
    step = 0.002
    per_step = rate * step
    sent = 0
    started = time.perf_counter()
    end = started + seconds
    while time.perf_counter() < end and sent < len(records):
        due = int((time.perf_counter() - started) * rate)
        while sent < min(due, len(records)):
            publish(FrameLogged(records[sent]))
            sent += 1
        await asyncio.sleep(step if per_step >= 1 else 1 / rate)
    return sent


def summary(name: str, lags: list[float]) -> str:
    return (f"{name:<22} p50 {percentile(lags, 0.5):6.2f} ms   p99 {percentile(lags, 0.99):6.2f} ms"
            f"   max {max(lags) if lags else float('nan'):6.2f} ms   ({len(lags)} samples)")


def main(argv) -> None:
    import qasync
    from PySide6.QtCore import QSettings

    from inspector.events import Hub
    from ui.app import create_application
    from ui.mainwindow import MainWindow

    seconds = float(argv[0]) if argv else SECONDS
    rate = int(argv[1]) if len(argv) > 1 else RATE
    hidden = "hidden" in argv[2:]
    app = create_application([])
    loop = qasync.QEventLoop(app)
    hub = Hub()
    print(f"building {int(rate * seconds):,} frames…", flush=True)
    records = build_records(hub, int(rate * seconds) + rate)
    # the pre-built frames are harness data: keep them out of the GC's full collections,
    # as run_gui() does for everything that exists at startup
    gc.collect()
    gc.freeze()
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(loop, settings=settings, capture_path=Path(folder) / "bench.db",
                            hub=hub)
        window.resize(1400, 900)
        if not hidden:
            window.show()
        window.ensure_capture()
        drain_times: list[float] = []
        original = window.drain

        def timed_drain() -> None:
            started = time.perf_counter()
            original()
            drain_times.append((time.perf_counter() - started) * 1000)
        window._batch_timer.timeout.disconnect()
        window._batch_timer.timeout.connect(timed_drain)

        async def run():
            await asyncio.sleep(0.5)
            idle = await probe(min(3.0, seconds))
            drain_times.clear()
            started = time.perf_counter()
            feeding = asyncio.ensure_future(feed(hub, records, rate, seconds))
            loaded = await probe(seconds)
            sent = await feeding
            elapsed = time.perf_counter() - started
            await asyncio.sleep(0.2)
            shown = window.model.rowCount()
            await window.shutdown()
            return idle, loaded, sent, elapsed, shown

        idle, loaded, sent, elapsed, shown = loop.run_until_complete(
            asyncio.wait_for(run(), seconds * 4 + 60))
        window.close()
    loop.close()
    print(f"\nwindow {'hidden (no painting)' if hidden else 'shown, 1400x900, following'}")
    print(f"fed {sent:,} frames in {elapsed:.2f} s = {sent / elapsed:,.0f} frames/s "
          f"(target {rate:,}); {shown:,} rows in the model")
    busy = [t for t in drain_times if t > 0.05]
    print(f"UI batch (ingest + insert + follow + views): p50 {percentile(busy, 0.5):.1f} ms, "
          f"p99 {percentile(busy, 0.99):.1f} ms, max {max(busy) if busy else 0:.1f} ms "
          f"over {len(busy)} batches every 50 ms")
    print(summary("idle  asyncio sleep", idle[0]))
    print(summary("idle  QTimer 10 ms", idle[1]))
    print(summary("5k/s  asyncio sleep", loaded[0]))
    print(summary("5k/s  QTimer 10 ms", loaded[1]))
    for name, base, under in (("asyncio", idle[0], loaded[0]), ("QTimer", idle[1], loaded[1])):
        b99, u99 = percentile(base, 0.99), percentile(under, 0.99)
        print(f"{name}: p99 lag under feed {u99:.1f} ms vs idle {b99:.1f} ms "
              f"(+{u99 - b99:.1f} ms, ratio {u99 / max(b99, 0.1):.1f}x; target p99 < 50 ms)")


if __name__ == "__main__":
    main(sys.argv[1:])
