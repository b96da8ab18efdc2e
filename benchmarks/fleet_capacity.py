"""What a fake charger costs, and how many fit on a core: one process, `fleet --workers 2`
(Locust master + 2 workers) and plain `locust -f <the shipped locustfile> --processes 2`,
side by side, against `csms --workers 2`.

    python -m benchmarks.fleet_capacity [--chargers 2000] [--seconds 30]

CPU is the processes' own CPU time (user + system, every process of the run: master and
workers too) in a steady window after the ramp-up, per charger and second; memory is the
resident size per charger (against a run of 10). Rates are measured at 10 s intervals (a
60 s schedule leaves too few messages in a short window) and the per-message part is
scaled to a 60 s heartbeat + 60 s meter values for the "chargers per core" figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from inspector.fleet_workers import LOCUSTFILE

from .timing import start_cli, stop

INTERVAL = 10.0
BASELINE = 10  # chargers in the run memory is measured against


def tree_cpu(process: psutil.Process) -> float:
    total = 0.0
    for member in [process, *process.children(recursive=True)]:
        try:
            times = member.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            pass
    return total


def run(command: list[str], count: int, ramp: float, seconds: float) -> dict:
    """Start `command`, measure CPU and RSS in the steady window, return them with its output."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watched = psutil.Process(process.pid)
    time.sleep(ramp + 6)
    cpu_start, start = tree_cpu(watched), time.monotonic()
    time.sleep(max(4.0, seconds - ramp - 10))
    cpu = tree_cpu(watched) - cpu_start
    window = time.monotonic() - start
    rss = tree_rss(watched)
    out, err = process.communicate(timeout=seconds + 120)
    return {"cpu_us_per_charger_s": cpu * 1e6 / (count * window), "rss": rss,
            "stdout": out, "stderr": err, "code": process.returncode}


def fleet(url: str, count: int, seconds: float, scenario: str, heartbeat: float,
          workers: int | None = None) -> list[str]:
    ramp = max(2.0, count / 400)
    command = [sys.executable, "-m", "inspector", "fleet", "--url", url, "--count", str(count),
               "--ramp-up", f"{ramp:g}", "--duration", f"{seconds:g}", "--scenario", scenario,
               "--meter-interval", f"{INTERVAL:g}", "--heartbeat", f"{heartbeat:g}", "--json",
               "--no-log", "-q"]
    if workers:
        command += ["--workers", str(workers)]
    return command


def plain_locust(url: str, count: int, seconds: float, folder: str) -> list[str]:
    ramp = max(2.0, count / 400)
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(count),
            "-r", f"{count / ramp:g}", "-t", f"{seconds:g}s", "--processes", "2",
            "--ocpp-url", url, "--ocpp-scenario", "charging", "--ocpp-meter-interval",
            f"{INTERVAL:g}", "--ocpp-heartbeat", f"{INTERVAL:g}", "--skip-log-setup",
            "--csv", str(Path(folder) / "plain")]


def outcome(result: dict) -> str:
    try:
        summary = json.loads(result["stdout"][result["stdout"].index("{"):])
        return (f"booted {summary['booted']}, errors {summary['errors']}, missed "
                f"{summary['missed_intervals']}")
    except ValueError:
        return f"exit {result['code']}"


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet_capacity")
    parser.add_argument("--chargers", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    count, seconds = args.chargers, args.seconds
    ramp = max(2.0, count / 400)
    with tempfile.TemporaryDirectory() as folder:
        overrides = Path(folder) / "o.json"
        overrides.write_text(json.dumps({"BootNotification": {"interval": 3600}}))
        csms, url = start_cli("csms", "--listen", "127.0.0.1:0", "--workers", "2", "--no-log",
                              "-q", "--overrides", str(overrides),
                              pattern=r"listening on (ws://127\.0\.0\.1:\d+/)")
        try:
            idle = run(fleet(url, count, seconds, "idle", 3600), count, ramp, seconds)
            small = run(fleet(url, BASELINE, seconds, "idle", 3600), BASELINE, 2, seconds)
            beating = run(fleet(url, count, seconds, "idle", INTERVAL), count, ramp, seconds)
            charging = run(fleet(url, count, seconds, "charging", INTERVAL), count, ramp, seconds)
            workers = run(fleet(url, count, seconds, "charging", INTERVAL, workers=2), count,
                          ramp, seconds)
            locust = run(plain_locust(url, count, seconds, folder), count, ramp, seconds)
        finally:
            stop(csms)
    per_charger_kb = (idle["rss"] - small["rss"]) / (count - BASELINE) / 1024
    message_us = (charging["cpu_us_per_charger_s"] - idle["cpu_us_per_charger_s"])
    at_60 = idle["cpu_us_per_charger_s"] + message_us * INTERVAL / 60
    print(f"{count} chargers, {seconds:g} s runs, CSMS: csms --workers 2 (same machine)")
    print(f"  one process, per charger:  idle {idle['cpu_us_per_charger_s']:.1f} us/s, "
          f"heartbeat every {INTERVAL:g} s {beating['cpu_us_per_charger_s']:.1f} us/s, "
          f"charging (heartbeat + meter values every {INTERVAL:g} s) "
          f"{charging['cpu_us_per_charger_s']:.1f} us/s; memory {per_charger_kb:.0f} KB")
    print(f"  at a 60 s heartbeat + 60 s meter values: {at_60:.1f} us/s per charger = "
          f"{1e6 / at_60:,.0f} chargers per core (100,000 chargers: "
          f"{100_000 * at_60 / 1e6:.1f} cores busy, {100_000 * per_charger_kb / 1024 / 1024:.1f}"
          f" GB)")
    print(f"  charging at {INTERVAL:g} s, CPU per charger and chargers per core, side by side:")
    for name, result in (("one process", charging), ("fleet --workers 2", workers),
                         ("locust -f --processes 2", locust)):
        cost = result["cpu_us_per_charger_s"]
        print(f"    {name:<26} {cost:7.1f} us/s  {1e6 / cost:>9,.0f} chargers/core  "
              f"({outcome(result)})")


if __name__ == "__main__":
    main(sys.argv[1:])
