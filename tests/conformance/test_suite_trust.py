"""No false pass, no false fail: cases judged against a station that is not our simulator.

The station (`independent.py`) is built on the `ocpp` library and sends its boot-time
StatusNotification on its own clock, after the boot answer, as real stations do. Each
mutant gets one behaviour wrong; the case that checks that behaviour must fail it, and the
correct station must pass it. Runs are non-interactive (no prompt handler).
"""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from inspector.conformance import SuiteRunner, Verdict, catalog

from independent import station
from suite_helpers import by_id, failures, options

# a settle well above the station's status delay: a busy CI box must not turn it into a race
TRUST = {"settle": 1.0}


async def run_against(version: str, ids: list[str], broken: str = ""):
    runner = SuiteRunner(options(version, "charger", auto=False, connect_timeout=10,
                                 step_timeout=3, params=TRUST))
    sut = None
    try:
        await runner.start()
        sut = station(version, runner.endpoint + "INDEP", broken)
        await sut.power_on()
        return await runner.run(catalog.select(version, "charger", ids))
    finally:
        await runner.stop()
        runner.close()
        if sut is not None:
            await sut.close()


TRIGGER_CASES = {"2.0.1": ["TC_F_23_CS", "TC_F_20_CS", "RPC_03_CS"],
                 "1.6": ["TC_054_CS", "RPC_03_CS"]}
RESET_CASES = {"2.0.1": ["TC_B_20_CS"], "1.6": ["TC_013_CS", "TC_014_CS"]}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_correct_independent_station_passes(version):
    ids = TRIGGER_CASES[version] + RESET_CASES[version] + ["RPC_01_CS"]
    if version == "1.6":
        ids += ["TC_031_CS", "TC_062_CS"]
    result = await run_against(version, ids)
    assert result.passed, failures(result)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_trigger_that_is_accepted_but_never_sent_fails(version):
    """The station's own post-boot StatusNotification is never taken as the triggered one."""
    result = await run_against(version, TRIGGER_CASES[version], broken="trigger_ignored")
    for case in result.cases:
        assert case.verdict is Verdict.FAIL, case.log(frames=False)
        assert "within 3 s, got nothing" in case.reason, case.reason


@pytest.mark.parametrize("version,broken", [("1.6", "reset_ignored"), ("1.6", "reset_reconnects"),
                                            ("2.0.1", "reset_ignored"),
                                            ("2.0.1", "reset_reconnects")])
async def test_a_reset_without_a_reboot_fails(version, broken):
    result = await run_against(version, RESET_CASES[version][:1], broken=broken)
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL, case.log(frames=False)
    wanted = ("did not close the connection" if broken == "reset_ignored"
              else "expected BootNotification")
    assert wanted in case.reason, case.reason


async def test_a_reboot_reported_as_power_up_after_reset_fails():
    result = await run_against("2.0.1", ["TC_B_20_CS"], broken="reset_reason_power_up")
    assert result.cases[0].verdict is Verdict.FAIL
    assert result.cases[0].reason.endswith("reason is 'PowerUp', expected RemoteReset")


async def test_number_of_connectors_is_read_by_key_not_by_position():
    """The station lists HeartbeatInterval (300) first; the case must unlock connector 2."""
    result = await run_against("1.6", ["TC_031_CS"], broken="connectors_unordered")
    case = result.cases[0]
    assert case.passed, failures(result)
    sent = [f.raw for f in case.steps[2].frames if not f.from_sut and '"UnlockConnector"' in f.raw]
    assert sent and json.loads(sent[0])[3] == {"connectorId": 2}


# ---- ids longer than 36 characters: the limit binds the sender -----------------------------------

async def _raw_csms(long_id_answer: str):
    """A 1.6 CSMS of a few lines that answers a CALL with an over-long id as told:
    "error" a CALLERROR echoing the id, "other-id" a CALLERROR with an id we never sent."""

    async def handler(ws):
        try:
            async for text in ws:
                message = json.loads(text)
                if message[0] != 2:
                    continue
                uid, action = message[1], message[2]
                if len(uid) > 36:
                    echo = uid if long_id_answer == "error" else "someone-else"
                    await ws.send(json.dumps([4, echo, "FormationViolation", "id too long", {}]))
                elif action == "Heartbeat":
                    await ws.send(json.dumps([3, uid, {"currentTime": "2026-01-01T00:00:00Z"}]))
                elif action == "BootNotification":
                    await ws.send(json.dumps([3, uid, {"currentTime": "2026-01-01T00:00:00Z",
                                                       "interval": 300, "status": "Accepted"}]))
                else:
                    await ws.send(json.dumps([3, uid, {}]))
        except ConnectionClosed:
            pass
    return serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"])


@pytest.mark.parametrize("answer,verdict", [("error", Verdict.PASS), ("other-id", Verdict.FAIL)])
async def test_a_callerror_echoing_an_over_long_id_is_not_blamed_on_the_sut(answer, verdict):
    async with await _raw_csms(answer) as server:
        port = server.sockets[0].getsockname()[1]
        runner = SuiteRunner(options("1.6", "csms", auto=False, step_timeout=1.5,
                                     target=f"ws://127.0.0.1:{port}/RAW1"))
        try:
            result = await runner.run(catalog.select("1.6", "csms", ["RPC_01_CSMS"]))
        finally:
            runner.close()
    case = by_id(result)["RPC_01_CSMS"]
    assert case.verdict is verdict, case.log(frames=False)
    step = case.steps[2]
    if verdict is Verdict.PASS:
        assert step.reason.startswith("CALLERROR FormationViolation with id 'ocpp-inspector-rpc-id")
    else:
        assert step.reason.startswith("no answer within 1.5 s")


# ---- a whole run with stdin closed, against the independent station -------------------------------

def _free_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_run_with_stdin_closed_passes_what_it_can_observe_and_never_hangs(monkeypatch, capsys):
    """No terminal, no --simulate-sut: the independent station boots on its own; cases
    without a person pass, cases that need one (plug in, present a card) end inconclusive
    within the operator timeout, and the run ends."""
    import asyncio
    import io
    import threading
    import time

    from inspector.cli import main

    port = _free_port()
    stop = threading.Event()

    def station_thread():
        async def play():
            sut = station("1.6", f"ws://127.0.0.1:{port}/INDEP", "")
            deadline = time.monotonic() + 30
            while not stop.is_set():
                try:
                    await sut.power_on()
                    break
                except OSError:  # the run is not listening yet
                    if time.monotonic() > deadline:
                        return
                    await asyncio.sleep(0.1)
            while not stop.is_set():
                await asyncio.sleep(0.05)
            await sut.close()
        asyncio.run(play())

    thread = threading.Thread(target=station_thread, daemon=True)
    thread.start()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # closed, not a terminal
    ids = ["TC_054_CS", "TC_003_CS", "TC_062_CS", "TC_023_4_CS", "TC_013_CS"]
    started = time.monotonic()
    try:
        code = main(["suite", "run", "--version", "1.6", "--sut", "charger",
                     "--listen", f"127.0.0.1:{port}", "--case", *ids, "--operator-timeout", "1",
                     "--step-timeout", "3", "--connect-timeout", "20", "--param", "settle=1"])
    finally:
        stop.set()
        thread.join(10)
    out = capsys.readouterr().out
    assert time.monotonic() - started < 90
    assert code == 1  # two cases could not be judged: not a pass
    assert "3 passed, 0 failed, 2 inconclusive, 0 not applicable, 0 error(s) of 5 case(s)" in out, out
    assert "needs an operator: Plug the cable into connector 1 (non-interactive run; waited 1 s" in out
    assert "Enter/y when done" not in out


# ---- TxStartPoint EVConnected (TC_E_03_CS) ---------------------------------------------------

@pytest.mark.parametrize("broken", ["", "starts_on_authorization"])
async def test_cable_plugin_first_needs_the_transaction_to_start_on_plug_in(broken):
    from inspector.conformance.sut_config import parse
    description = parse({"configuration": {"TxCtrlr/TxStartPoint": "EVConnected"}}, "sut.json")
    runner = SuiteRunner(options("2.0.1", "charger", auto=False, connect_timeout=10, step_timeout=3,
                                 params=TRUST, sut_config=description))
    sut = None
    try:
        await runner.start()
        sut = station("2.0.1", runner.endpoint + "INDEP", broken)
        runner.prompt = sut.operate
        await sut.power_on()
        result = await runner.run(catalog.select("2.0.1", "charger", ["TC_E_03_CS"]))
    finally:
        await runner.stop()
        runner.close()
        if sut is not None:
            await sut.close()
    case = result.cases[0]
    if not broken:
        assert case.passed, case.log(frames=False)
    else:
        assert case.verdict is Verdict.FAIL
        # nothing starts on plug-in: the Started event comes only after the card
        assert case.reason == ("step 3: expected TransactionEvent with eventType Started within "
                               "3 s, got nothing"), case.reason
