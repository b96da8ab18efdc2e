"""Smart charging in the fake charger: it keeps the profiles a CSMS installs, answers
GetCompositeSchedule by the OCPP rules (inspector.smart_charging), and its meter never
draws more than the composite limit in force, from the next meter value on.

A mixin of `FakeCharger` (1.6 Smart Charging profile; 2.0.1 block K): SetChargingProfile,
ClearChargingProfile, GetCompositeSchedule. The charger is one connector/EVSE with its
model's supply (charger_models.py): a limit in A becomes W with the model's voltage and the
period's number of phases, else the model's. On a station with several connectors
(station.py) the charge point's maximum is the station's, shared by its connectors.
"""

from __future__ import annotations

import time
from typing import Callable

from ..smart_charging import (TX, Profile, ProfileError, ProfileStore, clear_criteria,
                              composite_schedule, limit_at, parse_profile, set_request)
from ..timestamps import iso
from .charger_dialect import Setting

_MAX_PROFILES = 10
_MAX_STACK_LEVEL = 10
SMART_CHARGING_SETTINGS = {  # the Smart Charging profile's settings (read-only here)
    "enabled": Setting(None, "SmartChargingCtrlr/Enabled", "true", read_only=True),
    "max_stack_level": Setting("ChargeProfileMaxStackLevel", "SmartChargingCtrlr/ProfileStackLevel",
                               str(_MAX_STACK_LEVEL), read_only=True),
    "rate_units_16": Setting("ChargingScheduleAllowedChargingRateUnit", None, "Current,Power",
                             read_only=True),
    "rate_units_2": Setting(None, "SmartChargingCtrlr/RateUnit", "A,W", read_only=True),
    "max_periods": Setting("ChargingScheduleMaxPeriods", "SmartChargingCtrlr/PeriodsPerSchedule",
                           "24", read_only=True),
    "max_profiles": Setting("MaxChargingProfilesInstalled", "SmartChargingCtrlr/Entries",
                            str(_MAX_PROFILES), read_only=True),
}


class SmartCharging:
    """Needs FakeCharger's version, options.connector, transaction state and meter."""

    profiles: ProfileStore
    transaction_started_at: float | None = None  # epoch, for relative schedules
    # On a station with several connectors (station.py) the charge point's maximum profile
    # caps the station as a whole: it is kept there, and each connector draws its share
    station_max: ProfileStore | None = None
    station_share_w: Callable[[float], float | None] | None = None

    def relevant_profiles(self) -> list[Profile]:
        """Every profile that bears on this connector, the station's maximum included."""
        found = self.profiles.for_connector(self.options.connector)
        return found + self.station_max.profiles if self.station_max is not None else found

    def limit_now_w(self, now: float | None = None) -> float | None:
        """The limit in force, in W (None: no profile limits the charger): the composite of
        the connector's profiles, and on a station its share of the station's maximum."""
        now = time.time() if now is None else now
        found = limit_at(self.profiles.for_connector(self.options.connector), now, "W",
                         transaction_start=self.transaction_started_at,
                         transaction_id=None if self.transaction_id is None else str(self.transaction_id),
                         voltage=self.meter.voltage, phases=self.meter.phases)
        limits = [] if found is None else [found[0]]
        share = self.station_share_w(now) if self.station_share_w is not None else None
        if share is not None:
            limits.append(share)
        return min(limits) if limits else None

    energy_suspended = False  # the charger stopped the energy (a card refused after all)

    def apply_limit(self) -> None:
        """Give the meter the limit in force now (before each sample)."""
        self.meter.limit_w = 0.0 if self.energy_suspended else self.limit_now_w()

    def _rejected(self, reason: str) -> dict:
        return self.dialect.profile_rejected(reason)

    def check_profile(self, payload) -> tuple[Profile | None, dict]:
        """A SetChargingProfile request read and checked: (the profile, Accepted), or
        (None, the rejection)."""
        where, body = set_request(payload)
        if where not in (0, self.options.connector):
            return None, self._rejected(f"no connector/EVSE {where}")
        try:
            profile = parse_profile(body, where)
        except (ProfileError, KeyError, TypeError, ValueError) as exc:
            return None, self._rejected(str(exc))
        if profile.stack_level > _MAX_STACK_LEVEL:
            return None, self._rejected(f"stackLevel above {_MAX_STACK_LEVEL}")
        if profile.purpose == TX:
            if self.transaction_id is None:
                return None, self._rejected("a TxProfile needs a transaction on the connector")
            if profile.transaction_id is not None and profile.transaction_id != str(self.transaction_id):
                return None, self._rejected("the TxProfile is for another transaction")
        if len(self.profiles.profiles) >= _MAX_PROFILES and profile.id not in {
                p.id for p in self.profiles.profiles}:
            return None, self._rejected(f"already {_MAX_PROFILES} profiles installed")
        return profile, {"status": "Accepted"}

    async def _handle_SetChargingProfile(self, payload) -> dict:
        profile, answer = self.check_profile(payload)
        if profile is not None:
            self.profiles.install(profile)
            self.apply_limit()
        return answer

    async def _handle_ClearChargingProfile(self, payload) -> dict:
        cleared = self.profiles.clear(**clear_criteria(payload))
        self.apply_limit()
        return {"status": "Accepted" if cleared else "Unknown"}

    async def _handle_GetCompositeSchedule(self, payload) -> dict:
        where = payload.get(self.dialect.connector_field, 0)
        if where not in (0, self.options.connector):
            return {"status": "Rejected"}
        unit = payload.get("chargingRateUnit") or "W"
        duration = int(payload["duration"])
        now = time.time()
        periods = composite_schedule(
            self.relevant_profiles(), now, duration, unit,
            transaction_start=self.transaction_started_at,
            transaction_id=None if self.transaction_id is None else str(self.transaction_id),
            default_limit=self._own_limit(unit), voltage=self.meter.voltage,
            phases=self.meter.phases)
        # 1.6 limits are multiples of 0.1 (its schema); 2.0.1 takes the same precision
        schedule_periods = [{"startPeriod": p.start, "limit": round(p.limit, 1),
                             **({"numberPhases": p.phases} if p.phases else {})} for p in periods]
        return self.dialect.composite_schedule(where, iso(now), duration, unit, schedule_periods)

    async def _handle_GetChargingProfiles(self, payload) -> dict:
        """2.0.1 K09: the installed profiles matching the criteria, reported afterwards in
        ReportChargingProfiles (one per EVSE), or NoProfiles."""
        criterion = payload.get("chargingProfile") or {}
        evse = payload.get("evseId")
        ids = criterion.get("chargingProfileId")
        purpose = criterion.get("chargingProfilePurpose")
        level = criterion.get("stackLevel")
        sources = criterion.get("chargingLimitSource")
        installed = self.profiles.profiles + (self.station_max.profiles if self.station_max else [])
        found = [p for p in installed
                 if (evse is None or p.connector == evse)
                 and (not ids or p.id in ids)
                 and (purpose is None or p.purpose_name == purpose)
                 and (level is None or p.stack_level == level)
                 and (not sources or "CSO" in sources)]
        if not found:
            return {"status": "NoProfiles"}
        self._later(self._report_profiles(payload["requestId"], found))
        return {"status": "Accepted"}

    async def _report_profiles(self, request_id: int, profiles) -> None:
        by_evse: dict[int, list] = {}
        for profile in profiles:
            by_evse.setdefault(profile.connector, []).append(profile.raw)
        evses = sorted(by_evse)
        for n, evse in enumerate(evses):
            await self.call("ReportChargingProfiles", {
                "requestId": request_id, "chargingLimitSource": "CSO", "evseId": evse,
                "chargingProfile": by_evse[evse], "tbc": n < len(evses) - 1})

    def _own_limit(self, unit: str) -> float:
        """What the charger draws at most without any profile, in `unit`."""
        watts = self.meter.max_power_w
        return round(watts if unit == "W" else watts / (self.meter.voltage * self.meter.phases), 1)
