"""Pairing and validation per connection, driven without sockets."""

import pytest

from inspector.events import Hub
from inspector.monitor import ConnectionMonitor
from tests.factories import BOOT_16, BOOT_201, a_call, a_result, an_error


def monitor(version="1.6", **kwargs):
    hub = Hub()
    return ConnectionMonitor(hub.new_connection("CP1", "proxy", version=version), hub.next_seq, **kwargs)


def test_response_gets_action_and_latency_of_its_call():
    """A CALLRESULT in the opposite direction is paired by id."""
    m = monitor()
    call = m.observe("to_csms", a_call("Heartbeat", unique_id="h1"), 10.0)
    result = m.observe("to_charger", a_result({"currentTime": "2026-01-01T00:00:00Z"}, "h1"), 10.25)
    assert (result.action, result.latency_ms, result.request_seq) == ("Heartbeat", 250.0, call.seq)
    assert result.valid is True and not result.flags


def test_response_in_same_direction_is_not_paired():
    """A charger's own CALL is not answered by a frame the charger sends."""
    m = monitor()
    m.observe("to_csms", a_call("Heartbeat", unique_id="h1"), 0)
    result = m.observe("to_csms", a_result({}, "h1"), 1)
    assert result.action is None and "no outstanding CALL with id 'h1'" in result.flags


def test_unmatched_response_is_flagged():
    """A response to no CALL is flagged."""
    assert monitor().observe("to_charger", a_result({}, "zz"), 0).flags == ["no outstanding CALL with id 'zz'"]


def test_duplicate_id_is_flagged():
    """Reusing an id on the same connection and direction is flagged."""
    m = monitor()
    m.observe("to_csms", a_call("Heartbeat", unique_id="d"), 0)
    m.observe("to_charger", a_result({"currentTime": "2026-01-01T00:00:00Z"}, "d"), 0)
    again = m.observe("to_csms", a_call("Heartbeat", unique_id="d"), 1)
    assert "duplicate unique id 'd'" in again.flags


def test_second_call_while_outstanding_is_flagged():
    """OCPP allows one outstanding CALL per sender."""
    m = monitor()
    m.observe("to_csms", a_call("Heartbeat", unique_id="a"), 0)
    second = m.observe("to_csms", a_call("Heartbeat", unique_id="b"), 0.1)
    assert "second CALL while 'a' is outstanding" in second.flags
    other_side = m.observe("to_charger", a_call("Reset", {"type": "Soft"}, unique_id="c"), 0.2)
    assert not other_side.flags


def test_unanswered_call_expires_with_a_flag():
    """A CALL without a response after the timeout is flagged once."""
    m = monitor(call_timeout=5)
    call = m.observe("to_csms", a_call("Heartbeat", unique_id="x"), 0)
    assert m.expire(4.9) == []
    events = m.expire(5.0)
    assert [e.record for e in events] == [call] and call.flags == ["unanswered after 5 s"]
    assert m.expire(100) == []


def test_schema_error_names_path_and_rule():
    """A missing required field is reported at its JSON path with the OCPP error code."""
    record = monitor().observe("to_csms", a_call("BootNotification", {"chargePointVendor": "V"}), 0)
    assert record.valid is False
    [finding] = record.errors
    assert finding.path == "$.chargePointModel" and finding.rule == "required"
    assert finding.ocpp_error == "OccurenceConstraintViolation"  # 1.6 spelling


@pytest.mark.parametrize("version,payload", [("1.6", BOOT_16), ("2.0.1", BOOT_201), ("2.1", BOOT_201)])
def test_valid_boot_in_each_version(version, payload):
    """The schema is chosen from the negotiated version."""
    assert monitor(version).observe("to_csms", a_call("BootNotification", payload), 0).valid is True


def test_wrong_enum_in_nested_field():
    """Enum violations name the nested path."""
    m = monitor("2.0.1")
    m.observe("to_csms", a_call("Authorize", {"idToken": {"idToken": "A", "type": "ISO14443"}}, "a"), 0)
    result = m.observe("to_charger", a_result({"idTokenInfo": {"status": "Sure"}}, "a"), 0)
    assert result.errors[0].path == "$.idTokenInfo.status"
    assert result.errors[0].ocpp_error == "PropertyConstraintViolation"


def test_decimal_multiple_of_accepts_one_decimal_place():
    """1.6 limits with multipleOf 0.1 accept 7.3 despite binary floats."""
    payload = {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.3}]}}}
    record = monitor().observe("to_charger", a_call("SetChargingProfile", payload), 0)
    assert record.valid is True, record.errors


def test_unknown_action_is_flagged_not_validated():
    """No schema applies to an unknown action: valid is None and a flag says why."""
    record = monitor().observe("to_csms", a_call("Teleport"), 0)
    assert record.valid is None and record.flags == ["unknown action 'Teleport' in OCPP 1.6"]


def test_malformed_frame_is_invalid_with_reason():
    """MALFORMED frames carry the codec's reason as a finding."""
    record = monitor().observe("to_csms", "[2,", 0)
    assert record.valid is False and "not valid JSON" in record.errors[0].message


def test_callerror_with_unknown_code_is_invalid():
    """CALLERRORs are checked for a known error code."""
    m = monitor()
    m.observe("to_csms", a_call("Heartbeat", unique_id="e"), 0)
    assert m.observe("to_charger", an_error("Oops", "e"), 0).valid is False
    m.observe("to_csms", a_call("Heartbeat", unique_id="f"), 0)
    assert m.observe("to_charger", an_error("NotSupported", "f"), 0).valid is True


def test_a_busy_connection_keeps_only_the_ids_of_the_last_call_timeout():
    """Duplicate ids are told within the call timeout; older ids are forgotten, so memory
    per connection stays small however many calls it has seen."""
    import tracemalloc
    from inspector.events import Hub
    from inspector.monitor import ConnectionMonitor
    hub = Hub()
    info = hub.new_connection("CP1", "csms", subprotocol="ocpp1.6", version="1.6")
    monitor = ConnectionMonitor(info, hub.next_seq, call_timeout=30)
    tracemalloc.start()
    try:
        base = tracemalloc.take_snapshot()
        for i in range(20_000):  # one call a second in each direction for 5.5 hours
            now = float(i)
            monitor.observe("to_csms", f'[2,"id-{i:032d}","Heartbeat",{{}}]', now)
            monitor.observe("to_charger", f'[3,"id-{i:032d}",{{"currentTime":"2026-01-01T00:00:00Z"}}]', now)
        grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(base, "filename")
                    if "monitor.py" in s.traceback[0].filename)
    finally:
        tracemalloc.stop()
    assert len(monitor._recent_ids["to_csms"]) <= 31 and len(monitor._answered) <= 31
    assert grown < 30_000, grown  # a few KB, not hundreds
    again = monitor.observe("to_csms", f'[2,"id-{19_999:032d}","Heartbeat",{{}}]', 20_000.0)
    assert any(f.startswith("duplicate unique id") for f in again.flags)  # within the window
    old = monitor.observe("to_csms", f'[2,"id-{0:032d}","Heartbeat",{{}}]', 20_001.0)
    assert not any(f.startswith("duplicate unique id") for f in old.flags)  # long forgotten


def test_a_callerror_answering_a_malformed_frame_is_not_flagged():
    from inspector.events import Hub
    from inspector.monitor import ConnectionMonitor
    hub = Hub()
    info = hub.new_connection("CP1", "csms", subprotocol="ocpp1.6", version="1.6")
    monitor = ConnectionMonitor(info, hub.next_seq)
    monitor.observe("to_csms", "not json", 0.0)
    answer = monitor.observe("to_charger", '[4,"-1","FormationViolation","not JSON",{}]', 0.1)
    assert answer.flags == [] and answer.valid is True
    monitor.observe("to_csms", '[2,"m1","Heartbeat"]', 0.2)  # an id can be read: answered by it
    assert monitor.observe("to_charger", '[4,"m1","FormationViolation","",{}]', 0.3).flags == []
    stray = monitor.observe("to_charger", '[4,"never-seen","GenericError","",{}]', 0.4)
    assert stray.flags == ["no outstanding CALL with id 'never-seen'"]
