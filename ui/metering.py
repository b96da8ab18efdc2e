"""Meter readings out of OCPP payloads, for the plot. Pure Python: no Qt, no I/O.

Understands 1.6 MeterValues / StopTransaction.transactionData (values are strings, `unit`
beside them) and 2.x MeterValues / TransactionEvent.meterValue (values are numbers, unit
in `unitOfMeasure` with an optional power-of-ten `multiplier`). Units are normalised for
display: W, Wh, var, varh, VA become kW, kWh, kvar, kvarh, kVA; Percent becomes %.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from inspector.timestamps import parse_time

DEFAULT_MEASURAND = "Energy.Active.Import.Register"
LIMIT_MEASURAND = "Power.Active.Import"  # the charging limit is drawn with the power
LIMIT = "limit"  # the phase slot of a limit series key
METER_ACTIONS = ("MeterValues", "TransactionEvent", "StopTransaction")

# input unit -> (factor, display unit)
_DISPLAY = {
    "Wh": (1e-3, "kWh"), "kWh": (1.0, "kWh"),
    "W": (1e-3, "kW"), "kW": (1.0, "kW"),
    "varh": (1e-3, "kvarh"), "kvarh": (1.0, "kvarh"),
    "var": (1e-3, "kvar"), "kvar": (1.0, "kvar"),
    "VA": (1e-3, "kVA"), "kVA": (1.0, "kVA"),
    "Percent": (1.0, "%"), "Celsius": (1.0, "°C"), "Fahrenheit": (1.0, "°F"),
}
# measurand prefix -> unit OCPP implies when none is given (first match wins)
_IMPLIED_UNIT = (
    ("Energy.Reactive", "varh"), ("Energy.Apparent", "VAh"), ("Energy", "Wh"),
    ("Power.Reactive", "var"), ("Power.Factor", ""), ("Power", "W"),
    ("Current", "A"), ("Voltage", "V"), ("SoC", "Percent"), ("Frequency", "Hz"),
    ("Temperature", "Celsius"), ("RPM", ""),
)


@dataclass(frozen=True, slots=True)
class MeterPoint:
    charge_point_id: str
    connector: int | None
    measurand: str
    phase: str | None
    time: float  # epoch seconds
    value: float  # in `unit`
    unit: str  # display unit

    @property
    def key(self) -> tuple:
        return (self.charge_point_id, self.connector, self.measurand, self.phase)


def implied_unit(measurand: str) -> str:
    for prefix, unit in _IMPLIED_UNIT:
        if measurand.startswith(prefix):
            return unit
    return ""


def normalise(value: float, unit: str | None, measurand: str = DEFAULT_MEASURAND,
              multiplier: int | float = 0) -> tuple[float, str]:
    """A reading in its display unit: (7360, "W") -> (7.36, "kW"); multiplier is 10**n."""
    unit = unit or implied_unit(measurand)
    if multiplier:
        value = value * 10.0 ** multiplier
    factor, display = _DISPLAY.get(unit, (1.0, unit))
    return value * factor, display


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def sampled_points(charge_point_id: str, connector: int | None, meter_values,
                   fallback_time: float) -> list[MeterPoint]:
    """Points from a list of MeterValue objects (1.6 or 2.x shape)."""
    points = []
    if not isinstance(meter_values, list):
        return points
    for meter_value in meter_values:
        if not isinstance(meter_value, dict):
            continue
        stamp = parse_time(meter_value.get("timestamp"))
        moment = fallback_time if stamp is None else stamp
        for sampled in meter_value.get("sampledValue") or []:
            if not isinstance(sampled, dict) or sampled.get("format") == "SignedData":
                continue
            reading = _number(sampled.get("value"))
            if reading is None:
                continue
            measurand = sampled.get("measurand") or DEFAULT_MEASURAND
            unit_of_measure = sampled.get("unitOfMeasure")
            if isinstance(unit_of_measure, dict):
                unit = unit_of_measure.get("unit")
                multiplier = _number(unit_of_measure.get("multiplier")) or 0
            else:
                unit, multiplier = sampled.get("unit"), 0
            value, display = normalise(reading, unit if isinstance(unit, str) else None,
                                       measurand, multiplier)
            phase = sampled.get("phase") if isinstance(sampled.get("phase"), str) else None
            points.append(MeterPoint(charge_point_id, connector, measurand, phase, moment,
                                     value, display))
    return points


def _int(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def meter_points(charge_point_id: str, action: str | None, payload, frame_time: float, *,
                 connector_hint: int | None = None) -> list[MeterPoint]:
    """Meter readings carried by one CALL payload ([] for other actions)."""
    if action not in METER_ACTIONS or not isinstance(payload, dict):
        return []
    if action == "MeterValues":
        connector = _int(payload.get("connectorId"))
        if connector is None:
            connector = _int(payload.get("evseId"))
        return sampled_points(charge_point_id, connector, payload.get("meterValue"), frame_time)
    if action == "TransactionEvent":
        evse = payload.get("evse")
        connector = _int(evse.get("id")) if isinstance(evse, dict) else None
        return sampled_points(charge_point_id, connector if connector is not None else connector_hint,
                              payload.get("meterValue"), frame_time)
    return sampled_points(charge_point_id, connector_hint, payload.get("transactionData"),
                          frame_time)


@dataclass
class Series:
    """One curve's points, as packed doubles: 16 bytes a point (Python float lists take 64),
    and numpy copies them in one memcpy when the plot redraws."""

    measurand: str
    unit: str
    times: array = field(default_factory=lambda: array("d"))
    values: array = field(default_factory=lambda: array("d"))


class MeterData:
    """Time series per (charge point, connector, measurand, phase), fed with CALL payloads.

    The same frame can be logged twice in one session (a fake charger through the proxy,
    or the proxy in front of the fake CSMS); repeated (time, value) points are dropped.
    """

    def __init__(self) -> None:
        self.series: dict[tuple, Series] = {}
        self.units: dict[str, str] = {}  # measurand -> display unit
        self.changed: set[tuple] = set()
        self._connector: dict[str, int | None] = {}

    def add_call(self, charge_point_id: str, action: str | None, payload, frame_time: float) -> int:
        """Take the readings out of one CALL; returns how many points were added."""
        if action not in METER_ACTIONS or not isinstance(payload, dict):
            return 0
        if action == "TransactionEvent" and isinstance(payload.get("evse"), dict):
            evse = payload["evse"].get("id")
            if isinstance(evse, int) and not isinstance(evse, bool):
                self._connector[charge_point_id] = evse  # Started carries it, Updated may not
        hint = self._connector.get(charge_point_id)
        points = meter_points(charge_point_id, action, payload, frame_time, connector_hint=hint)
        added = 0
        for point in points:
            if point.connector is not None:
                self._connector[charge_point_id] = point.connector
            added += self.add(point)
        return added

    def add(self, point: MeterPoint) -> bool:
        series = self.series.get(point.key)
        if series is None:
            series = self.series[point.key] = Series(point.measurand, point.unit)
            self.units.setdefault(point.measurand, point.unit)
        tail = zip(series.times[-4:], series.values[-4:])
        if any(t == point.time and v == point.value for t, v in tail):
            return False
        if series.times and point.time < series.times[-1]:
            # out of order (clock skew between chargers is common): keep the series sorted
            index = len(series.times)
            while index and series.times[index - 1] > point.time:
                index -= 1
            series.times.insert(index, point.time)
            series.values.insert(index, point.value)
        else:
            series.times.append(point.time)
            series.values.append(point.value)
        self.changed.add(point.key)
        return True

    def add_limit(self, charge_point_id: str, connector: int | None, time: float,
                  limit_w: float | None) -> None:
        """The charging limit in force on a connector at `time` (None: none), drawn as the
        series `(cp, connector, Power.Active.Import, "limit")` beside the measured power."""
        key = (charge_point_id, connector, LIMIT_MEASURAND, LIMIT)
        series = self.series.get(key)
        if series is None:
            series = self.series[key] = Series(LIMIT_MEASURAND, "kW")
            self.units.setdefault(LIMIT_MEASURAND, "kW")
        value = math.nan if limit_w is None else limit_w / 1000.0
        if len(series.times) and time < series.times[-1]:
            return  # out of order: the limit line only moves forward
        if len(series.values) and (series.values[-1] == value or (
                math.isnan(value) and math.isnan(series.values[-1]))) and len(series.times) > 1 \
                and series.values[-2] == series.values[-1]:
            series.times[-1] = time  # a flat stretch: move its end, no new point
        else:
            series.times.append(time)
            series.values.append(value)
        self.changed.add(key)

    def connector_of(self, charge_point_id: str) -> int | None:
        """The connector/EVSE this charge point's meter values last named."""
        return self._connector.get(charge_point_id)

    def measurands(self) -> list[str]:
        return sorted(self.units)

    def take_changed(self) -> set[tuple]:
        changed, self.changed = self.changed, set()
        return changed

    def point_count(self, measurand: str | None = None) -> int:
        return sum(len(s.times) for key, s in self.series.items()
                   if measurand is None or key[2] == measurand)


def series_label(key: tuple) -> str:
    """'CP001 c1' or 'CP001 c1 L2' for a series key."""
    charge_point_id, connector, _measurand, phase = key
    label = charge_point_id if connector is None else f"{charge_point_id} c{connector}"
    if phase == LIMIT:
        return f"{label} limit"
    return f"{label} {phase}" if phase else label
