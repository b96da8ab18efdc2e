"""charger → proxy → csms over real sockets, asserting the proxy's exported log frame by frame."""

import pytest

from tests.conftest import exported, raw_json
from tests.roles_helpers import csms, logged_hub, proxy, run_charger, running

SESSION_16 = [
    "BootNotification", "StatusNotification", "Heartbeat", "Authorize", "StatusNotification",
    "StartTransaction", "StatusNotification", "MeterValues", "MeterValues", "StopTransaction",
    "StatusNotification", "StatusNotification"]
SESSION_2X = [
    "BootNotification", "StatusNotification", "Heartbeat", "Authorize", "StatusNotification",
    "TransactionEvent", "StatusNotification", "TransactionEvent", "TransactionEvent",
    "TransactionEvent", "StatusNotification", "StatusNotification"]


@pytest.mark.parametrize("version,subprotocol,actions", [
    ("1.6", "ocpp1.6", SESSION_16), ("2.0.1", "ocpp2.0.1", SESSION_2X), ("2.1", "ocpp2.1", SESSION_2X)])
async def test_session_through_proxy_is_logged_frame_by_frame(tmp_path, version, subprotocol, actions):
    """Every CALL and its CALLRESULT appear in order, paired, valid, with latency."""
    hub, writer = logged_hub(tmp_path / "proxy.db")
    async with running(csms()) as server, running(proxy(server.url, hub)) as relay:
        await run_charger(f"{relay.url}CP-{version}", version)
    writer.close()
    frames = exported(tmp_path / "proxy.db")
    assert len(frames) == 2 * len(actions)
    for index, action in enumerate(actions):
        call, result = frames[2 * index], frames[2 * index + 1]
        assert (call["type"], call["direction"], call["action"]) == ("CALL", "to_csms", action)
        assert (result["type"], result["direction"], result["action"]) == ("CALLRESULT", "to_charger", action)
        assert call["unique_id"] == result["unique_id"]
        assert call["valid"] is True and result["valid"] is True, (call, result)
        assert result["latency_ms"] is not None and result["latency_ms"] >= 0
        assert call["charge_point_id"] == f"CP-{version}" and not call["flags"]
    # business content went through: a transaction was started and the meter rose
    meter = [raw_json(f)[3] for f in frames if f["action"] in ("MeterValues", "TransactionEvent")
             and f["type"] == "CALL"]
    assert meter, "no meter frames"


async def test_fake_csms_assigns_transaction_ids(tmp_path):
    """1.6 StartTransaction gets a fresh transactionId that the charger uses to stop."""
    hub, writer = logged_hub(tmp_path / "c.db")
    async with running(csms(hub)) as server:
        await run_charger(f"{server.url}A", "1.6", meter_values=1)
        await run_charger(f"{server.url}B", "1.6", meter_values=1)
    writer.close()
    frames = exported(tmp_path / "c.db")
    started = [raw_json(f)[2]["transactionId"] for f in frames
               if f["action"] == "StartTransaction" and f["type"] == "CALLRESULT"]
    stopped = [raw_json(f)[3]["transactionId"] for f in frames
               if f["action"] == "StopTransaction" and f["type"] == "CALL"]
    assert len(set(started)) == 2 and stopped == started
