"""The headless verbs, run as a user runs them: separate processes, real sockets."""

import json
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.roles_helpers import listening_url

CLI = [sys.executable, "-m", "inspector"]


def run(*args, timeout=60):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def csms_process(tmp_path):
    """`ocpp-inspector csms` on a free loopback port; yields its URL."""
    process = subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--db", str(tmp_path / "csms.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = listening_url(process)
    yield url, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(10)


def test_help_lists_the_verbs():
    """--help shows every headless verb."""
    result = run("--help")
    for verb in ("gui", "proxy", "csms", "charger", "log"):
        assert verb in result.stdout
    assert run("--version").stdout.startswith("ocpp-inspector 0.")


def test_charger_session_and_log_export(tmp_path, csms_process):
    """A charger session against the CLI's fake CSMS exports as documented JSON lines."""
    url, _ = csms_process
    db = tmp_path / "charger.db"
    result = run("charger", "--url", url + "CP42", "--version", "2.0.1", "--meter-values", "2",
                 "--interval", "0.05", "--db", str(db), "-q")
    assert result.returncode == 0, result.stderr
    assert "session complete" in result.stderr
    out = tmp_path / "frames.jsonl"
    assert run("log", "export", "--db", str(db), "--format", "jsonl", "-o", str(out)).returncode == 0
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(frames) == 24
    keys = {"time", "charge_point_id", "direction", "type", "unique_id", "action", "latency_ms",
            "valid", "errors", "raw"}
    assert all(keys <= set(f) for f in frames)
    assert {f["charge_point_id"] for f in frames} == {"CP42"}
    assert all(f["valid"] for f in frames)
    shown = run("log", "show", "--db", str(db), "--action", "Authorize")
    assert shown.stdout.count("Authorize") == 2 and "CP42" in shown.stdout


def test_csms_stops_cleanly_on_ctrl_c(csms_process):
    """SIGINT stops the fake CSMS with exit code 0 and no traceback."""
    _, process = csms_process
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and "Traceback" not in err and "stopped" in err


@pytest.mark.parametrize("args,message", [
    (["charger", "--url", "http://x/CP1", "--no-log"], "bad URL 'http://x/CP1'"),
    (["charger", "--url", "ws://127.0.0.1:1/CP1", "--no-log"], "cannot connect to ws://127.0.0.1:1/CP1"),
    (["csms", "--listen", "127.0.0.1:notaport", "--no-log"], "bad listen address"),
    (["log", "show", "--db", "/nonexistent/capture.db"], "no capture file"),
    (["csms", "--overrides", "/nonexistent.json", "--no-log"], "cannot read overrides file"),
])
def test_errors_are_one_readable_line(args, message):
    """Bad input exits 1 with a one-line message and no traceback."""
    result = run(*args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_port_in_use_is_reported(csms_process):
    """Listening on a busy port names the address."""
    url, _ = csms_process
    port = url.rsplit(":", 1)[1].strip("/")
    result = run("csms", "--listen", f"127.0.0.1:{port}", "--no-log")
    assert result.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_bad_version_is_a_usage_error():
    """An unknown OCPP version is refused by the argument parser."""
    result = run("charger", "--url", "ws://127.0.0.1:1/X", "--version", "3.0")
    assert result.returncode == 2 and "unknown OCPP version" in result.stderr


def test_csms_calls_from_stdin(tmp_path):
    """`csms --calls` sends a typed CALL to a connected charger and logs its answer."""
    db = tmp_path / "csms.db"
    server = subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--db", str(db), "--calls"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        url = None
        while url is None:
            match = re.search(r"listening on (ws://127\.0\.0\.1:\d+/)", server.stdout.readline())
            url = match and match.group(1)
        charger = subprocess.Popen([*CLI, "charger", "--url", url + "CP7", "--meter-values", "1",
                                    "--interval", "0.05", "--stay", "--no-log", "-q"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while "StatusNotification" not in server.stdout.readline():
            pass
        server.stdin.write('NOPE Reset {"type":"Soft"}\nCP7 GetConfiguration {"key":["HeartbeatInterval"]}\n')
        server.stdin.flush()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = server.stdout.readline()
            if "CALLRESULT GetConfiguration" in line:
                break
        else:
            raise AssertionError("no answer to the typed call")
        charger.terminate()
        charger.wait(10)
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=10)
    assert "calls: NOPE is not connected" in err
    from inspector.store import Capture
    answers = [f for f in Capture(db).frames(action="GetConfiguration") if f["type"] == "CALLRESULT"]
    assert '"HeartbeatInterval"' in answers[0]["raw"]


def test_gui_without_a_display_is_a_readable_error():
    """Over SSH with no display the GUI verb explains itself instead of Qt aborting."""
    import os
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([*CLI], capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and "no display to open the window on" in result.stderr


def test_bad_arguments_are_one_line_before_anything_starts(tmp_path):
    """A URL without a charge point id, or an overrides file that cannot work, is refused
    at once with what is wrong, and no capture file is made for it."""
    import os
    captures = tmp_path / "data"

    def env_run(*args):
        return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "XDG_DATA_HOME": str(captures)})
    result = env_run("charger", "--url", "ws://127.0.0.1:9")
    assert result.returncode == 1 and "it must end in the charge point id" in result.stderr
    for text, problem in (('{"Hearbeat": {}}', "did you mean Heartbeat?"),
                          ('{"Heartbeat": {"$delay": "two"}}', "$delay must be a number"),
                          ('{"DataTransfer": {"$error": "NotSupported"}}', '$error must be ["ErrorCode"')):
        overrides = tmp_path / "overrides.json"
        overrides.write_text(text)
        result = env_run("csms", "--overrides", str(overrides))
        assert result.returncode == 1 and problem in result.stderr and result.stderr.count("\n") == 1
    assert not captures.exists()


def test_a_closed_pipe_ends_quietly():
    """`suite list | head -1`: whether or not the reader left before the list was written
    (a race: the list fits in a pipe's buffer), the command ends with exit 0 and no error."""
    result = subprocess.run(["bash", "-c", f"set -o pipefail; {sys.executable} -m inspector "
                             f"suite list | head -1"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("ID")
    assert re.fullmatch(r"(\d+ case\(s\)\n)?", result.stderr), result.stderr


def test_log_show_summarises_each_payload_in_one_line():
    from inspector.cli import payload_summary
    assert payload_summary({"raw": '[2,"1","StatusNotification",{"connectorId":1,"errorCode":'
                                   '"NoError","status":"Charging"}]'}) == "status Charging, connector 1"
    assert payload_summary({"raw": '[3,"1",{"idTagInfo":{"status":"Blocked"}}]'}) == "idTagInfo Blocked"
    assert payload_summary({"raw": '[4,"1","NotImplemented","unknown action",{}]'}) == \
        "NotImplemented unknown action"
    assert payload_summary({"raw": "not json"}) == ""


def test_fleet_progress_into_a_pipe_is_a_line_every_ten_seconds(csms_process):
    """Not a terminal: the progress line comes every 10 s, not every second (a 4 s run
    prints none before its summary)."""
    url, _ = csms_process
    result = run("fleet", "--url", url, "--count", "2", "--duration", "4", "--no-log", "-q")
    assert result.returncode == 0, result.stderr
    assert "fleet summary" in result.stderr
    assert sum(line.startswith("connected ") for line in result.stderr.splitlines()) == 0
