"""A pyqtgraph plot whose painting leaves the interpreter free for the roles' thread.

The roles run on a thread of their own (inspector/loop_thread.py), but they share Python's
interpreter lock with the window. Qt paints in C++ and releases the lock, unless a paint
is entered from Python: then the lock is held for the whole C++ call. Two such calls make
a plot hold it for milliseconds at a time, and a fake CSMS measured by this window answers
that much later (issue 13; benchmarks/gui_load.py):

- pyqtgraph's GraphicsView overrides `paintEvent` in Python (to call the scene's
  `prepareForPaint` first), so the whole scene's paint (12 ms with 100 curves) ran under
  the lock. `PlotCanvas` paints with QGraphicsView's own C++ `paintEvent` and prepares the
  scene from an event filter that returns before the paint starts.
- AxisItem records its ticks, labels and grid lines into a QPicture and replays it with
  one `QPicture.play` (3 ms with the grid shown). `LightAxis` keeps what pyqtgraph
  computes (the draw specs) and draws it line by line, so the lock can change hands
  between lines (the window sets a short switch interval, ui/app.py). It clips to its
  bounds before the grid: Qt blends a translucent line ~30x faster inside a clip.

Measured with a probe thread beside 100 curves repainted 20 times a second: the probe's
p99 wait 25 ms with plain pyqtgraph, 2.6 ms with these two.
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QGraphicsView


class LightAxis:
    """Mixin for an AxisItem: the same drawing as pyqtgraph's, without one long replay."""

    _specs = None

    def paint(self, painter, option, widget) -> None:
        if self.picture is None:  # pyqtgraph's "redraw needed": ranges, size or style changed
            scratch = QPicture()  # generateDrawSpecs measures text with a painter
            measuring = QPainter(scratch)
            try:
                if self.style["tickFont"]:
                    measuring.setFont(self.style["tickFont"])
                self._specs = self.generateDrawSpecs(measuring)
            finally:
                measuring.end()
            self.picture = scratch  # marks the specs current until pyqtgraph resets it
        if self._specs is not None:
            painter.save()
            try:
                # clipped from the start (pyqtgraph clips only its labels): Qt's raster
                # engine blends a translucent grid line ~30x faster inside a clip (20 ms ->
                # 0.6 ms a paint, 55 grid lines); all an item draws lies in its bounds anyway
                painter.setClipRect(self.boundingRect().toAlignedRect().adjusted(-2, -2, 2, 2))
                self.drawPicture(painter, *self._specs)
            finally:
                painter.restore()


class LightAxisItem(LightAxis, pg.AxisItem):
    pass


class LightDateAxisItem(LightAxis, pg.DateAxisItem):
    pass


class _BeforePaint(QObject):
    """Prepares the scene before each paint of the viewport and times the paint: it starts
    here and ends when the event loop next runs a timer (so the figure is an upper bound,
    which is what a refresh budget wants)."""

    def __init__(self, canvas: "PlotCanvas"):
        super().__init__(canvas)
        self._canvas = canvas
        self._started: float | None = None

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Paint:
            scene = self._canvas.scene()
            if scene is not None:
                scene.prepareForPaint()
            if self._started is None:
                self._started = time.perf_counter()
                QTimer.singleShot(0, self._painted)
        return False

    def _painted(self) -> None:
        if self._started is not None:
            self._canvas.last_paint = time.perf_counter() - self._started
            self._started = None


class PlotCanvas(pg.PlotWidget):
    """A PlotWidget painted in C++ (see the module's doc); `last_paint` is the seconds its
    last paint took."""

    last_paint = 0.0
    paintEvent = QGraphicsView.paintEvent  # noqa: N815 - not pyqtgraph's Python override

    def __init__(self, parent=None, **options):
        options.setdefault("axisItems", {})
        options["axisItems"].setdefault("left", LightAxisItem(orientation="left"))
        options["axisItems"].setdefault("bottom", LightAxisItem(orientation="bottom"))
        super().__init__(parent, **options)
        self._before_paint = _BeforePaint(self)
        self.viewport().installEventFilter(self._before_paint)
