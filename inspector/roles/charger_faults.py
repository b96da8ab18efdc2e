"""Faults in the fake charger: what a real one does when its hardware trips.

`fault(code)`: a running transaction ends (1.6 StopTransaction reason Other; 2.0.1
TransactionEvent Ended, trigger AbnormalCondition, with the fault's stop reason), then the
connector reports Faulted (1.6 with the error code; 2.0.1 connectorStatus Faulted and a
NotifyEvent naming the problem). `recover()` reports Available again. A mixin of
`FakeCharger`; `charger --fault S:CODE` and the window's *Fault* button use it.
"""

from __future__ import annotations


# 1.6 ChargePointErrorCode values a connector can fault with, and the 2.0.1 stop reason
FAULTS = {
    "ConnectorLockFailure": "Other", "EVCommunicationError": "Other",
    "GroundFailure": "GroundFault", "HighTemperature": "Other",
    "InternalError": "Other", "OverCurrentFailure": "OvercurrentFault",
    "OverVoltage": "PowerQuality", "PowerMeterFailure": "Other",
    "PowerSwitchFailure": "Other", "ReaderFailure": "Other", "UnderVoltage": "PowerQuality",
    "WeakSignal": "Other", "OtherError": "Other",
}


def parse_fault(text: str) -> tuple[float, str]:
    """'30:GroundFailure' -> (30.0, 'GroundFailure'); ValueError with the choices."""
    seconds, _, code = text.partition(":")
    try:
        after = float(seconds)
    except ValueError:
        raise ValueError(f"bad fault {text!r}: expected SECONDS:CODE, e.g. 30:GroundFailure") from None
    if after < 0 or after != after:
        raise ValueError(f"bad fault {text!r}: the delay must be 0 or more seconds")
    if code not in FAULTS:
        raise ValueError(f"unknown fault {code!r}; one of: {', '.join(sorted(FAULTS))}")
    return after, code


class Faults:
    """Needs FakeCharger's version, transaction state, send_status and call."""

    fault_code: str | None = None

    async def fault(self, code: str) -> None:
        if code not in FAULTS:
            raise ValueError(f"unknown fault {code!r}")
        self.fault_code = code
        if self.transaction_id is not None:
            await self.stop_transaction(self.dialect.fault_stop_reason(code, FAULTS), fault=True)
        await self.send_status("Faulted", error_code=code)
        await self.dialect.report_fault(self, code)

    async def recover(self) -> None:
        self.fault_code = None
        await self.send_status("Available")
