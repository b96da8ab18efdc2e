"""Faults, over real sockets: the transaction ends with the fault's reason, the connector
reports Faulted (with the error code in 1.6), then Available again; from the API and from
`charger --fault`."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from inspector.events import FrameLogged
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.store import Capture
from tests.roles_helpers import csms, recording_hub, running


def calls(events, action):
    return [json.loads(e.record.frame.raw)[3] for e in events
            if isinstance(e, FrameLogged) and e.record.action == action
            and e.record.direction == "to_csms" and e.record.type.value == "CALL"]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_fault_ends_the_transaction_and_faults_the_connector(version):
    hub, events = recording_hub()
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "CP-F", version=version))
        await charger.connect()
        try:
            await charger.boot()
            await charger.plug_in()
            await charger.start_transaction()
            await charger.fault("GroundFailure")
            await charger.recover()
        finally:
            await charger.close()
    frames = [e.record for e in events if isinstance(e, FrameLogged)]
    assert all(r.valid is not False for r in frames), [r.errors for r in frames if r.valid is False]
    statuses = calls(events, "StatusNotification")
    if version == "1.6":
        assert calls(events, "StopTransaction")[-1]["reason"] == "Other"
        assert (statuses[-2]["status"], statuses[-2]["errorCode"]) == ("Faulted", "GroundFailure")
        assert (statuses[-1]["status"], statuses[-1]["errorCode"]) == ("Available", "NoError")
    else:
        ended = calls(events, "TransactionEvent")[-1]
        assert (ended["eventType"], ended["triggerReason"],
                ended["transactionInfo"]["stoppedReason"]) == ("Ended", "AbnormalCondition",
                                                                "GroundFault")
        assert [s["connectorStatus"] for s in statuses[-2:]] == ["Faulted", "Available"]
        assert calls(events, "NotifyEvent")[-1]["eventData"][0]["techInfo"] == "GroundFailure"
    assert "Finishing" not in [s.get("status", s.get("connectorStatus")) for s in statuses[-2:]]


async def test_charger_fault_from_the_command_line(tmp_path):
    async with running(csms()) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "inspector", "charger", "--url", server.url + "CP-CLI",
            "--meter-values", "200", "--interval", "0.05", "--fault", "0.5:HighTemperature",
            "--fault-for", "0.2", "--db", str(tmp_path / "c.db"), "-q",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "fault HighTemperature" in err.decode() and "recovered" in err.decode()
    statuses = [json.loads(f["raw"])[3] for f in Capture(tmp_path / "c.db").frames(
        action="StatusNotification", type="CALL")]
    assert [(s["status"], s["errorCode"]) for s in statuses[-2:]] == [
        ("Faulted", "HighTemperature"), ("Available", "NoError")]
