"""The fleet on Locust (fleet --workers, the shipped locustfile under plain locust) and the
fake CSMS on several processes (csms --workers), as a user runs them: real processes on
127.0.0.1, small fleets, short runs."""

import json
import signal
import subprocess
import sys

import pytest

from inspector.csms_workers import worker_argv
from tests.conftest import exported
from tests.roles_helpers import listening_url

CLI = [sys.executable, "-m", "inspector"]
LOCUSTFILE = __import__("inspector.fleet_workers", fromlist=["LOCUSTFILE"]).LOCUSTFILE


@pytest.fixture
def csms_workers(tmp_path):
    """`csms --workers 2` on one port; yields (url, process)."""
    process = subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--workers", "2",
                                "-q", "--db", str(tmp_path / "csms.db")],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = listening_url(process)
    yield url, process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    process.wait(30)


def test_fleet_workers_against_csms_workers(tmp_path, csms_workers):
    """fleet --workers 2 against csms --workers 2: every charger boots, nothing fails, the
    summary adds the workers up, each worker of both sides writes its own capture, and
    log show reads them as one."""
    url, server = csms_workers
    result = subprocess.run([*CLI, "fleet", "--url", url, "--workers", "2", "--count", "40",
                             "--ramp-up", "1", "--duration", "5", "--meter-interval", "1",
                             "--scenario", "charging", "--json", "--log-every", "10",
                             "--db", str(tmp_path / "fleet.db")],
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["workers"] == 2 and summary["booted"] == 40
    assert (summary["errors"], summary["failures"], summary["missed_intervals"]) == (0, 0, 0)
    assert summary["requests"] > 40 * 4 and summary["connected"] == 0
    assert summary["latency_p99_ms"] is not None
    assert "Traceback" not in result.stderr
    fleet_captures = sorted(tmp_path.glob("fleet-w*.db"))
    assert [p.name for p in fleet_captures] == ["fleet-w1.db", "fleet-w2.db"]
    logged = [f for path in fleet_captures for f in exported(path)]
    assert {f["charge_point_id"][:4] for f in logged} <= {"CP1-", "CP2-"} and logged
    server.send_signal(signal.SIGINT)
    server.wait(30)
    csms_captures = sorted(tmp_path.glob("csms-w*.db"))
    assert [p.name for p in csms_captures] == ["csms-w1.db", "csms-w2.db"]
    per_worker = [len({f["charge_point_id"] for f in exported(p)}) for p in csms_captures]
    assert sum(per_worker) == 40  # every charger reached one worker or the other
    shown = subprocess.run([*CLI, "log", "show", "--db", str(csms_captures[0]), "--db",
                            str(csms_captures[1])], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0
    assert len({line.split()[1] for line in shown.stdout.splitlines()[1:]
                if " BootNotification " in line and "CALL " in line}) == 40


def test_failures_reach_locust_by_kind(tmp_path):
    """A CSMS that answers Authorize with a CALLERROR: Locust counts failures by code, and
    the fleet's summary says which."""
    overrides = tmp_path / "o.json"
    overrides.write_text(json.dumps({"Authorize": {"$error": ["NotSupported", "no cards"]}}))
    with subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--no-log", "-q", "--overrides",
                           str(overrides)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as server:
        url = listening_url(server)
        result = subprocess.run([*CLI, "fleet", "--url", url, "--workers", "1", "--count", "5",
                                 "--duration", "4", "--meter-interval", "1", "--scenario",
                                 "charging", "--json", "--no-log"],
                                capture_output=True, text=True, timeout=180)
        server.send_signal(signal.SIGINT)
        server.wait(30)
    summary = json.loads(result.stdout)
    assert summary["failures"] >= 5
    assert any(kind.startswith("CALL Authorize: ") and "CALLERROR NotSupported" in kind
               for kind in summary["failures_by_kind"])


def test_the_shipped_locustfile_under_plain_locust(tmp_path):
    """locust -f <the package's locustfile> --processes 2: Locust's own headless run, our
    chargers' CALLs in its statistics."""
    with subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--no-log", "-q"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as server:
        url = listening_url(server)
        result = subprocess.run([sys.executable, "-m", "locust", "-f", str(LOCUSTFILE),
                                 "--headless", "-u", "20", "-r", "20", "-t", "4s",
                                 "--processes", "2", "--ocpp-url", url, "--ocpp-scenario",
                                 "charging", "--ocpp-meter-interval", "1",
                                 "--csv", str(tmp_path / "run")],
                                capture_output=True, text=True, timeout=180)
        server.send_signal(signal.SIGINT)
        server.wait(30)
    assert result.returncode == 0, result.stderr[-2000:]
    stats = (tmp_path / "run_stats.csv").read_text()
    assert "CALL,BootNotification,20," in stats and "CALL,MeterValues," in stats


def test_csms_workers_refuse_what_needs_one_process():
    for extra, problem in ((["--calls"], "--calls"), (["--site-limit", "11"], "--site-limit")):
        result = subprocess.run([*CLI, "csms", "--workers", "2", "--no-log", *extra],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 1 and problem in result.stderr
        assert "Traceback" not in result.stderr


def test_worker_command_lines_drop_what_each_worker_sets():
    assert worker_argv(["csms", "--listen", "0.0.0.0:9000", "--workers", "4", "--db=x.db",
                        "--overrides", "o.json", "-q"]) == ["csms", "--overrides", "o.json", "-q"]
