"""Charging profiles and the composite schedule, by the OCPP rules. Pure: no I/O, no clock.

OCPP 1.6 §3.13 and 2.0.1 block K agree on the model:

- three purposes: the charge point's maximum (1.6 ChargePointMaxProfile, 2.0.1
  ChargingStationMaxProfile), the default for transactions (TxDefaultProfile, on one
  connector/EVSE or on 0 for all) and the profile of one transaction (TxProfile);
- within a purpose, of the profiles in force at an instant, the highest stackLevel wins;
- a TxProfile in force overrides the TxDefaultProfile; the composite limit is the lower of
  that and the maximum profile's;
- a profile is in force inside its validFrom/validTo window, from its schedule's start
  (Absolute: startSchedule; Recurring: the last Daily/Weekly recurrence of startSchedule;
  Relative: the start of the transaction) for `duration` seconds (open-ended without one),
  and each period holds from its startPeriod until the next one.

Limits are in A or W (chargingRateUnit); a composite asked for in the other unit is
converted with the voltage and the period's number of phases, else the charger's own
(OCPP's default is 3; a single-phase charger passes 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .timestamps import parse_time

MAX, TX_DEFAULT, TX = "max", "tx_default", "tx"
_PURPOSES = {"ChargePointMaxProfile": MAX, "ChargingStationMaxProfile": MAX,
             "TxDefaultProfile": TX_DEFAULT, "TxProfile": TX}
_RECURRENCE = {"Daily": 86_400, "Weekly": 7 * 86_400}
DEFAULT_PHASES = 3
DEFAULT_VOLTAGE = 230.0


class ProfileError(ValueError):
    """A profile OCPP says to reject (the charger answers Rejected)."""


@dataclass(frozen=True)
class Period:
    start: int  # seconds from the schedule's start
    limit: float
    phases: int | None = None


@dataclass(frozen=True)
class Profile:
    id: int
    stack_level: int
    purpose: str  # MAX, TX_DEFAULT, TX
    kind: str  # Absolute, Recurring, Relative
    unit: str  # A or W
    periods: tuple[Period, ...]
    connector: int = 0  # 1.6 connectorId / 2.0.1 evseId; 0 = the whole charger
    recurrency: str | None = None
    valid_from: float | None = None
    valid_to: float | None = None
    start_schedule: float | None = None
    duration: float | None = None
    transaction_id: str | None = None
    min_rate: float | None = None
    raw: dict = field(default_factory=dict, compare=False)  # as received, for reports

    @property
    def purpose_name(self) -> str:
        return self.raw.get("chargingProfilePurpose", self.purpose)


def _time(text) -> float | None:
    """A profile's date-time field; ProfileError when it is there but not a date-time."""
    moment = parse_time(text)
    if moment is None and text not in (None, ""):
        raise ProfileError(f"not a date-time: {text!r}")
    return moment


def parse_profile(profile: dict, connector: int) -> Profile:
    """A 1.6 csChargingProfiles or a 2.0.1 chargingProfile (its first schedule), checked by
    the rules both versions share; ProfileError for what a charger must reject."""
    purpose = _PURPOSES.get(profile.get("chargingProfilePurpose"))
    if purpose is None:
        raise ProfileError(f"unknown purpose {profile.get('chargingProfilePurpose')!r}")
    schedule = profile.get("chargingSchedule")
    if isinstance(schedule, list):  # 2.0.1: one to three schedules; the first is used
        schedule = schedule[0] if schedule else None
    if not isinstance(schedule, dict):
        raise ProfileError("no chargingSchedule")
    raw_periods = schedule.get("chargingSchedulePeriod") or []
    periods = tuple(sorted((Period(int(p["startPeriod"]), float(p["limit"]), p.get("numberPhases"))
                            for p in raw_periods), key=lambda p: p.start))
    if not periods or periods[0].start != 0:
        raise ProfileError("the first chargingSchedulePeriod must start at 0")
    kind = profile.get("chargingProfileKind")
    if kind not in ("Absolute", "Recurring", "Relative"):
        raise ProfileError(f"unknown chargingProfileKind {kind!r}")
    start = _time(schedule.get("startSchedule"))
    if kind in ("Absolute", "Recurring") and start is None:
        raise ProfileError(f"an {kind} profile needs startSchedule")
    recurrency = profile.get("recurrencyKind")
    if kind == "Recurring" and recurrency not in _RECURRENCE:
        raise ProfileError("a Recurring profile needs recurrencyKind Daily or Weekly")
    if purpose == MAX and connector != 0:
        raise ProfileError("a maximum profile applies to connector/EVSE 0 only")
    if purpose == TX and connector == 0:
        raise ProfileError("a TxProfile applies to one connector/EVSE, not 0")
    unit = schedule.get("chargingRateUnit")
    if unit not in ("A", "W"):
        raise ProfileError(f"unknown chargingRateUnit {unit!r}")
    transaction = profile.get("transactionId")
    return Profile(
        id=int(profile.get("chargingProfileId", profile.get("id"))),
        stack_level=int(profile["stackLevel"]), purpose=purpose, kind=kind, unit=unit,
        periods=periods, connector=connector, recurrency=recurrency if kind == "Recurring" else None,
        valid_from=_time(profile.get("validFrom")), valid_to=_time(profile.get("validTo")),
        start_schedule=start, duration=schedule.get("duration"),
        transaction_id=None if transaction is None else str(transaction),
        min_rate=schedule.get("minChargingRate"), raw=profile)


def set_request(payload: dict) -> tuple[int, dict]:
    """(connector/EVSE, profile) of a SetChargingProfile request, 1.6 or 2.0.1."""
    where = payload.get("connectorId", payload.get("evseId", 0))
    return where, payload.get("csChargingProfiles") or payload.get("chargingProfile") or {}


def clear_criteria(payload: dict) -> dict:
    """ProfileStore.clear's arguments from a ClearChargingProfile request, 1.6 (criteria
    at the top) or 2.0.1 (chargingProfileId, chargingProfileCriteria)."""
    criteria = payload.get("chargingProfileCriteria") or payload
    return {"profile_id": payload.get("id", payload.get("chargingProfileId")),
            "connector": criteria.get("connectorId", criteria.get("evseId")),
            "purpose": criteria.get("chargingProfilePurpose"),
            "stack_level": criteria.get("stackLevel")}


@dataclass(frozen=True)
class TransactionChange:
    started: bool
    where: int | None  # connector / EVSE, when the message says
    transaction_id: str | None


def transaction_change(action: str | None, request: dict,
                       answer: dict | None = None) -> TransactionChange | None:
    """What a message says of a transaction: 1.6 StartTransaction (with its answer, which
    holds the id and the acceptance) and StopTransaction; 2.x TransactionEvent Started and
    Ended. None: nothing."""
    if action == "StartTransaction":
        if answer is None or (answer.get("idTagInfo") or {}).get("status") != "Accepted" \
                or answer.get("transactionId") is None:
            return None
        return TransactionChange(True, request.get("connectorId", 1), str(answer["transactionId"]))
    if action == "StopTransaction":
        transaction = request.get("transactionId")
        return TransactionChange(False, None, None if transaction is None else str(transaction))
    if action == "TransactionEvent" and request.get("eventType") in ("Started", "Ended"):
        transaction = (request.get("transactionInfo") or {}).get("transactionId")
        return TransactionChange(request["eventType"] == "Started",
                                 (request.get("evse") or {}).get("id"),
                                 None if transaction is None else str(transaction))
    return None


class ProfileStore:
    """The profiles installed on one charger."""

    def __init__(self) -> None:
        self.profiles: list[Profile] = []

    def install(self, profile: Profile) -> None:
        """Install, replacing a profile with the same id, or with the same stack level and
        purpose on the same connector/EVSE (1.6 §3.13.x, 2.0.1 K01.FR.05)."""
        self.profiles = [p for p in self.profiles
                         if p.id != profile.id and not (p.stack_level == profile.stack_level
                                                        and p.purpose == profile.purpose
                                                        and p.connector == profile.connector)]
        self.profiles.append(profile)

    def clear(self, *, profile_id: int | None = None, connector: int | None = None,
              purpose: str | None = None, stack_level: int | None = None) -> int:
        """Remove the profiles matching every criterion given (all, with none given);
        returns how many went. `purpose` takes the OCPP name or MAX/TX_DEFAULT/TX."""
        purpose = _PURPOSES.get(purpose, purpose)

        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return ((connector is None or p.connector == connector)
                    and (purpose is None or p.purpose == purpose)
                    and (stack_level is None or p.stack_level == stack_level))
        before = len(self.profiles)
        self.profiles = [p for p in self.profiles if not matches(p)]
        return before - len(self.profiles)

    def end_transaction(self, connector: int) -> None:
        """A transaction ended: its TxProfiles go with it (1.6 §3.13.x, 2.0.1 K01.FR.xx)."""
        self.profiles = [p for p in self.profiles
                         if not (p.purpose == TX and p.connector == connector)]

    def for_connector(self, connector: int) -> list[Profile]:
        """What applies to a connector/EVSE: its own profiles and those on 0, except that a
        TxDefaultProfile of its own replaces, for it, the one on 0 at the same stack level
        (1.6 §3.13.1; 2.0.1 K01.FR.14/15)."""
        own = {p.stack_level for p in self.profiles
               if p.connector == connector and p.purpose == TX_DEFAULT and connector != 0}
        return [p for p in self.profiles if p.connector == connector or (
            p.connector == 0 and not (p.purpose == TX_DEFAULT and p.stack_level in own))]


def schedule_start(profile: Profile, moment: float, transaction_start: float | None) -> float | None:
    """When the profile's schedule (its current recurrence) started, as of `moment`."""
    if profile.kind == "Relative":
        return transaction_start
    start = profile.start_schedule
    if profile.kind == "Recurring" and start is not None and moment >= start:
        period = _RECURRENCE[profile.recurrency]
        start += ((moment - start) // period) * period
    return start


def _in_force(profile: Profile, moment: float, transaction_start: float | None,
              transaction_id: str | None) -> float | None:
    """The schedule start if the profile limits at `moment`, else None."""
    if profile.valid_from is not None and moment < profile.valid_from:
        return None
    if profile.valid_to is not None and moment >= profile.valid_to:
        return None
    if profile.purpose == TX and (transaction_start is None or (
            profile.transaction_id is not None and profile.transaction_id != transaction_id)):
        return None
    start = schedule_start(profile, moment, transaction_start)
    if start is None or moment < start:
        return None
    if profile.duration is not None and moment >= start + profile.duration:
        return None
    return start


def _period_at(profile: Profile, offset: float) -> Period:
    current = profile.periods[0]
    for period in profile.periods:
        if period.start <= offset:
            current = period
        else:
            break
    return current


def convert(limit: float, unit: str, to_unit: str, phases: int | None,
            voltage: float = DEFAULT_VOLTAGE, default_phases: int = DEFAULT_PHASES) -> float:
    """A limit in another unit: W = A x voltage x phases (the period's, else the charger's)."""
    if unit == to_unit:
        return limit
    factor = voltage * (phases or default_phases)
    return limit * factor if to_unit == "W" else limit / factor


def limit_at(profiles, moment: float, unit: str, *, transaction_start: float | None = None,
             transaction_id: str | None = None, voltage: float = DEFAULT_VOLTAGE,
             phases: int = DEFAULT_PHASES) -> tuple[float, int | None] | None:
    """The composite limit (in `unit`) and phases at `moment`; None: nothing limits."""
    chosen: dict[str, tuple[Profile, float]] = {}
    for profile in profiles:
        start = _in_force(profile, moment, transaction_start, transaction_id)
        if start is None:
            continue
        best = chosen.get(profile.purpose)
        if best is None or profile.stack_level > best[0].stack_level:
            chosen[profile.purpose] = (profile, start)
    limits = []
    for purpose in (MAX, TX if TX in chosen else TX_DEFAULT):
        if purpose in chosen:
            profile, start = chosen[purpose]
            period = _period_at(profile, moment - start)
            limits.append((convert(period.limit, profile.unit, unit, period.phases, voltage,
                                   phases), period.phases))
    return min(limits, key=lambda item: item[0]) if limits else None


def _breakpoints(profile: Profile, begin: float, end: float, transaction_start) -> set[float]:
    points = {t for t in (profile.valid_from, profile.valid_to) if t is not None}
    starts = []
    if profile.kind == "Recurring" and profile.start_schedule is not None:
        period = _RECURRENCE[profile.recurrency]
        first = schedule_start(profile, begin, transaction_start) or profile.start_schedule
        moment = first
        while moment < end:
            starts.append(moment)
            moment += period
    else:
        start = schedule_start(profile, begin, transaction_start)
        if start is not None:
            starts.append(start)
    for start in starts:
        points.update(start + p.start for p in profile.periods)
        if profile.duration is not None:
            points.add(start + profile.duration)
    return {t for t in points if begin < t < end}


def composite_schedule(profiles, begin: float, duration: float, unit: str, *,
                       transaction_start: float | None = None, transaction_id: str | None = None,
                       default_limit: float | None = None, voltage: float = DEFAULT_VOLTAGE,
                       phases: int = DEFAULT_PHASES) -> list[Period]:
    """The composite schedule from `begin` for `duration` seconds, as periods from 0, equal
    neighbours merged. Where nothing limits, `default_limit` (the charger's own maximum,
    in `unit`) stands in; without one such stretches are left out of the schedule."""
    profiles = list(profiles)
    end = begin + duration
    points = {begin}
    for profile in profiles:
        points |= _breakpoints(profile, begin, end, transaction_start)
    out: list[Period] = []
    for moment in sorted(points):
        found = limit_at(profiles, moment, unit, transaction_start=transaction_start,
                         transaction_id=transaction_id, voltage=voltage, phases=phases)
        if found is None:
            if default_limit is None:
                continue
            found = (default_limit, None)
        limit, phases = round(found[0], 3), found[1]
        start = int(round(moment - begin))
        if out and out[-1].start == start:  # periods are whole seconds: the later one holds
            out.pop()
        if out and out[-1].limit == limit and out[-1].phases == phases:
            continue
        out.append(Period(start, limit, phases))
    return out



class ProfileHistory:
    """One charger's charging profiles as its frames tell them (the accepted
    Set/ClearChargingProfile calls, transactions starting and ending): the limit in force
    at any instant, for the plot's limit line, live or from a capture."""

    def __init__(self) -> None:
        self.store = ProfileStore()
        self.transactions: dict[int, tuple[float, str]] = {}  # connector -> (start, id)
        self.limited = False  # a profile was ever accepted: there is a limit line to draw

    def profile_set(self, payload: dict) -> None:
        self.limited = True
        connector, body = set_request(payload)
        try:
            self.store.install(parse_profile(body, connector))
        except (ProfileError, KeyError, TypeError, ValueError):
            pass  # the charger accepted what OCPP says to reject: nothing we can draw

    def profile_cleared(self, payload: dict) -> None:
        self.store.clear(**clear_criteria(payload))

    def transaction_started(self, connector: int, moment: float, transaction_id: str | None) -> None:
        self.transactions[connector] = (moment, transaction_id)

    def transaction_ended(self, connector: int | None, transaction_id: str | None = None) -> None:
        """A transaction ended on `connector`; not named (1.6 StopTransaction, a 2.x
        Ended without its EVSE): the one with this id, else every one of the charger."""
        if connector is None:
            named = [where for where, (_start, tx) in self.transactions.items()
                     if transaction_id is not None and tx == transaction_id]
            ending = named or list(self.transactions)
        else:
            ending = [connector]
        for where in ending:
            self.transactions.pop(where, None)
            self.store.end_transaction(where)

    def limit_w(self, connector: int, moment: float, *, voltage: float = DEFAULT_VOLTAGE,
                phases: int = DEFAULT_PHASES) -> float | None:
        start, transaction_id = self.transactions.get(connector, (None, None))
        found = limit_at(self.store.for_connector(connector), moment, "W",
                         transaction_start=start, transaction_id=transaction_id,
                         voltage=voltage, phases=phases)
        return None if found is None else found[0]
