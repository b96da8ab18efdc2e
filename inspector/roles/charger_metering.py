"""Meter values as the charger's configuration asks for them.

A mixin of `FakeCharger`. Two kinds, as in OCPP:

- **sampled** values during a transaction, every 1.6 MeterValueSampleInterval / 2.0.1
  SampledDataCtrlr.TxUpdatedInterval seconds, with the measurands of
  MeterValuesSampledData / SampledDataCtrlr.TxUpdatedMeasurands (the session paces itself
  by reading the interval before every sample, so a CSMS changing it changes the pace);
- **clock-aligned** values every 1.6 ClockAlignedDataInterval / 2.0.1
  AlignedDataCtrlr.Interval seconds, on the wall clock's multiples of the interval counted
  from midnight UTC (900: at :00, :15, :30, :45), with the measurands of
  MeterValuesAlignedData / AlignedDataCtrlr.Measurands, context Sample.Clock; in and out of
  a transaction (2.0.1 in one: TransactionEvent Updated, trigger MeterValueClock). 0: off.
"""

from __future__ import annotations

import asyncio
import time

from ..timestamps import iso
from .charger_dialect import Setting
from .common import ChargerError

SAMPLED_DEFAULT = "Energy.Active.Import.Register,Power.Active.Import,Voltage,Current.Import,SoC"
METERING_SETTINGS = {
    "sample_interval": Setting("MeterValueSampleInterval", "SampledDataCtrlr/TxUpdatedInterval",
                               "10", whole_number=True),
    "sampled": Setting("MeterValuesSampledData", "SampledDataCtrlr/TxUpdatedMeasurands",
                       SAMPLED_DEFAULT),
    "aligned_interval": Setting("ClockAlignedDataInterval", "AlignedDataCtrlr/Interval", "0",
                                whole_number=True),
    "aligned": Setting("MeterValuesAlignedData", "AlignedDataCtrlr/Measurands",
                       "Energy.Active.Import.Register"),
}
_IDLE_CHECK_S = 60.0  # at the latest, read the interval again (a change wakes it at once)


def next_boundary(now: float, interval: float) -> float:
    """The next multiple of `interval` seconds since the epoch (midnight UTC) after `now`."""
    return (int(now // interval) + 1) * interval


class Metering:
    """Needs FakeCharger's config, version, meter, transaction state and `call`."""

    def _key(self, what: str) -> str:
        return self.dialect.key(METERING_SETTINGS[what])

    def _seconds(self, what: str, fallback: float) -> float:
        try:
            value = float(self.setting(METERING_SETTINGS[what]))
        except ValueError:
            return fallback
        return value if value >= 0 else fallback

    def sample_interval(self) -> float:
        """Seconds between sampled meter values in a transaction (the configuration's)."""
        return self._seconds("sample_interval", 10.0)

    async def wait_sample_interval(self) -> None:
        """Sleep one sample interval, re-reading it as it goes: a CSMS that shortens it
        while a long one runs gets the next sample at the new pace, not after the old one."""
        started = time.monotonic()
        while True:
            remaining = started + self.sample_interval() - time.monotonic()
            if remaining <= 0:
                return
            await asyncio.sleep(min(remaining, _IDLE_CHECK_S))

    def aligned_interval(self) -> float:
        """Seconds between clock-aligned meter values; 0: none."""
        return self._seconds("aligned_interval", 0.0)

    def _measurands(self, what: str) -> set[str] | None:
        value = self.setting(METERING_SETTINGS[what])
        asked = {name.strip() for name in value.split(",") if name.strip()}
        return asked or None

    def sampled(self) -> set[str] | None:
        """The measurands of sampled meter values; None: all."""
        return self._measurands("sampled")

    def aligned(self) -> set[str] | None:
        """The measurands of clock-aligned meter values; None: all."""
        return self._measurands("aligned")

    def set_sample_interval(self, seconds: float) -> None:
        """The charger was set up with this sample interval (CLI --interval, a fleet)."""
        self.config[self._key("sample_interval")] = (f"{seconds:g}", False)

    async def send_aligned_values(self, at: float | None = None) -> None:
        """One clock-aligned meter value (context Sample.Clock), stamped with the boundary
        `at` (epoch seconds; default now)."""
        self.apply_limit()
        sample = self.meter.sample()
        stamp = iso(time.time() if at is None else at)
        await self.dialect.meter_values(self, sample, "Sample.Clock", self.aligned(),
                                        "MeterValueClock", stamp)

    def start_clock_aligned(self) -> None:
        """Send clock-aligned values while connected (once per connection)."""
        if getattr(self, "_aligned_task", None) is None or self._aligned_task.done():
            self._aligned_task = asyncio.create_task(self._clock_aligned())
            self._background.add(self._aligned_task)
            self._aligned_task.add_done_callback(self._background.discard)

    def settings_changed(self) -> None:
        """A configuration value changed: loops that read one (clock-aligned data) look again
        now, instead of every charger polling every second (that was half an idle fleet's
        CPU)."""
        for peer in self.connection_peers:  # a station's connectors share one configuration
            waiting = getattr(peer, "_settings_waiter", None)
            if waiting is not None and not waiting.done():
                waiting.set_result(None)

    async def _until_settings_change(self, seconds: float) -> None:
        self._settings_waiter = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._settings_waiter), max(0.0, seconds))
        except asyncio.TimeoutError:
            pass

    async def _clock_aligned(self) -> None:
        while self.endpoint is not None and not self.endpoint.closed.is_set():
            interval = self.aligned_interval()
            if interval <= 0:
                await self._until_settings_change(_IDLE_CHECK_S)
                continue
            now = time.time()
            due = next_boundary(now, interval)
            await self._until_settings_change(min(due - now, _IDLE_CHECK_S))
            if time.time() + 0.001 < due or self.aligned_interval() != interval:
                continue  # woke early to re-read the interval, or it changed meanwhile
            try:
                await self.send_aligned_values(due)
            except ChargerError as exc:
                self.hub.notice("warning", f"{self.charge_point_id}: clock-aligned meter "
                                           f"values: {exc}", "charger")
