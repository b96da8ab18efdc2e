"""Live MeterValues plot: one curve per charge point/connector for the chosen measurand.

Beside the plot (never over it) is the series picker: a searchable, checkable list that is
also the legend, each charge point in its session colour (ui/colours.py; connectors and
phases of one charge point differ by line style). A time window follows the newest reading
(last 5 min, last hour, or all); dragging or zooming the plot switches to "custom".
All curves are one graphics item (ui/plot_curves.py), drawn clipped to the view and
peak-decimated at paint time; a refresh only copies the series that changed, and the view
range is set from the series themselves, so a thousand curves of ten thousand points stay
fluid and a fleet's hundred curves cost the roles' thread next to nothing.

The charging limit in force on a connector (from the charging profiles its frames carry,
see ui/session.py) is a series of its own beside the measured power: same colour, dashed,
drawn as steps, with its own row in the picker ("CP001 c1 limit").
"""

from __future__ import annotations

import time

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QLineEdit, QListWidget,
                               QListWidgetItem, QPushButton, QSplitter, QVBoxLayout, QWidget)

from .colours import ColourBook
from .metering import LIMIT, MeterData, series_label
from .plot_canvas import LightDateAxisItem, PlotCanvas
from .plot_curves import Curve, CurveLayer

pg.setConfigOptions(antialias=False, background="w", foreground="#222")
REFRESH_MS = 250  # with a few curves; more curves are redrawn less often (`_interval`)
_Y_LIMIT = 1e300  # the y range never reaches past this (see _apply_window)
_SYMBOLS_UP_TO = 120  # points per curve drawn with markers; more: a plain line
_PREFERRED = ("Power.Active.Import", "Energy.Active.Import.Register", "SoC")
WINDOWS = (("Last 5 min", 300.0), ("Last hour", 3600.0), ("All", None))
_CUSTOM = "Custom range"
_STYLES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
           Qt.PenStyle.DashDotLine)
_KEY = Qt.ItemDataRole.UserRole
_PHASES = {"L2": 1, "L3": 2, "N": 3}
# up to this many curves: 2 px antialiased lines, dotted while short; more: 1 px plain
# lines. Qt's raster engine draws a wide or antialiased line ~10x slower, which with
# hundreds of curves is the difference between a fluid plot and seconds per frame
# (benchmarks/ui_plot.py)
_SMOOTH_UP_TO = 10


_SWATCHES: dict[tuple, QIcon] = {}


def _swatch(colour: str, style: Qt.PenStyle) -> QIcon:
    icon = _SWATCHES.get((colour, style))
    if icon is None:
        icon = _SWATCHES[(colour, style)] = _draw_swatch(colour, style)
    return icon


def _draw_swatch(colour: str, style: Qt.PenStyle) -> QIcon:
    pixmap = QPixmap(22, 10)
    pixmap.fill(QColor(0, 0, 0, 0))
    from PySide6.QtGui import QPainter, QPen
    painter = QPainter(pixmap)
    pen = QPen(QColor(colour), 3, style)
    painter.setPen(pen)
    painter.drawLine(1, 5, 21, 5)
    painter.end()
    return QIcon(pixmap)


class MeterPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("meterPlot")
        self.measurand = QComboBox()
        self.measurand.setObjectName("measurandSelector")
        self.measurand.setMinimumContentsLength(28)
        self.window_choice = QComboBox()
        self.window_choice.setObjectName("plotWindow")
        for label, seconds in WINDOWS:
            self.window_choice.addItem(label, seconds)
        self.window_choice.addItem(_CUSTOM, -1.0)
        self.window_choice.setCurrentIndex(len(WINDOWS) - 1)  # all, until the user narrows it
        self.info = QLabel("no MeterValues yet")
        self.info.setObjectName("plotInfo")
        self.plot = PlotCanvas(axisItems={"bottom": LightDateAxisItem(orientation="bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "time")
        item = self.plot.getPlotItem()
        item.getAxis("left").enableAutoSIPrefix(False)  # values are in the unit shown
        # pyqtgraph's "Plot Options" (log scale, FFT, downsampling, ...) act on its own curve
        # items, not on our layer: offered, log Y would draw linear curves on a log axis.
        # The view's menu (view all, ranges, mouse mode, export as image) stays
        item.setMenuEnabled(False, enableViewBoxMenu=True)
        self._view = item.getViewBox()
        self._view.sigRangeChangedManually.connect(self._dragged)
        self._view.disableAutoRange()  # _apply_window sets both axes from the series
        self.layer = CurveLayer()
        self._view.addItem(self.layer)
        self.search = QLineEdit()
        self.search.setObjectName("seriesSearch")
        self.search.setPlaceholderText("find charge point…")
        self.search.setClearButtonEnabled(True)
        self.picker = QListWidget()
        self.picker.setObjectName("seriesPicker")
        self.picker.setIconSize(QSize(22, 10))
        self.picker.setUniformItemSizes(True)  # thousands of rows without measuring each
        self.all_button = QPushButton("All")
        self.none_button = QPushButton("None")
        for button, tip in ((self.all_button, "show every series the search finds"),
                            (self.none_button, "hide every series the search finds")):
            button.setToolTip(tip)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.search)
        side_layout.addWidget(self.picker, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.none_button)
        side_layout.addLayout(buttons)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.plot)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setSizes([800, 200])
        top = QHBoxLayout()
        top.addWidget(QLabel("Measurand:"))
        top.addWidget(self.measurand)
        top.addWidget(QLabel("Time:"))
        top.addWidget(self.window_choice)
        top.addStretch(1)
        top.addWidget(self.info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.hidden: set[tuple] = set()  # series unticked in the picker (kept per session)
        self._items: dict[tuple, QListWidgetItem] = {}
        self._meters = MeterData()
        self._colours = ColourBook()
        self._smooth = True  # the curves' style now (see _restyle)
        self._last_update = 0.0  # seconds the last refresh took (before painting)
        self._pending = False
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(REFRESH_MS)
        self._throttle.timeout.connect(self._throttled)
        self._known: list[str] = []
        self.measurand.currentIndexChanged.connect(lambda _: self._redraw())
        self.window_choice.currentIndexChanged.connect(lambda _: self._apply_window())
        self.search.textChanged.connect(self._filter_picker)
        self.picker.itemChanged.connect(self._ticked)
        self.all_button.clicked.connect(lambda: self._tick_shown(True))
        self.none_button.clicked.connect(lambda: self._tick_shown(False))

    @property
    def curves(self) -> dict[tuple, Curve]:
        """The series drawn now, by key."""
        return self.layer.curves

    @property
    def selected(self) -> str | None:
        return self.measurand.currentData()

    def set_data(self, meters: MeterData, colours: ColourBook | None = None) -> None:
        """Show another session's series (live or an opened capture)."""
        self._meters = meters
        self._colours = colours or ColourBook()
        self._known = []
        self.hidden = set()
        meters.take_changed()
        if not self._update_choices():  # (which redraws when the measurands differ)
            self._redraw()

    def select(self, measurand: str) -> bool:
        index = self.measurand.findData(measurand)
        if index >= 0:
            self.measurand.setCurrentIndex(index)
        return index >= 0

    def set_window(self, seconds: float | None) -> None:
        """Last `seconds` of readings (None: all)."""
        index = self.window_choice.findData(seconds)
        self.window_choice.setCurrentIndex(index if index >= 0 else len(WINDOWS) - 1)

    # ---- refresh ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up what changed since the last refresh (called per batch, cheap when hidden).

        Redrawing curves costs far more than the table, so it is done only while the plot
        is visible and at most every REFRESH_MS; a hidden plot catches up when shown.
        """
        if not self.isVisible():
            return
        if self._throttle.isActive():
            self._pending = True
            return
        self._pending = False
        started = time.perf_counter()
        self._apply_changes()
        self._last_update = time.perf_counter() - started
        self._throttle.setInterval(self._interval())
        self._throttle.start()

    def _interval(self) -> int:
        """Redraw less often as curves add up: the window's thread must stay free for the
        log and for clicks (a fleet's meter values come once a second or less anyway), so
        the plot never takes more than a quarter of it, whatever a redraw costs."""
        shown = len(self.curves)
        tier = REFRESH_MS if shown <= 20 else 1000 if shown <= 200 else 2000
        cost = self._last_update + self.plot.last_paint
        return max(tier, int(4000 * cost))

    def flush(self) -> None:
        """Apply pending changes now (end of a capture load)."""
        self._throttle.stop()
        self._pending = False
        if self.isVisible():
            self._apply_changes()

    def _throttled(self) -> None:
        if self._pending:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._apply_changes()

    def _apply_changes(self) -> None:
        changed = self._meters.take_changed()
        if not changed:
            return
        if self._update_choices():
            return  # redrawn
        selected = self.selected
        new = []
        for key in changed:
            if key[2] != selected:
                continue
            if key not in self._items:
                new.append(key)
                continue
            curve = self.curves.get(key)
            if curve is not None:
                self._set_curve_data(curve, self._meters.series[key])
        if new:
            self._add_series(sorted(new, key=_order))
        self.layer.changed()
        self._apply_window()
        self._show_info()

    # ---- measurands and series ---------------------------------------------------------

    def _update_choices(self) -> bool:
        measurands = self._meters.measurands()
        if measurands == self._known:
            return False
        self._known = measurands
        current = self.selected
        self.measurand.blockSignals(True)
        self.measurand.clear()
        for name in measurands:
            self.measurand.addItem(f"{name} [{self._meters.units[name]}]", name)
        if current in measurands:
            choice = current
        else:
            choice = next((m for m in _PREFERRED if m in measurands), measurands[0] if measurands else None)
        if choice is not None:
            self.measurand.setCurrentIndex(self.measurand.findData(choice))
        self.measurand.blockSignals(False)
        self._redraw()
        return True

    def _redraw(self) -> None:
        self.curves.clear()
        self.layer.changed()
        self._smooth = True
        self._items = {}
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.blockSignals(False)
        measurand = self.selected
        if measurand is None:
            self._show_info()
            return
        unit = self._meters.units.get(measurand, "")
        self.plot.setLabel("left", f"{measurand} [{unit}]" if unit else measurand)
        self._add_series(sorted((k for k in self._meters.series if k[2] == measurand), key=_order))
        self._apply_window()
        self._show_info()

    @staticmethod
    def _style(key: tuple) -> Qt.PenStyle:
        """Connector 1 solid, 2 dashed, ...; phases L2, L3 one step further; the charging
        limit dashed, in its charge point's colour, beside the power it limits."""
        _cp, connector, _measurand, phase = key
        if phase == LIMIT:
            return Qt.PenStyle.DashLine
        rank = max(0, (connector or 1) - 1) + _PHASES.get((phase or "")[:2], 0)
        return _STYLES[rank % len(_STYLES)]

    def _add_series(self, keys: list[tuple]) -> None:
        self.picker.blockSignals(True)
        query = self.search.text().strip().lower()
        for key in keys:
            colour = self._colours.colour(key[0])
            item = QListWidgetItem(_swatch(colour, self._style(key)), series_label(key))
            item.setData(_KEY, key)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if key in self.hidden
                               else Qt.CheckState.Checked)
            item.setToolTip(f"{series_label(key)}: {len(self._meters.series[key].times):,} point(s)")
            self.picker.addItem(item)
            item.setHidden(bool(query) and query not in item.text().lower())
            self._items[key] = item
            if key not in self.hidden:
                self._curve_for(key)
        self.picker.sortItems()
        self.picker.blockSignals(False)
        self.layer.changed()

    def _curve_for(self, key: tuple) -> Curve:
        curve = self.curves.get(key)
        if curve is None:
            smooth = len(self.curves) < _SMOOTH_UP_TO
            curve = Curve(key, self._pen(key, smooth), step=key[3] == LIMIT)
            curve.antialias = smooth
            self.curves[key] = curve
            self._set_curve_data(curve, self._meters.series[key])
            self._restyle()
        return curve

    def _pen(self, key: tuple, smooth: bool):
        return pg.mkPen(self._colours.colour(key[0]), width=2 if smooth else 1,
                        style=self._style(key))

    def _restyle(self) -> None:
        """Every curve plain once there are many, smooth (and dotted while short) again
        when few are left."""
        smooth = len(self.curves) <= _SMOOTH_UP_TO
        if smooth == self._smooth:
            return
        self._smooth = smooth
        for key, curve in self.curves.items():
            curve.antialias = smooth
            curve.pen = self._pen(key, smooth)
            curve.markers = self._markers(curve)
        self.layer.update()

    def _markers(self, curve: Curve) -> bool:
        return self._smooth and not curve.step and len(curve.times) <= _SYMBOLS_UP_TO

    def _set_curve_data(self, curve: Curve, series) -> None:
        """(a limit is drawn as steps: it holds from each change to the next; NaN = none)"""
        curve.set_points(series.times, series.values)
        curve.markers = self._markers(curve)

    # ---- picker -------------------------------------------------------------------------

    def _ticked(self, item: QListWidgetItem) -> None:
        key = item.data(_KEY)
        if item.checkState() == Qt.CheckState.Checked:
            self.hidden.discard(key)
            self._curve_for(key)
            self.layer.changed()
        else:
            self.hidden.add(key)
            if self.curves.pop(key, None) is not None:
                self._restyle()
                self.layer.changed()
        self._apply_window()  # the ranges fit what is drawn now
        self._show_info()

    def _tick_shown(self, on: bool) -> None:
        state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
        for row in range(self.picker.count()):
            item = self.picker.item(row)
            if not item.isHidden() and item.checkState() != state:
                item.setCheckState(state)  # itemChanged -> _ticked

    def _filter_picker(self, text: str) -> None:
        query = text.strip().lower()
        for row in range(self.picker.count()):
            item = self.picker.item(row)
            item.setHidden(bool(query) and query not in item.text().lower())

    def series_shown(self) -> list[str]:
        """Labels of the series drawn now (for tests and the status line)."""
        return sorted(series_label(key) for key in self.curves)

    # ---- time window --------------------------------------------------------------------

    def _dragged(self, *_args) -> None:
        self.window_choice.blockSignals(True)
        self.window_choice.setCurrentIndex(self.window_choice.findData(-1.0))
        self.window_choice.blockSignals(False)

    def _apply_window(self) -> None:
        """Show the chosen time window of the drawn series (x), and fit y to what it shows.

        Both ranges are set here, from the drawn series, in one call: pyqtgraph's auto-range
        would ask every item for its bounds before each paint."""
        seconds = self.window_choice.currentData()
        if seconds == -1.0:
            return  # the user's own range: leave it
        span = self.layer.span()
        if span is None:
            return
        first, latest = span
        earliest = first if seconds is None else latest - seconds
        latest = latest if latest > earliest else earliest + 1
        low, high = self.layer.y_bounds(earliest, latest) or (0.0, 1.0)
        # a reading of 1e308 is a broken or hostile meter, not a scale: the view's span must
        # stay a finite number (points beyond run off the plot, the log shows their values)
        low, high = max(low, -_Y_LIMIT), min(high, _Y_LIMIT)
        if high - low < 1e-9:  # a flat line: centre it
            low, high = low - max(abs(low) * 0.1, 0.5), high + max(abs(high) * 0.1, 0.5)
        self._view.setRange(xRange=(earliest, latest), yRange=(low, high), padding=0.02)

    def _show_info(self) -> None:
        measurand = self.selected
        if measurand is None:
            self.info.setText("no MeterValues yet")
            return
        points = self._meters.point_count(measurand)
        self.info.setText(f"{len(self.curves)} of {len(self._items)} curve(s), {points:,} point(s)")

    def point_count(self) -> int:
        """Points currently drawn (for tests)."""
        return sum(len(curve.times) for curve in self.curves.values())


def _order(key: tuple) -> tuple:
    return (key[0], -1 if key[1] is None else key[1], key[3] or "")
