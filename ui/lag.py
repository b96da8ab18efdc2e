"""How responsive the window is, measured: the delay of a timer the Qt thread should run
every `interval_ms`. A lag of 100 ms is a click that feels stuck.

`OCPP_INSPECTOR_LAG_FILE=PATH` makes the window write the figures there as JSON when it
closes (the GUI benchmark reads them: benchmarks/gui_load.py).
"""

from __future__ import annotations

import json
import os
import time
from collections import deque

from PySide6.QtCore import QObject, QTimer

LAG_FILE_VARIABLE = "OCPP_INSPECTOR_LAG_FILE"


class LagMeter(QObject):
    def __init__(self, parent=None, interval_ms: int = 50, keep: int = 200_000):
        super().__init__(parent)
        self.interval = interval_ms / 1000
        self.samples: deque[float] = deque(maxlen=keep)  # seconds late, newest last
        self._last = time.monotonic()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    def _tick(self) -> None:
        now = time.monotonic()
        self.samples.append(max(0.0, now - self._last - self.interval))
        self._last = now

    def percentile_ms(self, q: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> dict:
        return {"samples": len(self.samples), "p50_ms": self.percentile_ms(0.5),
                "p99_ms": self.percentile_ms(0.99),
                "max_ms": 1000 * max(self.samples) if self.samples else None}

    def stop(self) -> None:
        """Stop measuring; write the summary where OCPP_INSPECTOR_LAG_FILE says, if set."""
        self._timer.stop()
        path = os.environ.get(LAG_FILE_VARIABLE)
        if path:
            try:
                with open(path, "w", encoding="utf-8") as out:
                    json.dump(self.summary(), out)
            except OSError:
                pass  # a benchmark helper: the benchmark reports the missing file
