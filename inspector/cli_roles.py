"""Running the roles from the command line: proxy, fake CSMS (with `--calls`), charger, fleet.

Each prints its frames as they pass, logs to a capture file, stops cleanly on Ctrl+C or
SIGTERM, and turns expected failures into `UserError` (one readable line).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import sys
import time
from contextlib import contextmanager

from .cli_parser import EXIT_CAPTURE_FAILED, EXIT_INTERRUPTED, EXIT_OK, UserError
from .events import FrameLogged, Hub, Notice
from .loop_thread import event_loop_factory
from .store import CaptureBusy, CaptureWriter, default_capture_path, iso_time
from .terminal import printable

ARROW = {"to_csms": "→ CSMS", "to_charger": "→ CP  "}


def format_record(record) -> str:
    mark = {True: "ok", False: "INVALID", None: "-"}[record.valid]
    latency = f"{record.latency_ms:8.1f} ms" if record.latency_ms is not None else " " * 11
    text = (f"{iso_time(record.time)[11:23]} {printable(record.charge_point_id):<16} "
            f"{ARROW[record.direction]} {record.type.value:<10} {printable(record.action):<28}"
            f"{latency} {mark}")
    for finding in record.errors[:3]:
        text += f"\n    {printable(finding.path)}: {printable(finding.message)}"
    for flag in record.flags:
        text += f"\n    ! {printable(flag)}"
    return text


def _printer(quiet: bool):
    def on_event(event):
        if isinstance(event, FrameLogged) and not quiet:
            print(format_record(event.record), flush=True)
        elif isinstance(event, Notice):
            stream = sys.stderr if event.level == "error" else sys.stdout
            print(f"[{event.source or event.level}] {printable(event.text)}", file=stream, flush=True)
    return on_event


@contextmanager
def _capture(args, hub):
    writer = None
    if not args.no_log:
        path = args.db or default_capture_path()
        try:
            writer = CaptureWriter(path)
        except CaptureBusy as exc:
            raise UserError(str(exc)) from None
        except Exception as exc:  # sqlite3 errors, permissions
            raise UserError(f"cannot open capture file {path}: {exc}") from None
        writer.attach(hub)
        writer.on_error = capture_error_printer()
        print(f"logging to {path}", file=sys.stderr, flush=True)
    try:
        yield writer
    finally:
        if writer is not None:
            writer.close()


def capture_error_printer():
    """Print a capture write failure at once (and then at most every 10 s): never silent."""
    last = [0.0]

    def report(text: str) -> None:
        now = time.monotonic()
        if now - last[0] >= 10:
            last[0] = now
            print(f"ocpp-inspector: error: {text}", file=sys.stderr, flush=True)
    return report


def capture_failed(writer) -> bool:
    """After a role: say how many frames the capture lost; True when it lost any."""
    if writer is None or not writer.lost_frames:
        return False
    print(f"ocpp-inspector: error: {writer.lost_frames:,} frame(s) were not saved to "
          f"{writer.path} ({writer.error})", file=sys.stderr, flush=True)
    return True


async def _serve(role, calls_from_stdin: bool = False) -> None:
    try:
        await role.start()
    except OSError as exc:
        raise UserError(f"cannot listen on {role.listen.host}:{role.listen.port}: "
                        f"{exc.strerror or exc}") from None
    console = asyncio.create_task(_call_console(role)) if calls_from_stdin else None
    try:
        await role.serve_forever()
    finally:
        if console:
            console.cancel()
        await role.stop()


async def _call_console(csms) -> None:
    """`--calls`: each stdin line `<cp id> <Action> [JSON]` becomes a CALL to that charger.

    Without a payload the version's schema-valid template is sent. Answers and errors
    are printed like any frame; a bad line is explained and skipped.
    """
    from datetime import datetime, timezone
    from . import defaults
    from .rpc import CallTimeout
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return  # stdin closed: keep serving
        parts = line.strip().split(None, 2)
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) < 2:
            print("calls: expected <charge point id> <Action> [JSON payload]", file=sys.stderr)
            continue
        cp_id, action = parts[0], parts[1]
        endpoint = csms.stations.get(cp_id)
        if endpoint is None:
            print(f"calls: {cp_id} is not connected (connected: "
                  f"{', '.join(csms.stations) or 'none'})", file=sys.stderr)
            continue
        try:
            payload = (json.loads(parts[2]) if len(parts) > 2 else
                       defaults.request_template(endpoint.version, action, now=datetime.now(timezone.utc)))
        except json.JSONDecodeError as exc:
            print(f"calls: payload is not valid JSON: {exc}", file=sys.stderr)
            continue
        except KeyError:
            print(f"calls: {action} is not an action of OCPP {endpoint.version}", file=sys.stderr)
            continue
        try:
            await csms.call(cp_id, action, payload)
        except (CallTimeout, ConnectionError, LookupError) as exc:
            print(f"calls: {action} to {cp_id}: {exc}", file=sys.stderr)


def server_tls_from(args):
    from .tls import ServerTls
    if not (args.cert or args.key or args.client_ca):
        return None
    if not (args.cert and args.key):
        raise UserError("TLS needs both --cert and --key")
    return ServerTls(args.cert, args.key, args.client_ca)


def client_tls_from(args, prefix=""):
    from .tls import ClientTls
    names = ("ca", "cert", "key") if prefix else ("ca", "client_cert", "client_key")
    ca, cert, key = (getattr(args, prefix + name) for name in names)
    if not (ca or cert or key):
        return None
    if bool(cert) != bool(key):
        raise UserError("a client certificate needs both the certificate and its key")
    return ClientTls(ca, cert, key)


def _passwords(args):
    if args.passwords:
        try:
            data = json.loads(args.passwords.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot read passwords file {args.passwords}: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise UserError(f"passwords file {args.passwords} must map charge point ids to strings")
        return data
    return args.password


async def _run_charger(hub, args) -> None:
    from .roles.charger import ChargerOptions
    from .roles.station import make_charger
    charger = make_charger(hub, ChargerOptions(
        url=args.url, version=args.ocpp_version, id_tag=args.id_tag, meter_values=args.meter_values,
        interval=args.interval, password=args.password, max_size=args.max_size,
        call_timeout=args.call_timeout, validate=not args.no_validate, tls=client_tls_from(args),
        model=getattr(args, "charger_model", None), soc=args.soc[0], target_soc=args.soc[1],
        battery_kwh=args.battery, reconnect=args.reconnect or args.offline is not None))
    if args.loaded_script is not None:
        from .scripting import run_charger_script
        try:
            await run_charger_script(charger, args.loaded_script)
            if args.stay:
                await charger.keep_alive()
        finally:
            await charger.close()
        print(f"script {args.script.name} complete", file=sys.stderr)
        return
    await charger.connect()
    try:
        if args.offline is not None:
            _go_offline_later(charger, *args.offline)
        session = asyncio.create_task(charger.run_session())
        if args.fault is None:
            await session
        else:
            await _fault_during(charger, session, *args.fault, lasting=args.fault_for)
        if args.stay:
            await charger.keep_alive()
    finally:
        await charger.close()
    _check_nothing_dropped(charger.dropped)


def _check_nothing_dropped(dropped: int) -> None:
    """Queued transaction messages the CSMS refused on every attempt are lost data: the run
    fails, whatever else went well (each one was also a warning when it happened)."""
    if dropped:
        raise UserError(f"{dropped} transaction message(s) queued offline were refused by the "
                        "CSMS on every attempt and dropped (see the warnings above)")


def _go_offline_later(charger, after: float, lasting: float) -> None:
    """--offline S:D: the connection is lost S s after connecting, for D s."""
    async def later() -> None:
        await asyncio.sleep(after)
        await charger.go_offline(lasting)  # it says so on the console (a hub notice)
    task = asyncio.get_running_loop().create_task(later())
    charger._background.add(task)
    task.add_done_callback(charger._background.discard)


async def _fault_during(charger, session: asyncio.Task, after: float, code: str, *,
                        lasting: float) -> None:
    """--fault S:CODE: the connector faults S s after connecting, in or after the session,
    and is Available again `lasting` s later."""
    await asyncio.wait({session}, timeout=after)
    if not session.done():
        session.cancel()  # the fault ends the session where it is
    try:
        await session
    except asyncio.CancelledError:
        pass
    print(f"{charger.charge_point_id}: fault {code}", file=sys.stderr)
    await charger.fault(code)
    await asyncio.sleep(lasting)
    await charger.recover()
    print(f"{charger.charge_point_id}: recovered from {code}", file=sys.stderr)


async def _run_fleet(hub, args) -> None:
    from .roles.fleet import Fleet, FleetOptions
    counters = Hub()  # every frame is counted; only sampled chargers reach the log hub
    fleet = Fleet(counters, FleetOptions(
        url=args.url, count=args.count, version=args.ocpp_version, prefix=args.prefix,
        ramp_up=args.ramp_up, duration=args.duration, scenario=args.scenario,
        meter_interval=args.meter_interval, heartbeat_interval=args.heartbeat,
        password=args.password, tls=client_tls_from(args),
        model=getattr(args, "charger_model", None), arrival_mean=args.arrival_mean,
        seed=args.seed, offline_chance=args.offline_chance, offline_for=args.offline_for,
        script=args.loaded_script),
        log_every=0 if args.no_log else args.log_every, log_hub=hub)
    interactive = sys.stderr.isatty()

    async def progress():
        # on a terminal one line redrawn in place every second; into a file or a pipe, a
        # line every 10 s (a day's run is not 86,400 lines of log)
        every = 1.0 if interactive else 10.0
        while True:
            await asyncio.sleep(every)
            if interactive:
                print("\r\x1b[2K" + fleet.stats.line(), end="", file=sys.stderr, flush=True)
            else:
                print(fleet.stats.line(), file=sys.stderr, flush=True)

    reporter = asyncio.create_task(progress())
    try:
        summary = await fleet.run()
    finally:
        reporter.cancel()
        summary = fleet.stats.summary()
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print("\nfleet summary:", file=sys.stderr)
            for key, value in summary.items():
                print(f"  {key:<20} {value}", file=sys.stderr)
    if summary.get("script_errors"):
        raise UserError(f"the script failed on {summary['script_errors']} charger(s); last: "
                        f"{summary['last_errors'][-1]}")
    if summary["booted"] < args.count:
        raise UserError(f"only {summary['booted']} of {args.count} chargers booted"
                        + (f"; last error: {summary['last_errors'][-1]}" if summary["last_errors"] else ""))
    _check_nothing_dropped(summary["dropped"])


def _files_folder(folder):
    if folder is not None and not folder.is_dir():
        raise UserError(f"--files {folder}: no such folder")
    return folder


def _role_coroutine(args, hub):
    from .roles.common import Listen
    if args.verb == "proxy":
        from .roles.proxy import Proxy
        from .rules import RuleBook
        return _serve(Proxy(hub, Listen.parse(args.listen), args.upstream, max_size=args.max_size,
                            validate=not args.no_validate, call_timeout=args.call_timeout,
                            listen_tls=server_tls_from(args), upstream_tls=client_tls_from(args, "upstream_"),
                            write_timeout=args.write_timeout or None,
                            rules=RuleBook(args.proxy_rules)))
    if args.verb == "csms":
        from .roles.csms import FakeCsms, load_overrides
        overrides = load_overrides(args.overrides) if args.overrides else None
        return _serve(FakeCsms(hub, Listen.parse(args.listen), overrides=overrides,
                               max_size=args.max_size, call_timeout=args.call_timeout,
                               validate=not args.no_validate, tls=server_tls_from(args),
                               passwords=_passwords(args), write_timeout=args.write_timeout or None,
                               cert_check=args.cert_check,
                               require_subprotocol=not args.accept_no_subprotocol,
                               site_limit_w=args.site_limit * 1000 if args.site_limit else None,
                               files=_files_folder(args.files),
                               files_listen=Listen.parse(args.files_listen) if args.files_listen else None,
                               script=args.loaded_script, reuse_port=args.reuse_port),
                      calls_from_stdin=args.calls)
    if args.verb == "fleet":
        return _run_fleet(hub, args)
    return _run_charger(hub, args)


def run_async(coroutine) -> int:
    """Run until done or Ctrl+C/SIGTERM; a clean stop either way."""
    async def main():
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()

        def stop():
            # keep cancelling until the task ends: on Python 3.11 an inner wait_for()
            # that completes as the cancellation lands swallows it (a charger ignored
            # SIGTERM in one run of four on uvloop until rpc.py stopped using wait_for)
            if not task.done():
                task.cancel()
                loop.call_later(0.5, stop)

        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop)
            except (NotImplementedError, RuntimeError):  # Windows
                pass
        try:
            await task
        except asyncio.CancelledError:
            return EXIT_INTERRUPTED
        return EXIT_OK
    # everything imported so far lives as long as the process: keep the collector from
    # scanning it again on every full collection while frames flow
    gc.freeze()
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        return runner.run(main())


def _check_arguments(args) -> None:
    from .roles.common import check_station_url, check_ws_url
    from .roles.charger_models import ModelError, load_model
    from .roles.csms import OverrideError, load_overrides
    from .rules import load_rules
    from .scripting import load_script
    try:
        if args.verb == "charger":
            if not args.url:
                raise ValueError("the charger needs --url ws://HOST:PORT/<charge point id>")
            check_station_url(args.url)
        if args.verb in ("charger", "fleet") and args.model:
            args.charger_model = load_model(args.model)
        elif args.verb == "proxy":
            check_ws_url(args.upstream)
            args.proxy_rules = load_rules(args.rules) if args.rules else []
            waiting = [r.name for r in args.proxy_rules if r.do == "intercept"]
            if waiting:
                raise ValueError(f"rule {waiting[0]!r}: intercept pauses frames for someone to "
                                 f"forward, edit or drop, which needs the window "
                                 f"(ocpp-inspector gui --proxy ... --rules FILE)")
        elif args.verb == "csms" and args.overrides:
            load_overrides(args.overrides)
        if args.verb in ("charger", "fleet", "csms"):
            args.loaded_script = (load_script(args.script, kind="csms" if args.verb == "csms"
                                              else "charger") if args.script else None)
    except (ValueError, OverrideError, ModelError) as exc:
        raise UserError(str(exc)) from None


def list_models() -> int:
    from .roles.charger_models import BUILT_IN
    for name, model in BUILT_IN.items():
        print(f"{name:<10} {model.summary()}  ({model.description})")
    return EXIT_OK


def run_role(args) -> int:
    from .roles.charger import ChargerError
    from .roles.csms import OverrideError
    from .tls import TlsError
    if args.verb == "charger" and args.list_models:
        return list_models()
    _check_arguments(args)  # before a capture file is made for a role that cannot start
    if args.verb == "csms" and args.workers and args.workers > 1:
        from .csms_workers import run_csms_workers
        return run_csms_workers(args, args.argv)
    if args.verb == "fleet" and (args.workers is not None or args.locust_web):
        from .fleet_workers import run_fleet_workers
        if args.workers is None:
            args.workers = 0
        if args.workers == 0:
            args.workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
                else (os.cpu_count() or 1)
        capture = "" if args.no_log else str(args.db or default_capture_path())
        if capture:
            stem = capture[:-3] if capture.endswith(".db") else capture
            print(f"logging every {args.log_every}-th charger of each worker to "
                  f"{stem}-w<worker>.db", file=sys.stderr, flush=True)
        return run_fleet_workers(args, capture)
    hub = Hub()
    hub.subscribe(_printer(args.quiet or args.verb == "fleet"))
    with _capture(args, hub) as writer:
        try:
            status = run_async(_role_coroutine(args, hub))
        except UserError:
            raise
        except (ChargerError, OverrideError, TlsError, ValueError) as exc:
            raise UserError(str(exc)) from None
    if capture_failed(writer):
        return EXIT_CAPTURE_FAILED
    if status == EXIT_INTERRUPTED:
        print("stopped", file=sys.stderr)
        return EXIT_OK if args.verb in ("proxy", "csms") else EXIT_INTERRUPTED
    if args.verb == "charger" and not args.script:
        print("session complete", file=sys.stderr)
    return status
