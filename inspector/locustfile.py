"""The fleet on Locust: each Locust user is one fake charger, the same charger and device model
as everywhere else in OCPP Inspector, on the same asyncio code.

    locust -f "$(python -c 'import inspector.locustfile as f; print(f.__file__)')" \\
        --ocpp-url ws://127.0.0.1:9000/ --headless -u 1000 -r 50 -t 5m --processes 2

How it is bridged: Locust's workers are gevent; our chargers are asyncio. Each worker
process runs one asyncio loop (uvloop) on a native thread, with one Fleet in it; a Locust
user only asks that loop to start its charger and to stop it, and sleeps in between, so the
worker's CPU goes to the chargers, not to the bridge. What Locust shows comes from the
frames the chargers log: every answer to a charger's CALL is a request (type CALL, name the
action, its latency), failed when it is a CALLERROR (by code) or schema-invalid, and an
unanswered CALL is a timeout; a slipped heartbeat or meter-value slot is a failure of type
SCHEDULE. Each worker also reports its fleet counters (connected, booted, in transaction,
sessions, errors, frames, missed intervals) to the master, which `ocpp-inspector fleet
--workers N` prints as the usual progress line and summary.

This file imports locust (which patches the process for gevent): it is loaded by Locust
only, never by the rest of the package.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
from collections import deque

import gevent
from locust import User, events, task
from locust.rpc import Message
from locust.runners import STATE_STOPPING, MasterRunner, WorkerRunner

from inspector import flags
from inspector.codec import FrameType
from inspector.events import TO_CHARGER, CallUnanswered, FrameLogged, Hub
from inspector.loop_thread import LoopThread
from inspector.roles.fleet import SCENARIOS, Fleet, FleetOptions, FleetStats

REQUEST_TYPE = "CALL"
DRAIN_S = 0.2  # how often the chargers' exchanges reach Locust's statistics
COUNTERS = ("connected", "booted", "in_transaction", "sessions", "errors", "script_errors",
            "frames", "missed_intervals")


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    group = parser  # (Locust shows its custom arguments in the web UI's form)
    group.add_argument("--ocpp-url", default="ws://127.0.0.1:9000/",
                       help="CSMS base URL; each charge point id is appended")
    group.add_argument("--ocpp-version", default="1.6", choices=["1.6", "2.0.1", "2.1"])
    group.add_argument("--ocpp-prefix", default="CP",
                       help="charge point ids: <prefix><worker>-<number>")
    group.add_argument("--ocpp-scenario", default="mixed", choices=list(SCENARIOS))
    group.add_argument("--ocpp-meter-interval", type=float, default=10.0)
    group.add_argument("--ocpp-heartbeat", type=float, default=0.0,
                       help="seconds between Heartbeats (0: as the CSMS grants)")
    group.add_argument("--ocpp-session-samples", type=int, default=6)
    group.add_argument("--ocpp-log-every", type=int, default=0,
                       help="log every N-th charger of each worker to its own capture")
    group.add_argument("--ocpp-db", default="",
                       help="capture file of each worker: <name>-w<worker>.db")
    group.add_argument("--ocpp-model", default="", help="the chargers' model (built-in name "
                                                        "or JSON file; charger --list-models)")
    group.add_argument("--ocpp-script", default="", help="every charger runs this Python's "
                                                         "async def run(cp) (README, Scripts)")
    group.add_argument("--ocpp-password", default="", help="HTTP Basic auth password")
    group.add_argument("--ocpp-summary", default="", choices=["", "text", "json"],
                       help="the master prints the fleet's progress and summary (ocpp-inspector "
                            "fleet --workers does this)")
    group.add_argument("--ocpp-no-progress", action="store_true",
                       help="with --ocpp-summary: no progress line (the web UI shows progress)")
    group.add_argument("--ocpp-count", type=int, default=0,
                       help="how many chargers must boot for the run to pass (0: all users)")


# ---- a worker: the chargers' loop ---------------------------------------------------------------

class ChargerLoop:
    """This process's asyncio loop on a native thread, its Fleet, and what crosses to Locust."""

    def __init__(self, options, worker: int):
        self.worker = worker
        self.thread = LoopThread(f"ocpp-chargers-{worker}").start()
        self.hub = Hub()
        self.exchanges: deque = deque()  # (name, latency ms, failure or None): to Locust
        self.hub.subscribe(self._exchange)
        self.writer = None
        log_hub = None
        if options.ocpp_db and options.ocpp_log_every:
            from inspector.store import CaptureWriter
            base = options.ocpp_db[:-3] if options.ocpp_db.endswith(".db") else options.ocpp_db
            log_hub = Hub()
            self.writer = CaptureWriter(f"{base}-w{worker}.db")
            self.writer.attach(log_hub)
        heartbeat = options.ocpp_heartbeat or None
        model = script = None
        if options.ocpp_model:
            from inspector.roles.charger_models import load_model
            model = load_model(options.ocpp_model)
        if options.ocpp_script:
            from inspector.scripting import load_script
            script = load_script(options.ocpp_script, kind="charger")
        self.fleet = Fleet(self.hub, FleetOptions(
            url=options.ocpp_url, count=1, version=options.ocpp_version,
            prefix=options.ocpp_prefix, scenario=options.ocpp_scenario,
            meter_interval=options.ocpp_meter_interval, heartbeat_interval=heartbeat,
            session_samples=options.ocpp_session_samples, model=model, script=script,
            password=options.ocpp_password or None),
            log_every=options.ocpp_log_every, log_hub=log_hub)
        self.numbers = itertools.count(1)
        self.tasks: dict[int, asyncio.Task] = {}
        self.reported_missed = 0
        self.stopped = False  # the users stopped and their chargers closed

    def _exchange(self, event) -> None:  # on the chargers' thread: keep it short
        if type(event) is FrameLogged:
            record = event.record
            if record.direction != TO_CHARGER or record.request_seq is None:
                return  # only answers to the chargers' own CALLs are requests
            failure = None
            if record.frame.type is FrameType.CALLERROR:
                failure = f"CALLERROR {record.frame.error_code}"
            elif record.valid is False:
                first = record.errors[0] if record.errors else None
                failure = f"schema-invalid answer: {first.path if first else '$'}"
            self.exchanges.append((record.action or "?", record.latency_ms or 0.0, failure))
        elif type(event) is CallUnanswered and event.record.direction != TO_CHARGER:
            if flags.code_of(event.flag) == flags.UNANSWERED:
                self.exchanges.append((event.record.action or "?", None, "timeout"))

    def start_charger(self) -> int:
        """Called from a Locust user (gevent): the charger starts on the chargers' loop."""
        number = next(self.numbers)
        self.thread.loop.call_soon_threadsafe(self._start, number)
        return number

    def _start(self, number: int) -> None:
        charge_point_id = f"{self.fleet.options.prefix}{self.worker}-{number:05d}"
        charger = self.fleet.new_charger(number, charge_point_id)
        task = asyncio.get_running_loop().create_task(
            self.fleet.run_member(number, charger, 10 * 365 * 86400))
        self.tasks[number] = task
        # users come and go for hours in a Locust run: forget a charger once it is done
        task.add_done_callback(lambda _task: self.fleet.chargers.remove(charger))

    def stop_charger(self, number: int) -> None:
        self.thread.loop.call_soon_threadsafe(self._stop, number)

    def _stop(self, number: int) -> None:
        task = self.tasks.pop(number, None)
        if task is not None:
            task.cancel()

    def stop_all(self) -> None:
        self.thread.loop.call_soon_threadsafe(self._stop_all)

    def _stop_all(self) -> None:
        for number in list(self.tasks):
            self._stop(number)

    def counters(self) -> dict:
        stats: FleetStats = self.fleet.stats
        return {name: getattr(stats, name) for name in COUNTERS} | {
            "last_errors": list(stats.last_errors), "stopped": self.stopped}


_loop: ChargerLoop | None = None


def charger_loop(environment) -> ChargerLoop:
    global _loop
    if _loop is None:
        runner = environment.runner
        worker = getattr(runner, "worker_index", 0) + 1 if isinstance(runner, WorkerRunner) else 1
        _loop = ChargerLoop(environment.parsed_options, worker)
        gevent.spawn(_drain, environment)
    return _loop


def _drain(environment) -> None:
    """The chargers' exchanges into Locust's statistics, on the gevent side."""
    fire = environment.events.request.fire
    while True:
        gevent.sleep(DRAIN_S)
        loop = _loop
        exchanges = loop.exchanges
        for _ in range(len(exchanges)):
            name, latency, failure = exchanges.popleft()
            fire(request_type=REQUEST_TYPE, name=name, response_time=latency or 0,
                 response_length=0, exception=RuntimeError(failure) if failure else None,
                 context={})
        missed = loop.fleet.stats.missed_intervals
        for _ in range(missed - loop.reported_missed):
            fire(request_type="SCHEDULE", name="missed interval", response_time=0,
                 response_length=0, exception=RuntimeError("a slot slipped by"), context={})
        loop.reported_missed = missed


@events.report_to_master.add_listener
def _report(client_id, data) -> None:
    if _loop is not None:
        data["ocpp"] = _loop.counters()


@events.test_stop.add_listener
def _chargers_gone(environment, **_kwargs) -> None:
    """The users stopped: let their chargers close (bounded) so the next report is final."""
    if _loop is None or not isinstance(environment.runner, WorkerRunner):
        return
    _loop.stop_all()  # (users killed without their on_stop leave their chargers here)
    deadline = time.monotonic() + 5
    while _loop.fleet.stats.connected and time.monotonic() < deadline:
        gevent.sleep(0.1)
    _loop.stopped = True


@events.test_start.add_listener
def _running(environment, **_kwargs) -> None:
    if _loop is not None:
        _loop.stopped = False


@events.quitting.add_listener
def _flush_capture(environment, **_kwargs) -> None:
    if _loop is not None and _loop.writer is not None:
        _loop.writer.close()


class OcppCharger(User):
    """One fake charger (boot, status, heartbeats, the scenario's sessions) per user."""

    def on_start(self) -> None:
        self.number = charger_loop(self.environment).start_charger()

    @task
    def charging_station(self) -> None:
        gevent.sleep(1.0)  # the charger runs on its own loop; nothing to do here

    def on_stop(self) -> None:
        if _loop is not None:
            _loop.stop_charger(self.number)


# ---- the master: the fleet's progress and summary ------------------------------------------------

_reports: dict[str, dict] = {}


@events.worker_report.add_listener
def _collect(client_id, data) -> None:
    if "ocpp" in data:
        _reports[client_id] = data["ocpp"]


def fleet_totals(environment, started: float) -> dict:
    """The counters of every worker added up, with Locust's latency percentiles."""
    totals = {name: sum(r.get(name, 0) for r in _reports.values()) for name in COUNTERS}
    entry = environment.stats.total
    calls = [e for (name, kind), e in environment.stats.entries.items() if kind == REQUEST_TYPE]
    requests = sum(e.num_requests for e in calls)
    elapsed = time.monotonic() - started
    p50 = p99 = None
    if requests:
        p50 = entry.get_response_time_percentile(0.5)
        p99 = entry.get_response_time_percentile(0.99)
    errors = [e for r in _reports.values() for e in r.get("last_errors", [])][-5:]
    failures = {f"{f.method} {f.name}: {f.error}": f.occurrences
                for f in environment.stats.errors.values()}
    return {"elapsed_s": round(elapsed, 2), "workers": len(_reports), **totals,
            "requests": requests, "failures": sum(e.num_failures for e in calls),
            "frames_per_s": round(totals["frames"] / elapsed, 1) if elapsed else 0.0,
            "latency_p50_ms": p50, "latency_p99_ms": p99, "last_errors": errors,
            "failures_by_kind": failures}


def progress_line(totals: dict) -> str:
    latency = (f"{totals['latency_p50_ms']:.0f}/{totals['latency_p99_ms']:.0f} ms"
               if totals["latency_p50_ms"] is not None else "-")
    return (f"workers {totals['workers']}  connected {totals['connected']}  booted "
            f"{totals['booted']}  in transaction {totals['in_transaction']}  errors "
            f"{totals['errors']}  {totals['frames_per_s']:.0f} frames/s  latency p50/p99 "
            f"{latency}  missed intervals {totals['missed_intervals']}")


@events.init.add_listener
def _master(environment, **_kwargs) -> None:
    options = environment.parsed_options
    if not isinstance(environment.runner, MasterRunner) or not getattr(options, "ocpp_summary", ""):
        return
    started = time.monotonic()
    interactive = sys.stderr.isatty()
    # a log file gets one line every 10 s; the window (which reads the lines) asks for more
    every = float(os.environ.get("OCPP_INSPECTOR_PROGRESS_S", "1" if interactive else "10"))

    def progress() -> None:
        last = 0.0
        while True:
            gevent.sleep(1.0)
            if time.monotonic() - last < every - 0.05:
                continue
            last = time.monotonic()
            line = progress_line(fleet_totals(environment, started))
            if interactive:
                sys.stderr.write("\r\x1b[2K" + line)  # one line, redrawn in place
            else:
                sys.stderr.write(line + "\n")
            sys.stderr.flush()
    if not options.ocpp_no_progress:
        gevent.spawn(progress)

    @events.test_stopping.add_listener
    def _stop_workers_first(environment, **_kwargs) -> None:
        """Before Locust quits (it only waits half a second for the workers' last report),
        stop the workers' users and wait (bounded) until every worker reports its chargers
        closed, so the summary is the run's end and not its last report but one."""
        runner = environment.runner
        # Locust says "stopping" only after this hook: say it first, or a worker that is
        # ready again after its stop gets users dispatched anew
        runner.update_state(STATE_STOPPING)
        for client in runner.clients.all:
            runner.server.send_to_client(Message("stop", None, client.id))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (
                _reports and all(r.get("stopped") for r in _reports.values())):
            gevent.sleep(0.2)

    @events.quitting.add_listener
    def _summary(environment, **_kwargs) -> None:
        totals = fleet_totals(environment, started)
        wanted = options.ocpp_count or options.num_users or 0
        if options.ocpp_summary == "json":
            print(json.dumps(totals, indent=2), flush=True)
        else:
            print("\nfleet summary:", file=sys.stderr)
            for key, value in totals.items():
                print(f"  {key:<20} {value}", file=sys.stderr)
        if totals["booted"] < wanted or totals["script_errors"]:
            print(f"ocpp-inspector: error: only {totals['booted']} of {wanted} chargers "
                  f"booted" + (f"; last error: {totals['last_errors'][-1]}"
                               if totals["last_errors"] else ""), file=sys.stderr, flush=True)
            environment.process_exit_code = 1
        else:
            environment.process_exit_code = 0
