"""The Meter values plot with a big fleet's history: 1,000 curves x 10,000 points.

Measures, offscreen, what the window pays: the first draw of every curve, and a live
refresh (one new reading per curve, the plot updated and painted), with the time window
on "last 5 min" and on "all". The baseline, in the same run, is plain pyqtgraph drawing
the same curves without clipping or decimation.

    QT_QPA_PLATFORM=offscreen python -m benchmarks.ui_plot [--curves 1000] [--points 10000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from array import array

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

START = 1_795_600_800.0


def _data(curves: int, points: int):
    from ui.metering import MeterData, Series

    data = MeterData()
    times = START + np.arange(points, dtype=float) * 10
    for c in range(curves):
        values = 7.0 + np.sin(np.arange(points) / 50 + c) + c / 1000
        key = (f"CP{c:05d}", 1, "Power.Active.Import", None)
        data.series[key] = Series("Power.Active.Import", "kW", array("d", times), array("d", values))
        data.changed.add(key)
    data.units["Power.Active.Import"] = "kW"
    return data


def _timed(function) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui_plot")
    parser.add_argument("--curves", type=int, default=1000)
    parser.add_argument("--points", type=int, default=10_000)
    args = parser.parse_args(argv)
    import pyqtgraph as pg

    from ui.app import create_application
    from ui.plot import MeterPlot

    app = create_application([])
    data = _data(args.curves, args.points)
    plot = MeterPlot()
    plot.resize(1400, 700)
    plot.show()
    app.processEvents()

    first = _timed(lambda: (plot.set_data(data), plot.grab()))

    def refresh(seconds):
        plot.set_window(seconds)
        plot.grab()
        latest = data.series[next(iter(data.series))].times[-1]
        for key, series in data.series.items():
            series.times.append(latest + 10)
            series.values.append(series.values[-1])
            data.changed.add(key)
        return _timed(lambda: (plot.flush(), plot.grab()))

    window_5min = min(refresh(300.0) for _ in range(3))
    window_all = min(refresh(None) for _ in range(3))

    baseline = pg.PlotWidget()
    baseline.resize(1400, 700)
    baseline.show()
    app.processEvents()

    def plain():
        for series in data.series.values():
            baseline.plot(np.array(series.times), np.array(series.values), pen=pg.mkPen("b"))
        baseline.grab()
    plain_first = _timed(plain)
    plain_repaint = _timed(baseline.grab)

    points = args.curves * args.points
    print(f"{args.curves:,} curves x {args.points:,} points ({points / 1e6:.0f} M points), "
          f"offscreen {plot.width()}x{plot.height()}")
    print(f"first draw (picker + curves + paint): {first:.2f} s;  plain pyqtgraph {plain_first:.2f} s "
          f"({plain_first / first:.1f}x ours)")
    print(f"live refresh, window last 5 min: {window_5min * 1000:.0f} ms;  window all: "
          f"{window_all * 1000:.0f} ms;  plain pyqtgraph repaint alone {plain_repaint * 1000:.0f} ms "
          f"({plain_repaint / window_all:.1f}x ours)")
    plot._last_update = window_all - plot.plot.last_paint  # as a live refresh measures it
    interval = plot._interval()
    print(f"last paint {plot.plot.last_paint * 1000:.0f} ms; with this many curves the plot "
          f"refreshes every {interval} ms, so it takes {window_all / (interval / 1000) * 100:.0f}% "
          f"of the window's thread at most")


if __name__ == "__main__":
    main(sys.argv[1:])
