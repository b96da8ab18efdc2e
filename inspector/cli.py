"""The `ocpp-inspector` command: the GUI by default, headless verbs for everything else.

Errors reach the user as one readable line on stderr and a non-zero exit code, never as
a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from . import __version__
from .events import FrameLogged, Hub, Notice
from .store import Capture, CaptureWriter, default_capture_path, export_jsonl, iso_time
from .versions import normalise

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
ARROW = {"to_csms": "→ CSMS", "to_charger": "→ CP  "}


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _version(text: str) -> str:
    try:
        return normalise(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocpp-inspector",
        description="OCPP-J inspector: MITM proxy, fake CSMS, fake charger, frame log. "
                    "Without a verb, opens the desktop application.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    verbs = parser.add_subparsers(dest="verb", metavar="VERB")

    gui = verbs.add_parser("gui", help="open the desktop application (the default)")
    gui.add_argument("--smoke-test", action="store_true",
                     help="open the window, run briefly, close and exit 0 (checks an install)")

    def role(name, help_text):
        sub = verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", type=Path, help="capture file (default: a new file in the per-user "
                                                  "data directory)")
        sub.add_argument("--no-log", action="store_true", help="do not write a capture file")
        sub.add_argument("-q", "--quiet", action="store_true", help="do not print each frame")
        sub.add_argument("--max-size", type=int, default=1 << 20, metavar="BYTES",
                         help="largest accepted WebSocket message (default 1 MiB)")
        sub.add_argument("--call-timeout", type=float, default=30.0, metavar="S",
                         help="flag CALLs unanswered after this many seconds (default 30)")
        sub.add_argument("--no-validate", action="store_true", help="skip schema validation")
        return sub

    def server_tls(sub, what="chargers"):
        group = sub.add_argument_group("TLS for the listening side (security profiles 2 and 3)")
        group.add_argument("--cert", metavar="PEM", help=f"server certificate: {what} connect with wss://")
        group.add_argument("--key", metavar="PEM", help="private key of --cert")
        group.add_argument("--client-ca", metavar="PEM",
                           help="require client certificates signed by this CA (profile 3)")

    def client_tls(sub, prefix=""):
        group = sub.add_argument_group("TLS towards the CSMS (wss:// URLs)")
        group.add_argument(f"--{prefix}ca", metavar="PEM",
                           help="CA that signed the CSMS certificate (default: system trust)")
        group.add_argument(f"--{prefix}client-cert" if not prefix else f"--{prefix}cert", metavar="PEM",
                           help="client certificate (profile 3)")
        group.add_argument(f"--{prefix}client-key" if not prefix else f"--{prefix}key", metavar="PEM",
                           help="private key of the client certificate")

    proxy = role("proxy", "relay chargers to a real CSMS, byte-exact, logging every frame")
    proxy.add_argument("--listen", default="127.0.0.1:9000", metavar="HOST:PORT",
                       help="where chargers connect (default 127.0.0.1:9000)")
    proxy.add_argument("--upstream", required=True, metavar="URL",
                       help="the CSMS base URL; the charger's path is appended")
    server_tls(proxy)
    client_tls(proxy, "upstream-")

    csms = role("csms", "act as a CSMS that accepts any charge point")
    csms.add_argument("--listen", default="127.0.0.1:9000", metavar="HOST:PORT")
    csms.add_argument("--overrides", type=Path, metavar="FILE",
                      help="JSON file of per-action responses (see README)")
    csms.add_argument("--calls", action="store_true",
                      help='read CSMS-initiated calls from stdin, one per line: '
                           '<charge point id> <Action> [JSON payload], e.g. CP001 Reset {"type":"Soft"}')
    auth = csms.add_argument_group("HTTP Basic auth (security profiles 1 and 2)")
    auth.add_argument("--password", help="require this password from every charge point")
    auth.add_argument("--passwords", type=Path, metavar="FILE",
                      help='JSON file {"CP001": "password", ...}: require per charge point')
    server_tls(csms)

    charger = role("charger", "simulate a charger running one charging session against a CSMS")
    charger.add_argument("--url", required=True, help="CSMS URL ending in the charge point id")
    charger.add_argument("--version", dest="ocpp_version", type=_version, default="1.6",
                         help="OCPP version: 1.6, 2.0.1 or 2.1 (default 1.6)")
    charger.add_argument("--meter-values", type=int, default=3, metavar="N")
    charger.add_argument("--interval", type=float, default=1.0, metavar="S",
                         help="seconds between MeterValues (default 1)")
    charger.add_argument("--id-tag", default="TAG0001")
    charger.add_argument("--password", help="HTTP Basic auth password (security profile 1)")
    charger.add_argument("--stay", action="store_true",
                         help="after the session stay connected, heartbeating and answering the "
                              "CSMS, until Ctrl+C")
    client_tls(charger)

    fleet = role("fleet", "run many simulated chargers in one process against a CSMS")
    fleet.add_argument("--url", required=True, help="CSMS base URL; charge point ids are appended")
    fleet.add_argument("--count", type=int, default=10, metavar="N")
    fleet.add_argument("--version", dest="ocpp_version", type=_version, default="1.6")
    fleet.add_argument("--prefix", default="CP", help="charge point id prefix (default CP)")
    fleet.add_argument("--ramp-up", type=float, default=0.0, metavar="S",
                       help="spread the connections over this many seconds")
    fleet.add_argument("--duration", type=float, default=60.0, metavar="S")
    fleet.add_argument("--scenario", choices=["idle", "charging", "mixed"], default="mixed")
    fleet.add_argument("--meter-interval", type=float, default=10.0, metavar="S")
    fleet.add_argument("--heartbeat", type=float, metavar="S",
                       help="heartbeat interval (default: what the CSMS grants at boot)")
    fleet.add_argument("--password", help="HTTP Basic auth password for every charger")
    fleet.add_argument("--log-every", type=int, default=1, metavar="N",
                       help="log the frames of every N-th charger only (0 or --no-log: none)")
    fleet.add_argument("--json", action="store_true", help="print the summary as JSON")
    client_tls(fleet)

    certs = verbs.add_parser("certs", help="create a lab CA with server and client certificates",
                             description="create a local test CA, a server certificate and client "
                                         "certificates (CN = charge point id) for a lab")
    certs.add_argument("--out", type=Path, required=True, metavar="DIR")
    certs.add_argument("--host", action="append", metavar="NAME",
                       help="server host name or IP (repeatable; default localhost and 127.0.0.1)")
    certs.add_argument("--charge-point", action="append", metavar="ID",
                       help="client certificate for this charge point id (repeatable; default CP001)")
    certs.add_argument("--days", type=int, default=365)

    suite = verbs.add_parser("suite", help="conformance test suites (OCTT-style test cases)",
                             description="conformance test suites (OCTT-style test cases)")
    suite_verbs = suite.add_subparsers(dest="suite_verb", metavar="list|run", required=True)
    suite_list = suite_verbs.add_parser("list", help="list the test cases",
                                        description="list the test cases")
    suite_list.add_argument("--version", dest="ocpp_version", type=_version,
                            help="only cases of this OCPP version: 1.6 or 2.0.1")
    suite_list.add_argument("--sut", choices=["charger", "csms"], help="only cases for this SUT kind")
    suite_run = suite_verbs.add_parser(
        "run", help="run test cases against a charger or a CSMS",
        description="run test cases: --sut charger listens for the charger (we play the CSMS); "
                    "--sut csms connects to the CSMS (we play the charger)")
    suite_run.add_argument("--version", dest="ocpp_version", type=_version, required=True,
                           help="OCPP version: 1.6 or 2.0.1")
    suite_run.add_argument("--sut", choices=["charger", "csms"], required=True,
                           help="what is tested: a charger or a CSMS")
    suite_where = suite_run.add_mutually_exclusive_group()
    suite_where.add_argument("--listen", metavar="HOST:PORT",
                             help="SUT charger: where it connects, e.g. 0.0.0.0:9000")
    suite_where.add_argument("--target", metavar="URL",
                             help="SUT csms: its URL ending in the charge point id")
    suite_run.add_argument("--case", dest="cases", nargs="+", action="extend", metavar="ID",
                           help="run only these cases (default: all for the version and SUT)")
    suite_run.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    suite_run.add_argument("--html", type=Path, metavar="FILE", help="write an HTML report")
    suite_run.add_argument("--auto", action="store_true",
                           help="simulate the SUT and the operator (our fake charger or fake CSMS)")
    suite_run.add_argument("--step-timeout", type=float, default=30.0, metavar="S",
                           help="default time a step waits for the SUT (default 30)")
    suite_run.add_argument("--case-timeout", type=float, default=300.0, metavar="S",
                           help="time limit of one case (default 300)")
    suite_run.add_argument("--db", type=Path, metavar="FILE", help="also log every frame to this "
                                                                    "capture file")
    suite_run.add_argument("--param", action="append", metavar="KEY=VALUE",
                           help="case parameter, e.g. valid_tag=04A2B3C4 or heartbeat_interval=20")
    suite_run.add_argument("--password", help="HTTP Basic auth password towards a CSMS SUT")
    suite_run.add_argument("-v", "--verbose", action="store_true",
                           help="print the reason of every step, not only of failures")

    log = verbs.add_parser("log", help="read a capture file")
    log_verbs = log.add_subparsers(dest="log_verb", metavar="show|export", required=True)
    for name, help_text in (("show", "print frames as a table"),
                            ("export", "write frames as JSON lines")):
        sub = log_verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", type=Path, required=True)
        sub.add_argument("--action")
        sub.add_argument("--charge-point")
        sub.add_argument("--direction", choices=["to_csms", "to_charger"])
        sub.add_argument("--type", choices=["CALL", "CALLRESULT", "CALLERROR", "CALLRESULTERROR",
                                            "SEND", "MALFORMED"])
        sub.add_argument("--invalid", action="store_true",
                         help="only frames that failed validation or carry a flag")
        sub.add_argument("--text", help="only frames whose raw text contains this")
        if name == "export":
            sub.add_argument("--format", choices=["jsonl"], default="jsonl")
            sub.add_argument("-o", "--output", type=Path, help="output file (default stdout)")
    return parser


# ---- running roles --------------------------------------------------------------------

def format_record(record) -> str:
    mark = {True: "ok", False: "INVALID", None: "-"}[record.valid]
    latency = f"{record.latency_ms:8.1f} ms" if record.latency_ms is not None else " " * 11
    text = (f"{iso_time(record.time)[11:23]} {record.charge_point_id:<16} "
            f"{ARROW[record.direction]} {record.type.value:<10} {record.action or '':<28}"
            f"{latency} {mark}")
    for finding in record.errors[:3]:
        text += f"\n    {finding.path}: {finding.message}"
    for flag in record.flags:
        text += f"\n    ! {flag}"
    return text


def _printer(quiet: bool):
    def on_event(event):
        if isinstance(event, FrameLogged) and not quiet:
            print(format_record(event.record), flush=True)
        elif isinstance(event, Notice):
            stream = sys.stderr if event.level == "error" else sys.stdout
            print(f"[{event.source or event.level}] {event.text}", file=stream, flush=True)
    return on_event


@contextmanager
def _capture(args, hub):
    writer = None
    if not args.no_log:
        path = args.db or default_capture_path()
        try:
            writer = CaptureWriter(path)
        except Exception as exc:  # sqlite3 errors, permissions
            raise UserError(f"cannot open capture file {path}: {exc}") from None
        writer.attach(hub)
        print(f"logging to {path}", file=sys.stderr, flush=True)
    try:
        yield writer
    finally:
        if writer is not None:
            writer.close()


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


def _server_tls(args):
    from .tls import ServerTls
    if not (args.cert or args.key or args.client_ca):
        return None
    if not (args.cert and args.key):
        raise UserError("TLS needs both --cert and --key")
    return ServerTls(args.cert, args.key, args.client_ca)


def _client_tls(args, prefix=""):
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
    from .roles.charger import ChargerOptions, FakeCharger
    charger = FakeCharger(hub, ChargerOptions(
        url=args.url, version=args.ocpp_version, id_tag=args.id_tag, meter_values=args.meter_values,
        interval=args.interval, password=args.password, max_size=args.max_size,
        call_timeout=args.call_timeout, validate=not args.no_validate, tls=_client_tls(args)))
    await charger.connect()
    try:
        await charger.run_session()
        if args.stay:
            await charger.keep_alive()
    finally:
        await charger.close()


async def _run_fleet(hub, args) -> None:
    from .roles.fleet import Fleet, FleetOptions
    counters = Hub()  # every frame is counted; only sampled chargers reach the log hub
    fleet = Fleet(counters, FleetOptions(
        url=args.url, count=args.count, version=args.ocpp_version, prefix=args.prefix,
        ramp_up=args.ramp_up, duration=args.duration, scenario=args.scenario,
        meter_interval=args.meter_interval, heartbeat_interval=args.heartbeat,
        password=args.password, tls=_client_tls(args)),
        log_every=0 if args.no_log else args.log_every, log_hub=hub)
    interactive = sys.stderr.isatty()

    async def progress():
        while True:
            await asyncio.sleep(1.0)
            end = "\r" if interactive else "\n"
            print(fleet.stats.line(), end=end, file=sys.stderr, flush=True)

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
    if summary["booted"] < args.count:
        raise UserError(f"only {summary['booted']} of {args.count} chargers booted"
                        + (f"; last error: {summary['last_errors'][-1]}" if summary["last_errors"] else ""))


def _role_coroutine(args, hub):
    from .roles.common import Listen
    if args.verb == "proxy":
        from .roles.proxy import Proxy
        return _serve(Proxy(hub, Listen.parse(args.listen), args.upstream, max_size=args.max_size,
                            validate=not args.no_validate, call_timeout=args.call_timeout,
                            listen_tls=_server_tls(args), upstream_tls=_client_tls(args, "upstream_")))
    if args.verb == "csms":
        from .roles.csms import FakeCsms, load_overrides
        overrides = load_overrides(args.overrides) if args.overrides else None
        return _serve(FakeCsms(hub, Listen.parse(args.listen), overrides=overrides,
                               max_size=args.max_size, call_timeout=args.call_timeout,
                               validate=not args.no_validate, tls=_server_tls(args),
                               passwords=_passwords(args)), calls_from_stdin=args.calls)
    if args.verb == "fleet":
        return _run_fleet(hub, args)
    return _run_charger(hub, args)


def run_async(coroutine) -> int:
    """Run until done or Ctrl+C/SIGTERM; a clean stop either way."""
    async def main():
        task = asyncio.ensure_future(coroutine)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, task.cancel)
            except (NotImplementedError, RuntimeError):  # Windows
                pass
        try:
            await task
        except asyncio.CancelledError:
            return EXIT_INTERRUPTED
        return EXIT_OK
    return asyncio.run(main())


def _run_role(args) -> int:
    from .roles.charger import ChargerError
    from .roles.csms import OverrideError
    from .tls import TlsError
    hub = Hub()
    hub.subscribe(_printer(args.quiet or args.verb == "fleet"))
    with _capture(args, hub):
        try:
            status = run_async(_role_coroutine(args, hub))
        except UserError:
            raise
        except (ChargerError, OverrideError, TlsError, ValueError) as exc:
            raise UserError(str(exc)) from None
    if status == EXIT_INTERRUPTED:
        print("stopped", file=sys.stderr)
        return EXIT_OK if args.verb in ("proxy", "csms") else EXIT_INTERRUPTED
    if args.verb == "charger":
        print("session complete", file=sys.stderr)
    return status


# ---- reading captures -----------------------------------------------------------------

def _filters(args) -> dict:
    return {"action": args.action, "charge_point": args.charge_point, "invalid": args.invalid,
            "direction": args.direction, "type": args.type, "text": args.text}


def _open_capture(path: Path) -> Capture:
    try:
        return Capture(path)
    except (FileNotFoundError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _log_show(args) -> int:
    capture = _open_capture(args.db)
    print(f"{'time (UTC)':<26} {'charge point':<16} {'dir':<6} {'type':<10} {'action':<28} "
          f"{'latency':>10} valid  unique id")
    shown = 0
    for item in capture.frames(**_filters(args)):
        latency = f"{item['latency_ms']:.1f} ms" if item["latency_ms"] is not None else ""
        valid = {True: "ok", False: "NO", None: "-"}[item["valid"]]
        print(f"{item['time']:<26} {item['charge_point_id'][:16]:<16} "
              f"{ARROW[item['direction']][:6]:<6} {item['type']:<10} {(item['action'] or '')[:28]:<28} "
              f"{latency:>10} {valid:<6} {item['unique_id'] or ''}")
        for error in item["errors"]:
            print(f"{'':>27}{error['path']}: {error['message']}")
        for flag in item["flags"]:
            print(f"{'':>27}! {flag}")
        shown += 1
    print(f"{shown} frame(s)", file=sys.stderr)
    return EXIT_OK


def _log_export(args) -> int:
    capture = _open_capture(args.db)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                count = export_jsonl(capture, out, **_filters(args))
        except OSError as exc:
            raise UserError(f"cannot write {args.output}: {exc.strerror}") from None
        print(f"exported {count} frame(s) to {args.output}", file=sys.stderr)
    else:
        export_jsonl(capture, sys.stdout, **_filters(args))
    return EXIT_OK


def _certs(args) -> int:
    from .certs import create_lab_pki
    try:
        written = create_lab_pki(args.out, hosts=args.host, charge_points=args.charge_point,
                                 days=args.days)
    except OSError as exc:
        raise UserError(f"cannot write certificates to {args.out}: {exc.strerror or exc}") from None
    for name, path in written.items():
        print(f"{name:<10} {path}")
    print("private keys (*.key) are written with mode 0600; keep them out of captures and reports",
          file=sys.stderr)
    return EXIT_OK


def _gui(args) -> int:
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort with a core dump; say what to do instead
        raise UserError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                        "run it on a desktop, or use the headless verbs: ocpp-inspector --help")
    try:
        from ui.app import run_gui
    except ImportError as exc:
        raise UserError(f"the desktop application is not available: {exc}") from None
    if getattr(args, "smoke_test", False):
        return run_gui(smoke_test=True)
    return run_gui()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.verb in (None, "gui"):
            return _gui(args)
        if args.verb == "certs":
            return _certs(args)
        if args.verb == "log":
            return _log_show(args) if args.log_verb == "show" else _log_export(args)
        if args.verb == "suite":
            from .conformance.cli import run_suite_command
            return run_suite_command(args)
        return _run_role(args)
    except UserError as exc:
        print(f"ocpp-inspector: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
