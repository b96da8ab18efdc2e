"""The Meter values plot with many chargers: the picker is the legend (beside the plot),
colours stay distinct and stable per charge point, search, All/None, time window."""

from __future__ import annotations

from PySide6.QtCore import Qt

from ui.colours import PALETTE, ColourBook
from ui.metering import MeterData, MeterPoint
from ui.plot import MeterPlot

START = 1_795_600_800.0


def _data(chargers: int, points: int) -> MeterData:
    data = MeterData()
    for c in range(chargers):
        for i in range(points):
            data.add(MeterPoint(f"CP{c:03d}", 1, "Power.Active.Import", None, START + 10 * i,
                                7.0 + c / 100 + (i % 5) / 10, "kW"))
    return data


def test_colours_are_distinct_for_the_first_24_and_stable():
    book = ColourBook()
    given = [book.colour(f"CP{i}") for i in range(40)]
    assert len(set(given[:24])) == 24 == len(PALETTE)
    assert len(set(given)) == 40
    assert [book.colour(f"CP{i}") for i in range(40)] == given  # asked again: the same


def test_picker_search_all_none_and_window(qtbot):
    plot = MeterPlot()
    qtbot.addWidget(plot)
    plot.resize(1100, 500)
    plot.show()
    book = ColourBook()
    plot.set_data(_data(40, 60), book)
    assert plot.picker.count() == 40 and len(plot.curves) == 40
    # the legend is the list beside the plot: no legend item inside the plot
    assert plot.plot.getPlotItem().legend is None
    # no "Plot Options" (log scale etc. would not apply to our curves); the view's menu stays
    assert not plot.plot.getPlotItem().menuEnabled()
    assert plot.plot.getPlotItem().getViewBox().menuEnabled()
    assert plot.splitter.indexOf(plot.plot) == 0 and plot.splitter.widget(1).isVisible()
    # each curve in its charge point's colour
    first = plot.curves[("CP000", 1, "Power.Active.Import", None)]
    assert first.pen.color().name() == book.colour("CP000")
    plot.search.setText("cp01")
    shown = [plot.picker.item(r).text() for r in range(plot.picker.count())
             if not plot.picker.item(r).isHidden()]
    assert shown == [f"CP01{i} c1" for i in range(10)]
    plot.none_button.click()  # hides what the search found, nothing else
    assert len(plot.curves) == 30 and "CP012 c1" not in plot.series_shown()
    plot.search.clear()
    item = plot.picker.findItems("CP012 c1", Qt.MatchFlag.MatchExactly)[0]
    item.setCheckState(Qt.CheckState.Checked)
    assert "CP012 c1" in plot.series_shown() and len(plot.curves) == 31
    plot.all_button.click()
    assert len(plot.curves) == 40
    # a time window follows the newest reading
    plot.set_window(300.0)
    low, high = plot.plot.getPlotItem().getViewBox().viewRange()[0]
    newest = START + 10 * 59
    assert abs(high - newest) < 20 and 280 < high - low < 320
    plot.set_window(None)
    low, high = plot.plot.getPlotItem().getViewBox().viewRange()[0]
    assert low <= START + 10


def test_new_series_join_the_picker_as_they_arrive(qtbot):
    plot = MeterPlot()
    qtbot.addWidget(plot)
    plot.show()
    data = _data(2, 5)
    plot.set_data(data)
    plot.picker.item(0).setCheckState(Qt.CheckState.Unchecked)  # the user hides CP000
    data.add(MeterPoint("CP777", 2, "Power.Active.Import", None, START, 1.0, "kW"))
    data.add(MeterPoint("CP000", 1, "Power.Active.Import", None, START + 999, 1.0, "kW"))
    plot.flush()
    assert plot.picker.count() == 3
    assert plot.series_shown() == ["CP001 c1", "CP777 c2"]  # CP000 stays hidden


def test_connections_sort_filter_hide_closed_and_colour(qtbot):
    from PySide6.QtGui import QColor

    from ui.connections import ConnectionsView
    from ui.session import Stations

    stations = Stations()
    for i in range(12):
        stations.opened({"id": i, "charge_point_id": f"CP{i:02d}", "role": "csms",
                         "opened_at": START + i})
        for _ in range(i * 7 % 12):
            stations.frame(i, f"CP{i:02d}", "csms", START + i, False)
        if i % 3 == 0:
            stations.closed({"id": i, "charge_point_id": f"CP{i:02d}", "role": "csms",
                             "closed_at": START + 99, "close_code": 1000})
    view = ConnectionsView()
    qtbot.addWidget(view)
    view.refresh(stations)
    table, proxy = view.table, view.proxy
    assert proxy.rowCount() == 12 and view.count.text() == "12 connection(s)"
    table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # Frames, as numbers
    frames = [int(proxy.index(r, 5).data()) for r in range(proxy.rowCount())]
    assert frames == sorted(frames, reverse=True) and frames[0] == 11
    view.hide_closed.setChecked(True)
    assert proxy.rowCount() == 8 and view.count.text() == "8 of 12 connection(s)"
    view.filter.setText("cp1")
    assert sorted(proxy.index(r, 0).data() for r in range(proxy.rowCount())) == ["CP10", "CP11"]
    # the swatch is the plot's colour of that charge point
    icon = proxy.index(0, 0).data(Qt.ItemDataRole.DecorationRole)
    name = proxy.index(0, 0).data()
    assert icon.pixmap(10, 10).toImage().pixelColor(5, 5) == QColor(stations.colours.colour(name))


def _axis_image(axis, qtbot):
    """The axis drawn by itself (ticks, labels and grid lines) into an image."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage, QPainter
    view = pg.GraphicsLayoutWidget()
    qtbot.addWidget(view)
    plot = view.addPlot(axisItems={"left": axis})
    plot.showGrid(x=False, y=True, alpha=0.5)
    plot.setYRange(0, 7.5, padding=0)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    image = QImage(400, 300, QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    view.render(painter)
    painter.end()
    return image


def test_light_axis_draws_what_pyqtgraph_draws(qtbot):
    """LightAxis draws pyqtgraph's own specs line by line instead of replaying a QPicture
    (which holds the interpreter lock for the whole replay), clipped from the start (which
    makes the translucent grid ~30x cheaper to blend): the pixels are the same."""
    import pyqtgraph as pg

    from ui.plot_canvas import LightAxisItem
    ours = _axis_image(LightAxisItem(orientation="left"), qtbot)
    theirs = _axis_image(pg.AxisItem(orientation="left"), qtbot)
    assert ours == theirs
    # and something was drawn: tick labels are dark pixels in the axis' strip
    dark = sum(1 for x in range(0, 60) for y in range(300) if ours.pixelColor(x, y).value() < 128)
    assert dark > 50


def test_plot_paints_from_cpp_and_still_prepares_the_scene(qtbot):
    """The plot's paintEvent is QGraphicsView's C++ one (a Python override would hold the
    interpreter lock for the whole paint) and the scene is still prepared before each
    paint; the y range fits the series shown: a series ticked back on in the picker (no
    refresh runs) widens it."""
    from PySide6.QtWidgets import QGraphicsView
    plot = MeterPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 400)
    plot.show()
    assert type(plot.plot).paintEvent is QGraphicsView.paintEvent
    data = _data(3, 20)
    for i in range(20):
        data.add(MeterPoint("BIG", 1, "Power.Active.Import", None, START + 10 * i, 50.0, "kW"))
    plot.set_data(data, ColourBook())
    view = plot.plot.getPlotItem().getViewBox()
    item = next(plot.picker.item(r) for r in range(plot.picker.count())
                if plot.picker.item(r).text().startswith("BIG"))
    item.setCheckState(Qt.CheckState.Unchecked)
    qtbot.waitUntil(lambda: view.viewRange()[1][1] < 10, timeout=10_000)
    item.setCheckState(Qt.CheckState.Checked)
    qtbot.waitUntil(lambda: view.viewRange()[1][1] > 45, timeout=10_000)
    qtbot.waitUntil(lambda: plot.plot.last_paint > 0, timeout=10_000)  # the paint was timed


def test_curves_are_clipped_to_the_view_and_peak_decimated_when_painted(qtbot):
    """All curves are one item that draws, per curve, only the points in view and at most
    ~2 per pixel column, keeping each column's extremes (a one-sample spike survives)."""
    import numpy as np
    from PySide6.QtGui import QImage, QPainter

    from ui.plot_curves import peak_decimate
    plot = MeterPlot()
    qtbot.addWidget(plot)
    plot.resize(900, 400)
    plot.show()
    data = MeterData()
    for c in range(3):
        for i in range(20_000):
            value = 99.0 if (c, i) == (1, 12_345) else 7.0 + c + (i % 7) / 10
            data.add(MeterPoint(f"CP{c}", 1, "Power.Active.Import", None, START + i, value, "kW"))
    plot.set_data(data, ColourBook())
    assert not any(curve.markers for curve in plot.curves.values())  # long: plain lines

    def painted() -> int:
        image = QImage(plot.plot.size(), QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        plot.plot.render(painter)
        painter.end()
        return plot.layer.drawn_points

    columns = plot.layer.getViewBox().width()
    everything = painted()
    assert 3 * columns <= everything <= 3 * (2 * columns + 2)  # not 60,000
    assert plot.layer.getViewBox().viewRange()[1][1] >= 99.0  # the spike is in the y range
    plot.set_window(300.0)  # the last 5 minutes: ~300 points per curve, none decimated
    assert 3 * 300 <= painted() <= 3 * 320  # (the range has 2% padding each side)
    view = plot.layer.getViewBox()
    view.autoRange()  # the view menu's "View All" asks the layer for its bounds
    (x0, x1), (y0, y1) = view.viewRange()
    assert x0 <= START + 1 and x1 >= START + 19_999 and y0 <= 7.0 and y1 >= 99.0
    x = np.arange(20_000, dtype=float)
    y = np.where(x == 12_345, 99.0, 7.0)
    dx, dy = peak_decimate(x, y, 800)
    assert len(dx) <= 2 * 800 + 2 and dy.max() == 99.0 and dy.min() == 7.0


def test_a_limit_is_drawn_as_steps():
    import numpy as np

    from ui.plot_curves import step_points
    x, y = step_points(np.array([0.0, 10.0, 20.0]), np.array([3.7, np.nan, 11.0]), 30.0)
    assert x.tolist() == [0.0, 10.0, 10.0, 20.0, 20.0, 30.0]
    assert y[:2].tolist() == [3.7, 3.7] and np.isnan(y[2:4]).all() and y[4:].tolist() == [11.0] * 2


def test_few_short_curves_have_dots_many_have_plain_lines(qtbot):
    plot = MeterPlot()
    qtbot.addWidget(plot)
    plot.show()
    plot.set_data(_data(3, 20), ColourBook())
    assert all(c.markers and c.antialias and c.pen.widthF() == 2 for c in plot.curves.values())
    plot.set_data(_data(40, 20), ColourBook())
    assert not any(c.markers or c.antialias for c in plot.curves.values())
    assert all(c.pen.widthF() == 1 for c in plot.curves.values())


def test_hostile_readings_leave_a_finite_view_and_no_qt_warning(qtbot, qtlog):
    """A meter that reports inf, NaN or 1e308 (broken or hostile): the plot still paints,
    its ranges stay finite, and Qt is never handed a NaN to draw."""
    import math

    from PySide6.QtGui import QImage, QPainter
    plot = MeterPlot()
    qtbot.addWidget(plot)
    plot.resize(800, 400)
    plot.show()
    data = MeterData()
    for i, value in enumerate([1.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 5.0]):
        data.add(MeterPoint("CPX", 1, "Power.Active.Import", None, START + i, value, "kW"))
    data.add(MeterPoint("CPY", 1, "Power.Active.Import", None, START, 3.0, "kW"))  # one point
    data.add(MeterPoint("CPZ", 1, "Power.Active.Import", None, START + 3, math.nan, "kW"))
    plot.set_data(data, ColourBook())
    for window in (300.0, None):
        plot.set_window(window)
        image = QImage(plot.plot.size(), QImage.Format.Format_ARGB32)
        painter = QPainter(image)
        plot.plot.render(painter)
        painter.end()
        (x0, x1), (y0, y1) = plot.layer.getViewBox().viewRange()
        assert all(math.isfinite(v) for v in (x0, x1, y0, y1)) and y0 < 1.0 and y1 > 5.0
    assert plot.layer.drawn_points > 0
    assert not [r for r in qtlog.records if "NaN" in r.message or "nan" in r.message]
