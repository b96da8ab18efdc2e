"""MeterValues parsing for the plot (Qt-free helper)."""

from __future__ import annotations

import pytest

from inspector.roles.meter import Meter
from ui.metering import MeterData, meter_points, normalise, parse_time, series_label

STAMP = "2026-11-25T10:00:00.000Z"
EPOCH = 1795600800.0


def test_units_are_normalised_for_display():
    assert normalise(7360, "W", "Power.Active.Import") == (pytest.approx(7.36), "kW")
    assert normalise(1500, "Wh") == (pytest.approx(1.5), "kWh")
    assert normalise(2.5, "kWh") == (2.5, "kWh")
    assert normalise(230, None, "Voltage") == (230, "V")
    assert normalise(12000, None) == (pytest.approx(12.0), "kWh")  # 1.6 default: Wh energy
    assert normalise(42, "Percent", "SoC") == (42, "%")
    assert normalise(7.36, "W", "Power.Active.Import", multiplier=3) == (pytest.approx(7.36), "kW")


def test_timestamps():
    assert parse_time(STAMP) == EPOCH
    assert parse_time("2026-11-25T11:00:00+01:00") == EPOCH
    assert parse_time("2026-11-25T10:00:00") == EPOCH  # naive: UTC
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_v16_meter_values_from_the_fake_charger_meter():
    sample = Meter(clock=iter(range(100)).__next__)
    sample.start()
    payload = {"connectorId": 2, "transactionId": 1,
               "meterValue": [{"timestamp": STAMP, "sampledValue": sample.sample().v16()}]}
    points = {p.measurand: p for p in meter_points("CP1", "MeterValues", payload, 0.0)}
    assert set(points) == {"Energy.Active.Import.Register", "Power.Active.Import", "Voltage",
                           "Current.Import", "SoC"}
    power = points["Power.Active.Import"]
    assert power.unit == "kW" and 6 < power.value < 8 and power.connector == 2
    assert power.time == EPOCH
    assert points["Energy.Active.Import.Register"].unit == "kWh"
    assert points["SoC"].unit == "%"


def test_v2_transaction_event_numbers_and_evse():
    sample = Meter(clock=iter(range(100)).__next__)
    sample.start()
    payload = {"eventType": "Updated", "evse": {"id": 1, "connectorId": 1},
               "meterValue": [{"timestamp": STAMP, "sampledValue": sample.sample().v2()}]}
    points = meter_points("CP2", "TransactionEvent", payload, 0.0)
    assert {p.unit for p in points} == {"kWh", "kW", "V", "A", "%"}
    assert all(p.connector == 1 and p.charge_point_id == "CP2" for p in points)


def test_defaults_signed_data_phases_and_garbage():
    payload = {"connectorId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [
        {"value": "1234"},  # measurand and unit default
        {"value": "abc", "format": "SignedData"},
        {"value": "not a number", "measurand": "Voltage"},
        {"value": "231.5", "measurand": "Voltage", "phase": "L2", "unit": "V"},
    ]}, "not an object"]}
    points = meter_points("CP", "MeterValues", payload, 5.0)
    assert [(p.measurand, p.value, p.unit, p.phase) for p in points] == [
        ("Energy.Active.Import.Register", pytest.approx(1.234), "kWh", None),
        ("Voltage", 231.5, "V", "L2")]
    assert series_label(points[1].key) == "CP c1 L2"
    assert meter_points("CP", "Heartbeat", {}, 0.0) == []
    assert meter_points("CP", "MeterValues", None, 0.0) == []


def test_meter_data_drops_repeated_points_and_keeps_order():
    data = MeterData()
    payload = {"connectorId": 1, "meterValue": [{"timestamp": STAMP, "sampledValue": [
        {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"}]}]}
    assert data.add_call("CP1", "MeterValues", payload, 0.0) == 1
    # the same frame logged by a second role (proxy in front of the fake CSMS)
    assert data.add_call("CP1", "MeterValues", payload, 0.0) == 0
    earlier = {"connectorId": 1, "meterValue": [{"timestamp": "2026-11-25T09:59:00Z",
                                                 "sampledValue": [{"value": "6000",
                                                                   "measurand": "Power.Active.Import",
                                                                   "unit": "W"}]}]}
    data.add_call("CP1", "MeterValues", earlier, 0.0)
    series = data.series[("CP1", 1, "Power.Active.Import", None)]
    assert list(series.times) == sorted(series.times) and list(series.values) == [6.0, 7.0]
    assert data.measurands() == ["Power.Active.Import"] and data.units["Power.Active.Import"] == "kW"
    assert data.take_changed() == {("CP1", 1, "Power.Active.Import", None)}
    # StopTransaction.transactionData has no connector: the last one seen is used
    stop = {"transactionId": 1, "meterStop": 10,
            "transactionData": [{"timestamp": "2026-11-25T10:01:00Z", "sampledValue": [
                {"value": "0", "measurand": "Power.Active.Import", "unit": "W"}]}]}
    data.add_call("CP1", "StopTransaction", stop, 0.0)
    assert series.values[-1] == 0.0
