"""Charger models: what a fake charger says it is and what it can deliver.

`charger --model NAME|FILE` picks one: a built-in (`charger --list-models`) or a JSON file
with the same fields. The model gives the BootNotification's vendor, model and firmware,
the meter's maximum power and its supply (AC phases at a nominal voltage, or DC), the
limits a charging profile in A converts with, and configuration keys (1.6) / device-model
variables (2.0.1 "Component/Variable") on top of the defaults.

    {"vendor": "Acme", "model": "Wallbox 22", "firmware": "2.4.1",
     "current": "AC", "phases": 3, "voltage": 230, "max_current_a": 32,
     "configuration": {"MeterValueSampleInterval": "30"}}

`max_power_w` defaults to voltage x max current x phases (AC) and is required for DC.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .. import defaults


class ModelError(ValueError):
    """A model file or name that cannot be used, with the reason."""


@dataclass(frozen=True)
class ChargerModel:
    name: str
    vendor: str = defaults.VENDOR
    model: str = defaults.MODEL
    firmware: str = "0.1.0"
    current: str = "AC"  # AC or DC
    phases: int = 1
    voltage: float = 230.0
    max_current_a: float = 32.0
    max_power_w: float | None = None  # per connector
    connectors: int = 1  # each its own EVSE, each able to deliver the full power
    configuration: dict = field(default_factory=dict)
    serial: str | None = None  # chargePointSerialNumber / serialNumber (None: the charge point id)
    # the 1.6 feature profiles it supports (None: all of FEATURES but Security); the requests
    # of another profile are answered NotSupported, in 2.x too (the same actions)
    features: tuple | None = None
    description: str = ""

    @property
    def power_w(self) -> float:
        if self.max_power_w is not None:
            return float(self.max_power_w)
        return self.voltage * self.max_current_a * self.phases

    def summary(self) -> str:
        supply = (f"AC {self.phases}-phase {self.voltage:g} V, {self.max_current_a:g} A"
                  if self.current == "AC" else f"DC {self.voltage:g} V")
        outlets = f"{self.connectors} x " if self.connectors > 1 else ""
        return f"{self.vendor} {self.model}: {outlets}{self.power_w / 1000:g} kW, {supply}"


BUILT_IN = {
    "ac-7kw": ChargerModel("ac-7kw", description="the default: a single-phase 32 A wallbox"),
    "ac-11kw": ChargerModel("ac-11kw", vendor="OCPP Inspector", model="AC 11", phases=3,
                            max_current_a=16, description="a three-phase 16 A wallbox"),
    "ac-22kw": ChargerModel("ac-22kw", vendor="OCPP Inspector", model="AC 22", phases=3,
                            max_current_a=32, description="a three-phase 32 A post"),
    "ac-22kw-2c": ChargerModel("ac-22kw-2c", vendor="OCPP Inspector", model="AC 22 Twin",
                               phases=3, max_current_a=32, connectors=2,
                               description="a three-phase 32 A post with two connectors, each "
                                           "its own EVSE"),
    "dc-150kw": ChargerModel("dc-150kw", vendor="OCPP Inspector", model="DC 150", current="DC",
                             phases=3, voltage=400.0, max_current_a=375.0, max_power_w=150_000.0,
                             description="a DC fast charger (limits in A read as the DC "
                                         "current at 400 V)"),
}
_FIELDS = {"vendor": str, "model": str, "firmware": str, "current": str, "phases": int,
           "voltage": (int, float), "max_current_a": (int, float), "max_power_w": (int, float),
           "connectors": int, "configuration": dict, "description": str, "serial": str,
           "features": list}
# 1.6 feature profiles, and the CSMS requests of each (with their 2.x names where they differ)
FEATURES = {
    "Core": (),
    "FirmwareManagement": ("UpdateFirmware", "GetDiagnostics", "GetLog", "SignedUpdateFirmware"),
    "LocalAuthListManagement": ("SendLocalList", "GetLocalListVersion"),
    "Reservation": ("ReserveNow", "CancelReservation"),
    "SmartCharging": ("SetChargingProfile", "ClearChargingProfile", "GetCompositeSchedule",
                      "GetChargingProfiles"),
    "RemoteTrigger": ("TriggerMessage",),
    # the 1.6 security extension (whitepaper ed. 2): only when a model names it, since a
    # 1.6 CSMS without it answers its SecurityEventNotification with NotImplemented
    "Security": ("ExtendedTriggerMessage", "InstallCertificate", "GetInstalledCertificateIds",
                 "DeleteCertificate", "CertificateSigned"),
}


def feature_of(action: str) -> str | None:
    """The feature profile a CSMS request belongs to (None: Core, always supported)."""
    return next((name for name, actions in FEATURES.items() if action in actions), None)
MAX_CONNECTORS = 8


def load_model(name_or_path: str) -> ChargerModel:
    """A built-in model by name, or a model JSON file; ModelError says what is wrong."""
    if name_or_path in BUILT_IN:
        return BUILT_IN[name_or_path]
    path = Path(name_or_path)
    if not path.is_file():
        raise ModelError(f"no model {name_or_path!r}: not a built-in one "
                         f"({', '.join(BUILT_IN)}) and no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"cannot read model {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ModelError(f"model {path}: expected a JSON object")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ModelError(f"model {path}: unknown field(s) {', '.join(unknown)}; "
                         f"known: {', '.join(_FIELDS)}")
    for key, kind in _FIELDS.items():
        if key in data and (not isinstance(data[key], kind) or isinstance(data[key], bool)):
            raise ModelError(f"model {path}: {key} has the wrong type")
    if data.get("current", "AC") not in ("AC", "DC"):
        raise ModelError(f"model {path}: current must be AC or DC")
    if not 1 <= data.get("phases", 1) <= 3:
        raise ModelError(f"model {path}: phases must be 1, 2 or 3")
    if not 1 <= data.get("connectors", 1) <= MAX_CONNECTORS:
        raise ModelError(f"model {path}: connectors must be 1 to {MAX_CONNECTORS}")
    if data.get("current") == "DC" and "max_power_w" not in data:
        raise ModelError(f"model {path}: a DC model needs max_power_w")
    for key in ("voltage", "max_current_a", "max_power_w"):
        if key in data and not data[key] > 0:
            raise ModelError(f"model {path}: {key} must be above 0")
    features = data.get("features")
    if features is not None:
        unknown = sorted(set(map(str, features)) - set(FEATURES))
        if unknown or "Core" not in features:
            raise ModelError(f"model {path}: features must include Core and name only "
                             f"{', '.join(FEATURES)}" + (f" (not {', '.join(unknown)})" if unknown else ""))
        features = tuple(features)
    config = {str(k): str(v) for k, v in data.get("configuration", {}).items()}
    return ChargerModel(name=path.stem, **{**data, "configuration": config, "features": features})
