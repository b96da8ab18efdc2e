"""The composite schedule, table by table: stacking, purposes, kinds, validity, units."""

from __future__ import annotations

import pytest

from inspector.smart_charging import (Period, ProfileError, ProfileStore, composite_schedule,
                                      limit_at, parse_profile)
from inspector.timestamps import iso

T0 = 1_795_600_800.0  # 2026-11-25T10:00:00Z, a Wednesday


def profile(pid, stack, purpose, periods, *, kind="Absolute", unit="A", start=T0, duration=None,
            recurrency=None, valid_from=None, valid_to=None, transaction=None, connector=None):
    """A 1.6 csChargingProfiles; `periods` is [(startPeriod, limit[, phases]), ...]."""
    schedule = {"chargingRateUnit": unit,
                "chargingSchedulePeriod": [dict(zip(("startPeriod", "limit", "numberPhases"), p))
                                           for p in periods]}
    if start is not None and kind != "Relative":
        schedule["startSchedule"] = iso(start)
    if duration is not None:
        schedule["duration"] = duration
    body = {"chargingProfileId": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
            "chargingProfileKind": kind, "chargingSchedule": schedule}
    for key, value in (("recurrencyKind", recurrency), ("transactionId", transaction),
                       ("validFrom", valid_from and iso(valid_from)),
                       ("validTo", valid_to and iso(valid_to))):
        if value is not None:
            body[key] = value
    if connector is None:
        connector = 0 if purpose == "ChargePointMaxProfile" else 1
    return parse_profile(body, connector)


def table(schedule):
    return [(p.start, round(p.limit, 3)) for p in schedule]


# (name, profiles, composite start offset, duration, expected [(offset, limit)])
CASES = [
    ("one absolute TxDefault",
     [profile(1, 0, "TxDefaultProfile", [(0, 16), (3600, 10)])], 0, 7200,
     [(0, 16), (3600, 10)]),
    ("a higher stack level wins while it lasts, then the lower one again",
     [profile(1, 0, "TxDefaultProfile", [(0, 16)]),
      profile(2, 1, "TxDefaultProfile", [(0, 6)], start=T0 + 1800, duration=1800)], 0, 7200,
     [(0, 16), (1800, 6), (3600, 16)]),
    ("the maximum profile caps the default, wherever it is lower",
     [profile(1, 0, "ChargePointMaxProfile", [(0, 20), (3600, 8)]),
      profile(2, 0, "TxDefaultProfile", [(0, 16)])], 0, 7200,
     [(0, 16), (3600, 8)]),
    ("a TxProfile overrides the TxDefaultProfile, even a higher one",
     [profile(1, 5, "TxDefaultProfile", [(0, 6)]),
      profile(2, 0, "TxProfile", [(0, 20)], kind="Relative")], 0, 3600,
     [(0, 20)]),
    ("validFrom and validTo bound a profile",
     [profile(1, 0, "TxDefaultProfile", [(0, 16)]),
      profile(2, 1, "TxDefaultProfile", [(0, 8)], valid_from=T0 + 600, valid_to=T0 + 1200)],
     0, 3600, [(0, 16), (600, 8), (1200, 16)]),
    ("a daily recurring profile repeats its periods every day",
     [profile(1, 0, "TxDefaultProfile", [(0, 32), (8 * 3600, 10), (18 * 3600, 32)],
              kind="Recurring", recurrency="Daily", start=T0 - 10 * 3600)], 0, 2 * 86400,
     [(0, 10), (8 * 3600, 32), (22 * 3600, 10), (32 * 3600, 32), (46 * 3600, 10)]),
    # OCTT 2.0.1 TC_K_40 (errata 2025 6.2.72): two stacked TxDefaultProfiles, no transaction
    ("TC_K_40: the higher stack level until its duration ends, then the lower",
     [profile(1, 0, "TxDefaultProfile", [(0, 6), (100, 8), (200, 10)], duration=400),
      profile(2, 1, "TxDefaultProfile", [(0, 7), (100, 9)], duration=150)], 0, 350,
     [(0, 7), (100, 9), (150, 8), (200, 10)]),
    # TC_K_41 (errata 6.2.73): maximum, default and transaction profiles together
    ("TC_K_41: the TxProfile under the maximum, then the default, then the maximum",
     [profile(1, 0, "ChargePointMaxProfile", [(0, 10)], duration=86400),
      profile(2, 0, "TxDefaultProfile", [(0, 6), (60, 10), (120, 8), (180, 15), (260, 8)],
              duration=300),
      profile(3, 0, "TxProfile", [(0, 8), (50, 11), (140, 16), (200, 6), (240, 12)],
              duration=260)], 0, 400,
     [(0, 8), (50, 10), (200, 6), (240, 10), (260, 8), (300, 10)]),
    # 1.6 §3.13.7: the specification's daily profile
    ("1.6 §3.13.7: a daily recurring profile, 11 kW by night, 6 kW by day",
     [profile(100, 0, "TxDefaultProfile", [(0, 11000, 3), (28800, 6000, 3), (72000, 11000, 3)],
              unit="W", kind="Recurring", recurrency="Daily", duration=86400,
              start=T0 - 10 * 3600)], 0, 86400,
     [(0, 6000 / 690), (10 * 3600, 11000 / 690), (22 * 3600, 6000 / 690)]),
    ("a relative profile counts from the transaction's start",
     [profile(1, 0, "TxProfile", [(0, 10), (600, 16)], kind="Relative")], 0, 1800,
     [(0, 10), (300, 16)]),
]


@pytest.mark.parametrize("name,profiles,offset,duration,expected", CASES, ids=[c[0] for c in CASES])
def test_composite_schedule(name, profiles, offset, duration, expected):
    # a transaction started 5 minutes before T0 (for TxProfiles and relative schedules)
    result = composite_schedule(profiles, T0 + offset, duration, "A",
                                transaction_start=T0 - 300, transaction_id=None)
    assert table(result) == [(start, round(limit, 3)) for start, limit in expected]


def test_nothing_in_force_gives_the_chargers_own_limit_or_no_period():
    only_later = [profile(1, 0, "TxDefaultProfile", [(0, 8)], start=T0 + 600)]
    assert table(composite_schedule(only_later, T0, 1200, "A", default_limit=32)) == [(0, 32), (600, 8)]
    assert table(composite_schedule(only_later, T0, 1200, "A")) == [(600, 8)]


def test_units_convert_with_the_voltage_and_the_phases():
    watts = [profile(1, 0, "TxDefaultProfile", [(0, 11040, 3), (60, 3680, 1)], unit="W")]
    assert table(composite_schedule(watts, T0, 120, "A")) == [(0, 16.0), (60, 16.0)]
    amps = [profile(1, 0, "TxDefaultProfile", [(0, 16)])]  # no numberPhases: 3
    assert table(composite_schedule(amps, T0, 60, "W")) == [(0, 11040.0)]
    assert limit_at(amps, T0, "W", voltage=220) == (16 * 220 * 3, None)


def test_a_tx_profile_for_another_transaction_or_none_does_not_apply():
    tx = [profile(1, 0, "TxProfile", [(0, 6)], transaction=7, kind="Relative")]
    assert limit_at(tx, T0, "A", transaction_start=T0 - 1, transaction_id="7") == (6, None)
    assert limit_at(tx, T0, "A", transaction_start=T0 - 1, transaction_id="8") is None
    assert limit_at(tx, T0, "A") is None  # no transaction running


def test_a_connectors_own_default_replaces_the_one_on_0_for_that_connector_only():
    store = ProfileStore()
    store.install(profile(1, 0, "TxDefaultProfile", [(0, 16)], connector=0))
    store.install(profile(2, 0, "TxDefaultProfile", [(0, 20)], connector=2))
    assert limit_at(store.for_connector(2), T0 + 1, "A") == (20, None)
    assert limit_at(store.for_connector(1), T0 + 1, "A") == (16, None)


def test_install_replaces_by_id_or_by_stack_level_and_purpose_and_clear_selects():
    store = ProfileStore()
    store.install(profile(1, 0, "TxDefaultProfile", [(0, 16)]))
    store.install(profile(2, 1, "TxDefaultProfile", [(0, 10)]))
    store.install(profile(1, 3, "TxDefaultProfile", [(0, 12)]))  # same id: replaces 1
    store.install(profile(9, 1, "TxDefaultProfile", [(0, 8)]))  # same stack and purpose: replaces 2
    assert sorted((p.id, p.stack_level) for p in store.profiles) == [(1, 3), (9, 1)]
    store.install(profile(5, 0, "ChargePointMaxProfile", [(0, 32)]))
    assert store.clear(purpose="TxDefaultProfile") == 2 and [p.id for p in store.profiles] == [5]
    assert store.clear(profile_id=77) == 0 and store.clear() == 1


@pytest.mark.parametrize("change,reason", [
    (dict(periods=[(10, 16)]), "start at 0"),
    (dict(kind="Recurring"), "recurrencyKind"),
    (dict(purpose="ChargePointMaxProfile", connector=1), "connector/EVSE 0"),
    (dict(purpose="TxProfile", connector=0), "not 0"),
    (dict(unit="kW"), "chargingRateUnit"),
])
def test_profiles_a_charger_must_reject(change, reason):
    args = dict(pid=1, stack=0, purpose="TxDefaultProfile", periods=[(0, 16)])
    args.update(change)
    with pytest.raises(ProfileError, match=reason):
        profile(args.pop("pid"), args.pop("stack"), args.pop("purpose"), args.pop("periods"), **args)


def test_a_201_profile_with_its_schedule_list_parses_the_same():
    v201 = {"id": 3, "stackLevel": 0, "chargingProfilePurpose": "ChargingStationMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [{"id": 1, "startSchedule": iso(T0), "chargingRateUnit": "W",
                                  "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 3700.0}]}]}
    parsed = parse_profile(v201, 0)
    assert (parsed.id, parsed.purpose, parsed.unit, parsed.periods) == (3, "max", "W",
                                                                         (Period(0, 3700.0),))


def test_transaction_changes_read_from_either_version():
    from inspector.smart_charging import TransactionChange, transaction_change
    accepted = {"idTagInfo": {"status": "Accepted"}, "transactionId": 7}
    assert transaction_change("StartTransaction", {"connectorId": 2}, accepted) == \
        TransactionChange(True, 2, "7")
    assert transaction_change("StartTransaction", {"connectorId": 2},
                              {"idTagInfo": {"status": "Blocked"}, "transactionId": 7}) is None
    assert transaction_change("StartTransaction", {"connectorId": 2}) is None  # not answered yet
    assert transaction_change("StopTransaction", {"transactionId": 7}) == \
        TransactionChange(False, None, "7")
    started = {"eventType": "Started", "evse": {"id": 1}, "transactionInfo": {"transactionId": "t"}}
    assert transaction_change("TransactionEvent", started) == TransactionChange(True, 1, "t")
    ended = {"eventType": "Ended", "transactionInfo": {"transactionId": "t"}}
    assert transaction_change("TransactionEvent", ended) == TransactionChange(False, None, "t")
    assert transaction_change("TransactionEvent", {**ended, "eventType": "Updated"}) is None
    assert transaction_change("Heartbeat", {}) is None


def test_a_transaction_ended_without_its_connector_ends_the_one_with_its_id():
    from inspector.smart_charging import ProfileHistory
    history = ProfileHistory()
    history.transaction_started(1, T0, "a")
    history.transaction_started(2, T0, "b")
    history.transaction_ended(None, "b")
    assert list(history.transactions) == [1]
    history.transaction_ended(None, "unknown")  # no id known: every one of the charger
    assert history.transactions == {}
