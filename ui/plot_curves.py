"""Every curve of the Meter values plot in one graphics item.

One pyqtgraph PlotDataItem per curve costs the window's thread ~0.25 ms of Python per
`setData` and again per view-range change (each item re-clips and re-decimates itself), and
the ViewBox's auto-range walks every item before each paint. With a fleet's hundred curves
refreshed every second that is tens of milliseconds of the interpreter lock an hour of
meter values did not need, taken from the roles' thread that answers the chargers (issue 13,
benchmarks/gui_load.py). `CurveLayer` keeps a numpy copy of each shown series, and paints
only at paint time: each curve clipped to the visible x range (two binary searches),
peak-decimated to about two points per pixel column, and drawn with one `drawPath`.
The plot sets the view range itself (MeterPlot._apply_window), so nothing here is asked
for bounds on the live path.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

MARKER_RADIUS = 3.0  # px


class Curve:
    """One drawn series: its pen, how it is drawn, and a numpy copy of its points."""

    __slots__ = ("key", "pen", "step", "markers", "antialias", "times", "values")

    def __init__(self, key: tuple, pen: QPen, *, step: bool = False):
        self.key, self.pen, self.step = key, pen, step
        self.markers = False  # a dot on every point (few curves of few points)
        self.antialias = False
        self.times = self.values = np.empty(0)

    def set_points(self, times, values) -> None:
        """Copy the series' packed doubles (one memcpy each; the arrays stay growable)."""
        self.times = np.array(times, dtype=float)
        self.values = np.array(values, dtype=float)

    def visible(self, x0: float, x1: float) -> tuple[np.ndarray, np.ndarray]:
        """The points in [x0, x1] and one beyond each end, so lines run off the edges."""
        times = self.times
        start = max(int(np.searchsorted(times, x0, "left")) - 1, 0)
        stop = int(np.searchsorted(times, x1, "right")) + 1
        if self.step and start > 0:
            start -= 1  # the limit in force at x0 began at the change before it
        return times[start:stop], self.values[start:stop]

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        _times, values = self.visible(x0, x1)
        values = values[np.isfinite(values)]
        if not len(values):
            return None
        return float(values.min()), float(values.max())


def peak_decimate(x: np.ndarray, y: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ~2 points per pixel column: each run of points becomes its min and max, so a
    spike survives (what pyqtgraph calls "peak" downsampling)."""
    per = -(-len(x) // max(columns, 1))  # points per column, rounded up
    if per < 4:
        return x, y
    bins, rest = divmod(len(x), per)
    used = bins * per
    blocks = y[:used].reshape(bins, per)
    x2 = np.repeat(x[:used:per], 2)
    y2 = np.empty(bins * 2)
    y2[0::2] = blocks.min(axis=1)
    y2[1::2] = blocks.max(axis=1)
    if rest:  # the last, partial column
        x2 = np.append(x2, (x[used], x[used]))
        y2 = np.append(y2, (y[used:].min(), y[used:].max()))
    return x2, y2


def step_points(x: np.ndarray, y: np.ndarray, until: float) -> tuple[np.ndarray, np.ndarray]:
    """A step line: each value holds from its time to the next; the last one until `until`."""
    if not len(x):
        return x, y
    ends = np.append(x[1:], max(until, x[-1]))
    return np.column_stack((x, ends)).ravel(), np.repeat(y, 2)


class CurveLayer(pg.GraphicsObject):
    """Draws every `Curve` in `curves` (insertion order) inside its ViewBox."""

    def __init__(self):
        super().__init__()
        self.curves: dict[tuple, Curve] = {}
        self._bounds: QRectF | None = None
        self.drawn_points = 0  # points handed to the painter at the last paint

    # ---- content ------------------------------------------------------------------------

    def changed(self) -> None:
        """Curves or their points changed: repaint (and let the scene re-index the item)."""
        self._bounds = None
        self.prepareGeometryChange()
        self.update()

    def span(self) -> tuple[float, float] | None:
        """First and last time over every curve."""
        firsts = [c.times[0] for c in self.curves.values() if len(c.times)]
        if not firsts:
            return None
        return min(firsts), max(c.times[-1] for c in self.curves.values() if len(c.times))

    def y_bounds(self, x0: float, x1: float) -> tuple[float, float] | None:
        found = [b for b in (c.y_bounds(x0, x1) for c in self.curves.values()) if b]
        if not found:
            return None
        return min(b[0] for b in found), max(b[1] for b in found)

    # ---- QGraphicsItem / ViewBox --------------------------------------------------------

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange=None):  # noqa: N802
        """For the ViewBox's own auto-range (its "A" button and context menu)."""
        if axis == 0:
            span = self.span()
            return (None, None) if span is None else span
        x0, x1 = orthoRange if orthoRange is not None else (self.span() or (0.0, 0.0))
        bounds = self.y_bounds(x0, x1)
        return (None, None) if bounds is None else bounds

    def boundingRect(self) -> QRectF:  # noqa: N802
        if self._bounds is None:
            span = self.span()
            y = self.y_bounds(*span) if span else None
            if span is None or y is None:
                self._bounds = QRectF()
            else:
                self._bounds = QRectF(span[0], y[0], max(span[1] - span[0], 1e-9),
                                      max(y[1] - y[0], 1e-9))
        return self._bounds

    def paint(self, painter: QPainter, *_args) -> None:
        view = self.getViewBox()
        if view is None or not self.curves:
            return
        (x0, x1), _y = view.viewRange()
        columns = max(int(view.width()), 1)
        drawn = 0
        smooth = None
        for curve in self.curves.values():
            x, y = curve.visible(x0, x1)
            if not len(x):
                continue
            if curve.step:
                x, y = step_points(x, y, x1)
            else:
                x, y = peak_decimate(x, y, columns)
            drawn += len(x)
            if curve.antialias != smooth:
                smooth = curve.antialias
                painter.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)
            painter.setPen(curve.pen)
            painter.setBrush(QBrush())
            painter.drawPath(pg.arrayToQPath(x, y, connect="finite"))
            if curve.markers:
                self._markers(painter, curve, x, y)
        self.drawn_points = drawn

    @staticmethod
    def _markers(painter: QPainter, curve: Curve, x: np.ndarray, y: np.ndarray) -> None:
        """Dots of a fixed size in pixels: drawn in device coordinates."""
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        colour = QColor(curve.pen.color())
        painter.setPen(QPen(colour))
        painter.setBrush(QBrush(colour))
        finite = np.isfinite(y)  # NaN is "no value"; an infinite reading has no place
        for px, py in zip(x[finite].tolist(), y[finite].tolist()):
            painter.drawEllipse(transform.map(QPointF(px, py)), MARKER_RADIUS, MARKER_RADIUS)
        painter.restore()
