"""`ocpp-inspector replay`: a capture played again against a CSMS (or to a charger), with
every difference from the recording listed and in the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import SimpleNamespace

from .cli_parser import EXIT_FAIL, EXIT_OK, UserError


def _speed(text: str) -> float | None:
    if text == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed is a factor (1, 10) or max, not {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("speed must be above 0 (or max)")
    return value


def add_replay_parser(verbs) -> None:
    replay = verbs.add_parser(
        "replay", help="play a capture's charger side against a CSMS and report every difference",
        description="replay the charger side of each recorded connection against a CSMS (same "
                    "actions in order, fresh unique ids, times moved to now, transaction ids "
                    "remapped) and compare every answer with the recorded one; exit 0 only "
                    "when nothing differs. --role csms plays the CSMS side to a charger instead.")
    replay.add_argument("--db", type=Path, required=True, metavar="CAPTURE",
                        help="the recorded capture")
    replay.add_argument("--role", choices=["charger", "csms"], default="charger",
                        help="which side of the recording to play (default charger: against "
                             "--target; csms: listen on --listen and answer chargers)")
    replay.add_argument("--target", metavar="URL", help="the CSMS base URL (ws(s)://...); "
                                                        "each charge point id is appended")
    replay.add_argument("--listen", metavar="HOST:PORT", help="--role csms: where chargers "
                                                              "connect (default 127.0.0.1:9000)")
    replay.add_argument("--charge-point", metavar="ID", help="only this charge point (glob)")
    replay.add_argument("--speed", type=_speed, default=1.0, metavar="1|10|max",
                        help="the recorded pace (1), faster (10: ten times), or back to back "
                             "(max); default 1")
    replay.add_argument("--ignore", action="append", default=[], metavar="JSONPATH",
                        help="a field never compared, e.g. $.currentTime or "
                             "$.idTagInfo.expiryDate ([*] for any index); repeatable. Date-times "
                             "and generated transaction ids are never compared")
    replay.add_argument("--timeout", type=float, default=30.0, metavar="S",
                        help="how long an answer (or a connection) may take (default 30)")
    replay.add_argument("--wait", type=float, default=5.0, metavar="S",
                        help="after the last request, how long the CSMS may take for the calls "
                             "it made in the recording (default 5)")
    replay.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    replay.add_argument("--html", type=Path, metavar="FILE", help="write an HTML report")
    replay.add_argument("--save", type=Path, metavar="FILE",
                        help="capture of the replay's own frames (default: a new file in the "
                             "per-user data directory)")
    replay.add_argument("--no-log", action="store_true", help="do not write the replay's capture")
    replay.add_argument("-q", "--quiet", action="store_true", help="do not print each frame")


def run_replay(args) -> int:
    from .cli_roles import _capture, _printer, run_async
    from .events import Hub
    from .replay import ChargerReplay, ReplayError
    from .replay_report import write_html, write_junit
    from .roles.common import check_ws_url
    for path in (args.junit, args.html):
        if path is not None and not path.parent.exists():
            raise UserError(f"cannot write {path}: the folder {path.parent} does not exist")
    hub = Hub()
    hub.subscribe(_printer(args.quiet))
    try:
        if args.role == "csms":
            from .replay_csms import CsmsReplay
            from .roles.common import Listen
            player = CsmsReplay(hub, args.db, Listen.parse(args.listen or "127.0.0.1:9000"),
                                charge_point=args.charge_point, ignore=args.ignore,
                                timeout=args.timeout, speed=args.speed)
        else:
            if not args.target:
                raise UserError("replay needs --target ws(s)://CSMS (or --role csms --listen)")
            player = ChargerReplay(hub, args.db, check_ws_url(args.target),
                                   charge_point=args.charge_point, speed=args.speed,
                                   ignore=args.ignore, timeout=args.timeout, wait_after=args.wait)
    except (ReplayError, ValueError) as exc:
        raise UserError(str(exc)) from None
    with _capture(SimpleNamespace(no_log=args.no_log, db=args.save), hub):
        outcome = {}

        async def play():
            outcome["result"] = await player.run()
            return 0
        try:
            status = run_async(play())
        except (OSError, ValueError) as exc:  # a capture that reads oddly, a socket failure
            raise UserError(f"replay stopped: {type(exc).__name__}: {exc}") from None
    result = outcome.get("result")
    if result is None and hasattr(player, "result"):  # --role csms cut short: what it compared
        result = player.result()
    if result is None:
        print("replay interrupted", file=sys.stderr)
        return status or EXIT_FAIL
    for connection in result.connections:
        mark = "same" if connection.passed else "ERROR" if connection.error else "DIFFERS"
        print(f"{mark:<8} {connection.name}: {connection.calls} exchange(s)"
              + (f"; {connection.error}" if connection.error else ""), file=sys.stderr)
        for difference in connection.differences:
            print(f"    {difference}", file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    if args.junit:
        write_junit(result, args.junit)
    if args.html:
        write_html(result, args.html)
    return EXIT_OK if result.passed else EXIT_FAIL
