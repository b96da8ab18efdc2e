"""Live MeterValues plot: one curve per charge point/connector for the chosen measurand."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from .metering import MeterData, series_label

pg.setConfigOptions(antialias=True, background="w", foreground="#222")
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
REFRESH_MS = 250
_SYMBOLS_UP_TO = 120  # points per curve drawn with markers; more: a plain line
_PREFERRED = ("Power.Active.Import", "Energy.Active.Import.Register", "SoC")


class MeterPlot(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("meterPlot")
        self.measurand = QComboBox()
        self.measurand.setObjectName("measurandSelector")
        self.measurand.setMinimumContentsLength(28)
        self.info = QLabel("no MeterValues yet")
        self.info.setObjectName("plotInfo")
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setLabel("bottom", "time")
        self.plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)  # values are in the unit shown
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        self.legend = self.plot.addLegend(offset=(10, 10), brush=pg.mkBrush(255, 255, 255, 210),
                                          pen=pg.mkPen("#bbbbbb"))
        top = QHBoxLayout()
        top.addWidget(QLabel("Measurand:"))
        top.addWidget(self.measurand)
        top.addStretch(1)
        top.addWidget(self.info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.curves: dict[tuple, pg.PlotDataItem] = {}
        self._meters = MeterData()
        self._pending = False
        self._throttle = QTimer(self)
        self._throttle.setSingleShot(True)
        self._throttle.setInterval(REFRESH_MS)
        self._throttle.timeout.connect(self._throttled)
        self._known: list[str] = []
        self.measurand.currentIndexChanged.connect(lambda _: self._redraw())

    @property
    def selected(self) -> str | None:
        return self.measurand.currentData()

    def set_data(self, meters: MeterData) -> None:
        """Show another session's series (live or an opened capture)."""
        self._meters = meters
        self._known = []
        meters.take_changed()
        self._update_choices()
        self._redraw()

    def select(self, measurand: str) -> bool:
        index = self.measurand.findData(measurand)
        if index >= 0:
            self.measurand.setCurrentIndex(index)
        return index >= 0

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
        self._throttle.start()
        self._apply_changes()

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
        redraw = False
        for key in changed:
            if key[2] != selected:
                continue
            curve = self.curves.get(key)
            if curve is None:
                redraw = True
                break
            self._set_curve_data(curve, self._meters.series[key])
        if redraw:
            self._redraw()
        else:
            self._show_info()

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
        self.plot.clear()
        self.legend.clear()
        self.curves = {}
        measurand = self.selected
        if measurand is None:
            self._show_info()
            return
        unit = self._meters.units.get(measurand, "")
        self.plot.setLabel("left", f"{measurand} [{unit}]" if unit else measurand)
        keys = sorted((k for k in self._meters.series if k[2] == measurand),
                      key=lambda k: (k[0], -1 if k[1] is None else k[1], k[3] or ""))
        for i, key in enumerate(keys):
            color = PALETTE[i % len(PALETTE)]
            curve = self.plot.plot(name=series_label(key), pen=pg.mkPen(color, width=2),
                                   symbolBrush=color, symbolPen=color)
            self.curves[key] = curve
            self._set_curve_data(curve, self._meters.series[key])
        self.plot.enableAutoRange()
        self._show_info()

    @staticmethod
    def _set_curve_data(curve, series) -> None:
        few = len(series.times) <= _SYMBOLS_UP_TO
        curve.setData(np.asarray(series.times, dtype=float), np.asarray(series.values, dtype=float),
                      symbol="o" if few else None, symbolSize=6)

    def _show_info(self) -> None:
        measurand = self.selected
        if measurand is None:
            self.info.setText("no MeterValues yet")
            return
        points = self._meters.point_count(measurand)
        self.info.setText(f"{len(self.curves)} curve(s), {points:,} point(s)")

    def point_count(self) -> int:
        """Points currently drawn (for tests)."""
        total = 0
        for curve in self.curves.values():
            xs, _ys = curve.getData()
            total += 0 if xs is None else len(xs)
        return total
