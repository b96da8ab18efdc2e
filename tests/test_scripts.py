"""Scenario scripts: the shipped examples run as a user runs them, and the scripting API's
promises (handlers, wait_for, CALLERRORs, errors that name the line) over real sockets."""

import asyncio
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.scripting import ScriptError, load_script, run_charger_script
from tests.conftest import exported, raw_json
from tests.roles_helpers import csms, listening_url, running

CLI = [sys.executable, "-m", "inspector"]
SCRIPTS = Path(__file__).parent.parent / "examples" / "scripts"


def script_file(tmp_path, text: str, name: str = "s.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def scripted_csms(tmp_path):
    """`ocpp-inspector csms --script examples/scripts/csms_checks.py`; yields its URL."""
    process = subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--db",
                                str(tmp_path / "csms.db"), "--script",
                                str(SCRIPTS / "csms_checks.py")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = listening_url(process)
    yield url, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    process.wait(20)


def run_cli(*args, timeout=120):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
def test_the_example_scripts_run_against_each_other(scripted_csms, tmp_path, version):
    """charger_session.py and charger_refused_card.py against csms_checks.py, both versions:
    each exits 0, and the capture holds what each script did."""
    url, server = scripted_csms
    for name, cp in (("charger_session.py", "CPS1"), ("charger_refused_card.py", "CPS2")):
        result = run_cli("charger", "--url", url + cp, "--version", version, "-q", "--db",
                         str(tmp_path / f"{cp}.db"), "--script", str(SCRIPTS / name))
        assert result.returncode == 0, result.stderr
        assert f"script {name} complete" in result.stderr and "Traceback" not in result.stderr
    session = exported(tmp_path / "CPS1.db")
    assert any(f["action"] == "DataTransfer" and f["type"] == "CALL" for f in session)
    refused = exported(tmp_path / "CPS2.db")
    answers = [raw_json(f)[2] for f in refused if f["type"] == "CALLRESULT"
               and f["action"] == "Authorize"]
    statuses = [(a.get("idTagInfo") or a.get("idTokenInfo"))["status"] for a in answers]
    assert statuses[0] == "Invalid"  # the CSMS script's handler refused BAD0001
    server.send_signal(signal.SIGINT)
    output = server.communicate(timeout=20)[0]
    assert "CPS1: heartbeat interval 300" in output and "CPS2: card BAD0001 refused" in output


def test_the_fleet_example_runs_on_every_member(tmp_path):
    """fleet --script: every member runs the script; boots and errors are counted."""
    with subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--no-log"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as server:
        url = listening_url(server)
        result = run_cli("fleet", "--url", url, "--count", "6", "--duration", "6", "--json",
                         "--no-log", "--script", str(SCRIPTS / "fleet_rush_hour.py"))
        server.send_signal(signal.SIGINT)
        server.wait(20)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["booted"] == 6 and summary["script_errors"] == 0 and summary["errors"] == 0


def test_a_failing_fleet_script_fails_the_run(tmp_path):
    failing = script_file(tmp_path, """
        async def run(cp):
            await cp.boot()
            raise RuntimeError("broken on purpose")
    """)
    with subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--no-log"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as server:
        url = listening_url(server)
        result = run_cli("fleet", "--url", url, "--count", "2", "--duration", "4", "--no-log",
                         "--script", str(failing))
        server.send_signal(signal.SIGINT)
        server.wait(20)
    assert result.returncode == 1
    assert "the script failed on 2 charger(s)" in result.stderr
    assert "s.py (line 4, in run): RuntimeError: broken on purpose" in result.stderr


@pytest.mark.parametrize("text, problem", [
    ("async def run(cp):\n    await cp.boot(\n", "line 2: SyntaxError"),
    ("import no_such_module_here\n", "ModuleNotFoundError"),
    ("def run(cp):\n    pass\n", "run must be `async def run(...)`"),
    ("x = 1\n", "has no `async def run(cp)`"),
])
def test_a_script_that_cannot_load_is_one_line_before_anything_runs(tmp_path, text, problem):
    path = script_file(tmp_path, text)
    result = run_cli("charger", "--url", "ws://127.0.0.1:9/CP1", "--no-log", "--script", str(path))
    assert result.returncode == 1 and problem in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_csms_script_needs_its_own_entry_points(tmp_path):
    with pytest.raises(ScriptError, match="defines run"):
        load_script(script_file(tmp_path, "async def run(cp):\n    pass\n"), kind="csms")
    with pytest.raises(ScriptError, match="no script file"):
        load_script(tmp_path / "missing.py", kind="csms")


async def test_handlers_wait_for_and_callerrors_over_real_sockets(tmp_path):
    """A charger script's handler answers the CSMS (and its None falls back to the built-in
    answer); wait_for hands over a call that came before it was asked for; a CALLERROR from
    the CSMS is CallRefused with its code; a CSMS handler that fails answers InternalError
    and says which line."""
    charger_script = load_script(script_file(tmp_path, """
        from inspector.scripting import CallRefused, on

        @on("Reset")
        async def reset(cp, payload):
            return {"status": "Rejected"} if payload["type"] == "Hard" else None

        async def run(cp):
            await cp.boot()
            await cp.sleep(0)
            assert await cp.wait_for("Reset", timeout=20) == {"type": "Hard"}
            assert await cp.wait_for("Reset", timeout=20) == {"type": "Soft"}
            try:
                await cp.call("DataTransfer", {"vendorId": "x"})
            except CallRefused as refusal:
                cp.log(f"refused with {refusal.code}")
    """, "charger_side.py"), kind="charger")
    csms_script = load_script(script_file(tmp_path, """
        from inspector.scripting import on

        @on("DataTransfer")
        async def data(station, payload):
            raise KeyError("oops")
    """, "csms_side.py"), kind="csms")
    hub, notices = Hub(), []
    hub.subscribe(lambda e: notices.append(e.text) if type(e).__name__ == "Notice" else None)
    async with running(csms(hub, script=csms_script)) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "CPH", version="1.6"))
        task = asyncio.ensure_future(run_charger_script(charger, charger_script))
        for _ in range(2000):
            if "CPH" in server.stations and charger.heartbeat_interval:
                break
            await asyncio.sleep(0.01)
        hard = await server.call("CPH", "Reset", {"type": "Hard"})
        soft = await server.call("CPH", "Reset", {"type": "Soft"})
        await asyncio.wait_for(task, 20)
        await charger.close()
    assert hard.payload == {"status": "Rejected"} and soft.payload == {"status": "Accepted"}
    assert "CPH: refused with InternalError" in notices
    assert any("csms_side.py (line 6, in data): KeyError" in text for text in notices)


async def test_a_charger_script_error_names_its_line(tmp_path):
    script = load_script(script_file(tmp_path, """
        async def run(cp):
            await cp.boot()
            await cp.status("Available", connector=3)
    """), kind="charger")
    async with running(csms()) as server:
        charger = FakeCharger(Hub(), ChargerOptions(url=server.url + "CPE", version="1.6"))
        with pytest.raises(ScriptError, match=r"s.py \(line 4, in run\): ValueError: CPE has "
                                              r"connector\(s\) 1..1, not 3"):
            await run_charger_script(charger, script)
        await charger.close()
