"""`fleet --workers N`: the same fleet on a local Locust master with N worker processes.

The master and the workers are Locust's own (`python -m locust -f inspector/locustfile.py
--master` / `--worker`), so what runs here runs the same way on several machines; this
module only starts them with the fleet's options, hands the terminal to the master (which
prints the fleet's progress line and summary, inspector.locustfile) and passes its exit code
on. `--locust-web` starts the master with Locust's web UI instead of the progress line.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from .cli_parser import UserError

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
WEB_PORT = 8089


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def locust_options(args, capture: str) -> list[str]:
    """The fleet's options as the locustfile's arguments (master and workers alike)."""
    options = ["-f", str(LOCUSTFILE), "--skip-log-setup",
               "--ocpp-url", args.url, "--ocpp-version", args.ocpp_version,
               "--ocpp-prefix", args.prefix, "--ocpp-scenario", args.scenario,
               "--ocpp-meter-interval", str(args.meter_interval),
               "--ocpp-heartbeat", str(args.heartbeat or 0),
               "--ocpp-log-every", str(0 if args.no_log else args.log_every),
               "--ocpp-db", capture]
    for flag, value in (("--ocpp-model", args.model), ("--ocpp-script", args.script),
                        ("--ocpp-password", args.password)):
        if value:
            options += [flag, str(value)]
    return options


def refuse_unsupported(args) -> None:
    if getattr(args, "ca", None) or getattr(args, "client_cert", None):
        raise UserError("--workers runs ws:// fleets; TLS options are not passed to Locust "
                        "workers yet (run the fleet in one process for wss://)")
    if args.workers < 1:
        raise UserError("--workers needs at least 1 worker process")


def run_fleet_workers(args, capture: str) -> int:
    refuse_unsupported(args)
    port = _free_port()
    common = locust_options(args, capture)
    rate = args.count / args.ramp_up if args.ramp_up > 0 else args.count
    master = [sys.executable, "-m", "locust", *common, "--master",
              "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
              "--expect-workers", str(args.workers), "--expect-workers-max-wait", "60",
              "-u", str(args.count), "-r", f"{rate:g}", "-t", f"{args.duration:g}s",
              "--ocpp-count", str(args.count),
              "--ocpp-summary", "json" if args.json else "text"]
    if args.locust_web:
        master += ["--web-host", "127.0.0.1", "--web-port", str(WEB_PORT), "--autostart",
                   "--autoquit", "10", "--ocpp-no-progress"]
    else:
        master += ["--headless"]
    worker = [sys.executable, "-m", "locust", *common, "--worker", "--master-host",
              "127.0.0.1", "--master-port", str(port)]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    try:
        master_process = subprocess.Popen(master, env=env)
    except OSError as exc:
        raise UserError(f"cannot start the Locust master: {exc.strerror or exc}") from None
    workers = [subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL)
               for _ in range(args.workers)]
    if args.locust_web:
        print(f"Locust web UI: http://127.0.0.1:{WEB_PORT}/ ({args.workers} worker(s), "
              f"{args.count} chargers; Ctrl+C stops)", file=sys.stderr, flush=True)
    try:
        code = master_process.wait()
    except KeyboardInterrupt:
        master_process.send_signal(signal.SIGINT)
        code = _wait(master_process, 30)
    finally:
        for process in workers:
            if _wait(process, 15) is None:
                process.kill()
    for index, process in enumerate(workers, 1):
        if process.returncode not in (0, None, -signal.SIGINT, -signal.SIGTERM):
            print(f"ocpp-inspector: error: Locust worker {index} ended with exit code "
                  f"{process.returncode}", file=sys.stderr)
            code = code or 1
    return code if code is not None else 1


def _wait(process: subprocess.Popen, seconds: float) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return process.returncode
        time.sleep(0.1)
    process.terminate()
    return None
