"""Payloads the engine sends when it plays the charging station (SUT = CSMS).

Used by the runner's "booted" precondition and by the test cases, so both say the same
thing. Values may contain placeholders (`V`, `NOW`), resolved when the step runs.
"""

from __future__ import annotations

from .model import NOW, V

VENDOR, MODEL = "OCPP-Inspector", "ConformanceSuite"


def boot16() -> dict:
    return {"chargePointVendor": VENDOR, "chargePointModel": MODEL,
            "chargePointSerialNumber": "SUITE-0001", "firmwareVersion": "1.0.0"}


def boot201(reason: str = "PowerUp") -> dict:
    return {"reason": reason, "chargingStation": {"model": MODEL, "vendorName": VENDOR,
                                                  "serialNumber": "SUITE-0001",
                                                  "firmwareVersion": "1.0.0"}}


def status16(status: str, connector=V("connector"), error_code: str = "NoError") -> dict:
    return {"connectorId": connector, "errorCode": error_code, "status": status, "timestamp": NOW}


def status201(status: str, evse=V("evse"), connector=1) -> dict:
    return {"timestamp": NOW, "connectorStatus": status, "evseId": evse, "connectorId": connector}


def id_token(tag=V("valid_tag")) -> dict:
    return {"idToken": tag, "type": "ISO14443"}


def meter16(energy: int = 1000) -> list:
    return [{"timestamp": NOW, "sampledValue": [
        {"value": str(energy), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
         "context": "Sample.Periodic"},
        {"value": "7360", "measurand": "Power.Active.Import", "unit": "W",
         "context": "Sample.Periodic"}]}]


def meter201(energy: float = 1000.0, context: str = "Sample.Periodic") -> list:
    return [{"timestamp": NOW, "sampledValue": [
        {"value": energy, "measurand": "Energy.Active.Import.Register", "context": context,
         "unitOfMeasure": {"unit": "Wh"}},
        {"value": 7360.0, "measurand": "Power.Active.Import", "context": context,
         "unitOfMeasure": {"unit": "W"}}]}]


def transaction_event(event_type: str, trigger: str, seq_no: int, *, tx=V("tx"),
                      charging_state: str | None = None, **extra) -> dict:
    info = {"transactionId": tx}
    if charging_state:
        info["chargingState"] = charging_state
    for key in ("stoppedReason", "remoteStartId"):
        if key in extra:
            info[key] = extra.pop(key)
    return {"eventType": event_type, "timestamp": NOW, "triggerReason": trigger, "seqNo": seq_no,
            "transactionInfo": info, **extra}


def evse(number=V("evse"), connector=1) -> dict:
    return {"id": number, "connectorId": connector}
