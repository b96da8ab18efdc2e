"""Schema validation throughput per core, against plain jsonschema on the same frames.

    python -m benchmarks.validation
"""

from __future__ import annotations

import sys

from inspector import codec, validation
from inspector.roles.meter import Meter

from .timing import rate


def frames():
    meter = Meter()
    meter.start()
    sample = meter.sample()
    stamp = "2026-11-25T10:00:00.000Z"
    return {
        "1.6 MeterValues": ("1.6", "MeterValues", {
            "connectorId": 1, "transactionId": 7,
            "meterValue": [{"timestamp": stamp, "sampledValue": sample.v16()}]}),
        "1.6 Heartbeat": ("1.6", "Heartbeat", {}),
        "1.6 StatusNotification": ("1.6", "StatusNotification", {
            "connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": stamp}),
        "2.0.1 TransactionEvent": ("2.0.1", "TransactionEvent", {
            "eventType": "Updated", "timestamp": stamp, "triggerReason": "MeterValuePeriodic",
            "seqNo": 3, "transactionInfo": {"transactionId": "abc", "chargingState": "Charging"},
            "meterValue": [{"timestamp": stamp, "sampledValue": sample.v2()}]}),
        "2.0.1 StatusNotification": ("2.0.1", "StatusNotification", {
            "timestamp": stamp, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1}),
    }


def main(argv) -> None:
    print(f"{'frame':<26} {'ours/s':>10} {'jsonschema/s':>13} {'ratio':>7}   (target >= 30,000/s)")
    for name, (version, action, payload) in frames().items():
        slow = validation.compiled(version, action, "request")
        assert validation.validate(version, action, "request", payload) == [], name
        ours = rate(lambda: validation.validate(version, action, "request", payload), 20_000)
        baseline = rate(lambda: list(slow.iter_errors(payload)), 2_000)
        print(f"{name:<26} {ours:>10,.0f} {baseline:>13,.0f} {ours / baseline:>6.1f}x")
    # parse + validate, the full per-frame work of the monitor
    raw = codec.call("1", "MeterValues", frames()["1.6 MeterValues"][2]).raw
    full = rate(lambda: validation.validate("1.6", "MeterValues", "request", codec.parse(raw).payload), 20_000)
    print(f"{'parse+validate 1.6 MV':<26} {full:>10,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
