"""The fake CSMS answers every action, rejects bad frames properly and stays up."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from inspector.roles.charger import ChargerError, ChargerOptions, FakeCharger
from inspector.roles.csms import OverrideError, load_overrides
from tests.factories import BOOT_16, a_call
from tests.roles_helpers import csms, run_charger, running


async def exchange(ws, text):
    await ws.send(text)
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


@pytest.mark.parametrize("subprotocol,text,expected", [
    ("ocpp1.6", "{oops", ["-1", "ProtocolError"]),
    ("ocpp2.0.1", "{oops", ["-1", "RpcFrameworkError"]),
    ("ocpp1.6", '[2,"m1","Heartbeat"]', ["m1", "FormationViolation"]),
    ("ocpp2.0.1", '[2,"m1","Heartbeat"]', ["m1", "FormatViolation"]),
    ("ocpp1.6", '[2,"u1","Teleport",{}]', ["u1", "NotImplemented"]),
    ("ocpp2.0.1", '[2,"u1","Teleport",{}]', ["u1", "NotImplemented"]),
    ("ocpp1.6", '[2,"v1","BootNotification",{"chargePointVendor":"V"}]',
     ["v1", "OccurenceConstraintViolation"]),
    ("ocpp2.0.1", '[2,"v2","BootNotification",{"reason":"Nope","chargingStation":{"model":"M","vendorName":"V"}}]',
     ["v2", "PropertyConstraintViolation"]),
    ("ocpp1.6", '[9,"t1","Heartbeat",{}]', ["t1", "NotImplemented"]),
    ("ocpp2.0.1", '[9,"t1","Heartbeat",{}]', ["t1", "MessageTypeNotSupported"]),
])
async def test_bad_frames_get_the_right_callerror_and_connection_stays_up(subprotocol, text, expected):
    """Each bad frame gets a CALLERROR with the version's code; a valid CALL still works after."""
    async with running(csms()) as server:
        async with connect(server.url + "CP1", subprotocols=[subprotocol]) as ws:
            answer = await exchange(ws, text)
            assert answer[0] == 4 and answer[1:3] == expected
            after = await exchange(ws, a_call("Heartbeat", unique_id="ok"))
            assert after[0] == 3 and after[1] == "ok" and "currentTime" in after[2]


async def test_responses_are_overridden_per_action(tmp_path):
    """Boot Rejected from an overrides file makes the charger stop with a clear message."""
    path = tmp_path / "overrides.json"
    path.write_text(json.dumps({"BootNotification": {"status": "Rejected"}}))
    async with running(csms(overrides=load_overrides(path))) as server:
        with pytest.raises(ChargerError, match="rejected BootNotification"):
            await run_charger(server.url + "CP1")


async def test_override_can_answer_with_callerror():
    """$error answers a CALL with the given CALLERROR."""
    async with running(csms(overrides={"Authorize": {"$error": ["SecurityError", "no cards"]}})) as server:
        async with connect(server.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
            answer = await exchange(ws, a_call("Authorize", {"idTag": "X"}, "a"))
    assert answer == [4, "a", "SecurityError", "no cards", {}]


async def test_override_merges_into_default():
    """A partial override changes one field and keeps the rest of the default response."""
    async with running(csms(overrides={"Authorize": {"idTagInfo": {"status": "Blocked"}}})) as server:
        async with connect(server.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
            assert (await exchange(ws, a_call("BootNotification", BOOT_16)))[2]["status"] == "Accepted"
            answer = await exchange(ws, a_call("Authorize", {"idTag": "X"}, "a"))
    assert answer[2] == {"idTagInfo": {"status": "Blocked"}}


@pytest.mark.parametrize("content,message", [
    ("{", "is not valid JSON"), ('["x"]', "must map action names"), (None, "cannot read")])
def test_bad_overrides_file_is_a_clear_error(tmp_path, content, message):
    """Broken overrides files are refused with the reason."""
    path = tmp_path / "o.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(OverrideError, match=message):
        load_overrides(path)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_csms_initiated_calls_drive_the_fake_charger(version):
    """Remote start/stop, configuration, trigger and reset work against our charger."""
    async with running(csms()) as server:
        connected = asyncio.Event()
        server.on_station = lambda endpoint: connected.set()
        charger = FakeCharger(server.hub, ChargerOptions(url=server.url + "CP1", version=version))
        await charger.connect()
        await charger.boot()
        await asyncio.wait_for(connected.wait(), 5)
        v16 = version == "1.6"
        if v16:
            answer = await server.call("CP1", "RemoteStartTransaction", {"idTag": "REMOTE1"})
        else:
            answer = await server.call("CP1", "RequestStartTransaction",
                                       {"idToken": {"idToken": "REMOTE1", "type": "ISO14443"},
                                        "remoteStartId": 7})
        assert answer.payload["status"] == "Accepted"
        for _ in range(200):
            if charger.transaction_id is not None and charger.status == "Charging":
                break
            await asyncio.sleep(0.01)
        assert charger.transaction_id is not None
        if v16:
            config = await server.call("CP1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "42"})
            assert config.payload["status"] == "Accepted"
            got = await server.call("CP1", "GetConfiguration", {"key": ["HeartbeatInterval", "Nope"]})
            assert got.payload == {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False,
                                                         "value": "42"}], "unknownKey": ["Nope"]}
            stop = await server.call("CP1", "RemoteStopTransaction", {"transactionId": charger.transaction_id})
        else:
            item = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
            set_answer = await server.call("CP1", "SetVariables", {"setVariableData": [{**item, "attributeValue": "42"}]})
            assert set_answer.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
            got = await server.call("CP1", "GetVariables", {"getVariableData": [item]})
            assert got.payload["getVariableResult"][0]["attributeValue"] == "42"
            stop = await server.call("CP1", "RequestStopTransaction", {"transactionId": charger.transaction_id})
        assert stop.payload["status"] == "Accepted"
        trigger = await server.call("CP1", "TriggerMessage", {"requestedMessage": "Heartbeat"})
        assert trigger.payload["status"] == "Accepted"
        for _ in range(200):
            if charger.transaction_id is None and charger.status == "Available":
                break
            await asyncio.sleep(0.01)
        assert charger.transaction_id is None
        reset = await server.call("CP1", "Reset", {"type": "Soft"} if v16 else {"type": "Immediate"})
        assert reset.payload["status"] == "Accepted"
        await asyncio.wait_for(charger.reset_requested.wait(), 5)
        await charger.close()


async def test_call_to_unknown_charge_point_is_a_clear_error():
    """Calling a charge point that is not connected names it."""
    async with running(csms()) as server:
        with pytest.raises(LookupError, match="'NOPE' is not connected"):
            await server.call("NOPE", "Reset", {"type": "Soft"})


async def test_charger_against_a_csms_that_is_down():
    """The fake charger reports a refused connection in one line."""
    dead = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = dead.sockets[0].getsockname()[1]
    dead.close()
    await dead.wait_closed()
    with pytest.raises(ChargerError, match=f"cannot connect to ws://127.0.0.1:{port}/CP1"):
        await run_charger(f"ws://127.0.0.1:{port}/CP1")


async def test_charger_stops_when_csms_vanishes_mid_call():
    """A CSMS that drops the connection while a CALL is outstanding gives a clear error."""
    from websockets.asyncio.server import serve

    async def drop(ws):
        await ws.recv()
        await ws.close(1011, "crash")

    async with serve(drop, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(ChargerError, match="closed the connection during BootNotification"):
            await run_charger(f"ws://127.0.0.1:{port}/CP1")


async def test_oversize_call_gets_callerror_and_connection_stays_up():
    """Above --max-size a CALL is answered FormatViolation by id; the next CALL still works."""
    async with running(csms(max_size=1000)) as server:
        async with connect(server.url + "CP1", subprotocols=["ocpp2.0.1"], max_size=None) as ws:
            big = a_call("DataTransfer", {"vendorId": "V", "data": "x" * 5000}, "big1")
            answer = await exchange(ws, big)
            assert answer[:3] == [4, "big1", "FormatViolation"]
            assert "exceeds the limit of 1000 bytes" in answer[3]
            assert (await exchange(ws, a_call("Heartbeat", unique_id="ok")))[0] == 3


async def test_a_charger_offering_no_supported_subprotocol_is_closed_at_once_and_logged(tmp_path):
    """OCPP-J: answer the handshake without a subprotocol and close; say so in the capture.
    --accept-no-subprotocol serves such a charger as 1.6 instead."""
    from websockets.asyncio.client import connect as ws_connect
    from tests.conftest import exported
    from tests.roles_helpers import logged_hub
    from inspector.store import Capture
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    try:
        async with running(csms(hub)) as server:
            async with ws_connect(server.url + "CP9", subprotocols=["ocpp0.9"]) as ws:
                assert ws.subprotocol is None
                await ws.wait_closed()
                assert ws.close_code == 1002
        writer.flush()
    finally:
        writer.close()
    capture = Capture(path)
    notes = [c["note"] for c in capture.connections()]
    capture.close()
    assert notes == ["closed at once: offered no OCPP subprotocol this CSMS supports (ocpp0.9)"]
    assert exported(path) == []
    async with running(csms(require_subprotocol=False)) as server:
        async with ws_connect(server.url + "CP9") as ws:
            await ws.send('[2,"1","Heartbeat",{}]')
            assert '"currentTime"' in await ws.recv()
