"""A plausible AC charging meter: energy rises with power over real elapsed time."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

BATTERY_WH = 60_000.0  # a mid-size EV
NOMINAL_VOLTAGE = 230.0
PHASES = 1  # 7.36 kW = 32 A on one phase


@dataclass(frozen=True)
class Sample:
    energy_wh: float
    power_w: float
    voltage_v: float
    current_a: float
    soc: float

    def _values(self, measurands=None):
        values = (("Energy.Active.Import.Register", self.energy_wh, "Wh", 1),
                  ("Power.Active.Import", self.power_w, "W", 1),
                  ("Voltage", self.voltage_v, "V", 1),
                  ("Current.Import", self.current_a, "A", 2),
                  ("SoC", self.soc, "Percent", 1))
        if measurands is None:
            return values
        return tuple(v for v in values if v[0] in measurands)

    def v16(self, context: str = "Sample.Periodic", measurands=None) -> list[dict]:
        """1.6 sampled values: value is a string; only `measurands` when given (the
        charger's MeterValuesSampledData)."""
        return [{"value": f"{value:.{digits}f}", "measurand": measurand, "unit": unit,
                 "context": context, **({"location": "EV"} if measurand == "SoC" else {})}
                for measurand, value, unit, digits in self._values(measurands)]

    def v2(self, *, ending: bool = False, measurands=None, context: str | None = None) -> list[dict]:
        """2.x sampled values: value is a number, unit in unitOfMeasure; only `measurands`
        when given (the charger's SampledDataCtrlr TxUpdatedMeasurands)."""
        context = context or ("Transaction.End" if ending else "Sample.Periodic")
        return [{"value": round(value, digits), "measurand": measurand, "context": context,
                 "unitOfMeasure": {"unit": unit},
                 **({"location": "EV"} if measurand == "SoC" else {})}
                for measurand, value, unit, digits in self._values(measurands)]


class Meter:
    def __init__(self, *, power_w: float = 7360.0, soc: float = 20.0, clock=time.monotonic,
                 voltage: float = NOMINAL_VOLTAGE, phases: int = PHASES,
                 battery_wh: float = BATTERY_WH, target_soc: float = 100.0):
        self.clock = clock
        self.battery_wh = battery_wh  # the EV's battery: SoC rises with the energy it takes
        self.target_soc = target_soc  # the EV stops drawing here (SuspendedEV)
        self.voltage = voltage
        self.phases = phases
        self.energy_wh = 0.0
        self.max_power_w = power_w
        self.soc = soc
        self._since: float | None = None
        self._ticks = 0
        self.last: Sample | None = None
        self.limit_w: float | None = None  # the charging limit in force (smart charging)

    def connect_ev(self, *, battery_wh: float, soc: float, target_soc: float) -> None:
        """Another EV is plugged in: its battery, state of charge and target."""
        self.battery_wh, self.soc, self.target_soc = battery_wh, soc, max(soc, target_soc)

    @property
    def full(self) -> bool:
        """The EV reached its target state of charge and draws nothing more."""
        return self.soc >= self.target_soc

    def start(self) -> None:
        self._since = self.clock()

    def stop(self) -> None:
        self._since = None

    def sample(self) -> Sample:
        now = self.clock()
        self._ticks += 1
        charging = self._since is not None
        # a little ripple so curves look like a real meter, tapering above 80 % SoC
        taper = 1.0 if self.soc < 80 else max(0.1, (100 - self.soc) / 20)
        power = self.max_power_w * taper * (0.97 + 0.03 * math.sin(self._ticks / 3)) if charging else 0.0
        if self.limit_w is not None:  # the EV draws what the charger allows, never more
            power = min(power, max(0.0, self.limit_w))
        if charging and self.full:
            power = 0.0
        if charging:
            added = power * (now - self._since) / 3600.0
            self.energy_wh += added
            self.soc = min(self.target_soc, self.soc + added / self.battery_wh * 100)
            self._since = now
        voltage = self.voltage + 2.0 * math.sin(self._ticks / 5)
        # the current per phase (AC), or the DC current
        self.last = Sample(self.energy_wh, power, voltage, power / voltage / self.phases, self.soc)
        return self.last
