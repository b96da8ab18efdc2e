"""The `ocpp-inspector` command: the GUI by default, headless verbs for everything else.

Errors reach the user as one readable line on stderr and a non-zero exit code, never as
a traceback. The grammar is in `cli_parser`, running roles in `cli_roles`; this module
dispatches and reads captures.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
import sys
from pathlib import Path

from .cli_parser import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, UserError, build_parser
from .cli_roles import ARROW, format_record, run_async, run_role
from .store import Capture, export_jsonl
from .terminal import printable

__all__ = ["main", "build_parser", "format_record", "run_async", "UserError"]


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
          f"{'latency':>10} valid  {'unique id':<36}  info")
    shown = 0
    # connection events (opened, refused, closed) in time order between the frames, unless
    # the filters ask for frames only
    frame_only = args.action or args.invalid or args.direction or args.type or args.text
    events = [] if frame_only else capture.connection_events(args.charge_point)
    for item in capture.frames(**_filters(args)):
        while events and (events[0]["time"] or 0) <= _epoch(item["time"]):
            _print_connection_event(events.pop(0))
        latency = f"{item['latency_ms']:.1f} ms" if item["latency_ms"] is not None else ""
        valid = {True: "ok", False: "NO", None: "-"}[item["valid"]]
        print(f"{item['time']:<26} {printable(item['charge_point_id'])[:16]:<16} "
              f"{ARROW[item['direction']][:6]:<6} {item['type']:<10} "
              f"{printable(item['action'])[:28]:<28} "
              f"{latency:>10} {valid:<6} {printable(item['unique_id'])[:36]:<36}  "
              f"{printable(payload_summary(item))}")
        for error in item["errors"]:
            print(f"{'':>27}{printable(error['path'])}: {printable(error['message'])}")
        for flag in item["flags"]:
            print(f"{'':>27}! {printable(flag)}")
        shown += 1
    for event in events:
        _print_connection_event(event)
    print(f"{shown} frame(s)", file=sys.stderr)
    return EXIT_OK


def payload_summary(item: dict, limit: int = 60) -> str:
    """The Info column of `log show`: inspector.summary, the same line the window shows."""
    from .summary import summarize
    return summarize(item["raw"], limit)


def _epoch(iso: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _print_connection_event(event: dict) -> None:
    from .store import iso_time
    stamp = iso_time(event["time"]) if event["time"] else ""
    print(f"{stamp:<26} {printable(event['charge_point_id'])[:16]:<16} {'--':<6} "
          f"{event['event'].upper():<10} {printable(event['text'])}")


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


@contextmanager
def _one_capture(paths: list[Path]):
    """The capture to read: the one given, or several merged into a temporary one."""
    if len(paths) == 1:
        yield paths[0]
        return
    from .capture_merge import MergeError, merge_captures
    with tempfile.TemporaryDirectory() as folder:
        merged = Path(folder) / "merged.db"
        try:
            merge_captures(paths, merged)
        except MergeError as exc:
            raise UserError(str(exc)) from None
        yield merged


def _log_merge(args) -> int:
    from .capture_merge import MergeError, merge_captures
    try:
        count = merge_captures(args.db, args.output)
    except MergeError as exc:
        raise UserError(str(exc)) from None
    print(f"merged {count} frame(s) from {len(args.db)} capture(s) into {args.output}",
          file=sys.stderr)
    return EXIT_OK


def _log_import(args) -> int:
    from .events import Hub
    from .pcap_import import PcapError, import_pcap
    from .store import CaptureWriter, remove_capture
    if args.db.exists():
        raise UserError(f"{args.db} exists: give log import a new capture file")
    if not args.pcap.is_file():
        raise UserError(f"no pcap file {args.pcap}")
    if args.keylog is not None and not args.keylog.is_file():
        raise UserError(f"no key log file {args.keylog}")
    hub = Hub()
    try:
        writer = CaptureWriter(args.db)
    except Exception as exc:  # noqa: BLE001 - a folder that does not exist, permissions
        raise UserError(f"cannot write {args.db}: {exc}") from None
    writer.attach(hub)
    try:
        summary = import_pcap(args.pcap, hub, args.keylog)
    except PcapError as exc:
        writer.close()
        remove_capture(args.db)  # nothing half-written is left behind
        raise UserError(str(exc)) from None
    writer.close()
    print(f"{args.pcap.name}: {summary.line()}", file=sys.stderr)
    for note in summary.notes:
        print(f"  note: {note}", file=sys.stderr)
    print(f"written to {args.db} (ocpp-inspector log show --db {args.db})", file=sys.stderr)
    if writer.lost_frames:
        raise UserError(f"{writer.lost_frames} frame(s) could not be written to {args.db}")
    return EXIT_OK


def _certs(args) -> int:
    from .certs import CertsError, create_lab_pki
    try:
        written = create_lab_pki(args.out, hosts=args.host, charge_points=args.charge_point,
                                 days=args.days, force=args.force)
    except CertsError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot write certificates to {args.out}: {exc.strerror or exc}") from None
    for name, path in written.items():
        print(f"{name:<10} {path}")
    print("private keys (*.key) are written with mode 0600; keep them out of captures and reports",
          file=sys.stderr)
    return EXIT_OK


def _gui(args, open_gui) -> int:
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        # Qt would abort with a core dump; say what to do instead
        raise UserError("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                        "run it on a desktop, or use the headless verbs: ocpp-inspector --help")
    if open_gui is None:
        raise UserError("the desktop application is not part of `python -m inspector` (the core); "
                        "run `ocpp-inspector` or `python -m ui`")
    if getattr(args, "verb", None) != "gui":
        return open_gui(smoke_test=False)
    return open_gui(smoke_test=args.smoke_test, launch=gui_launch(args))


def gui_launch(args) -> dict:
    """The roles and view `ocpp-inspector gui` was asked to start with, checked here so a
    mistake is one line on the console, not a window that opens and complains."""
    from .roles.common import Listen, check_station_url, check_ws_url
    from .rules import load_rules
    from .rules_toml import rules_as_toml
    try:
        csms = Listen.parse(args.csms) if args.csms else None
        proxy = Listen.parse(args.proxy) if args.proxy else None
        if proxy and not args.upstream:
            raise ValueError("--proxy needs --upstream ws(s)://CSMS (where to relay)")
        if args.upstream and not proxy:
            raise ValueError("--upstream is for --proxy HOST:PORT")
        upstream = check_ws_url(args.upstream) if args.upstream else None
        chargers = [check_station_url(url) for url in args.charger]
        if args.rules and not proxy:
            raise ValueError("--rules is for --proxy HOST:PORT")
        rules_text = None
        if args.rules:
            load_rules(args.rules)  # a rule that cannot work is refused here, on the console
            rules_text = rules_as_toml(args.rules)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return {"csms": csms, "proxy": proxy, "upstream": upstream, "chargers": chargers,
            "view": args.view, "db": args.db, "rules": rules_text}


def main(argv: list[str] | None = None, *, open_gui=None) -> int:
    """Run the command. `open_gui(smoke_test=..., launch=...)` is handed in by the front-end that has a
    window (`ui.launcher`): the core never imports the UI, dependencies point one way."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # (csms --workers passes it on)
    try:
        if args.verb in (None, "gui"):
            return _gui(args, open_gui)
        if args.verb == "certs":
            return _certs(args)
        if args.verb == "log":
            if args.log_verb == "import":
                return _log_import(args)
            if args.log_verb == "merge":
                return _log_merge(args)
            with _one_capture(args.db) as args.db:
                return _log_show(args) if args.log_verb == "show" else _log_export(args)
        if args.verb == "replay":
            from .cli_replay import run_replay
            return run_replay(args)
        if args.verb == "suite":
            from .conformance.cli import run_suite_command
            return run_suite_command(args)
        return run_role(args)
    except UserError as exc:
        print(f"ocpp-inspector: error: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader went away (`... | head`): end quietly, and let no flush at exit complain
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
