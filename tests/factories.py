"""Small builders of OCPP-J frame texts, shared by the tests."""

import json


def a_call(action: str, payload: dict | None = None, unique_id: str = "1") -> str:
    return json.dumps([2, unique_id, action, payload or {}])


def a_result(payload: dict | None = None, unique_id: str = "1") -> str:
    return json.dumps([3, unique_id, payload or {}])


def an_error(code: str = "GenericError", unique_id: str = "1") -> str:
    return json.dumps([4, unique_id, code, "", {}])


BOOT_16 = {"chargePointVendor": "V", "chargePointModel": "M"}
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
