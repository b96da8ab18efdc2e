"""The grammar of the `ocpp-inspector` command line and the error type its verbs raise."""

from __future__ import annotations

import argparse
from pathlib import Path

from . import __version__
from .versions import normalise

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_CAPTURE_FAILED = 3  # the role ran, but frames could not be written to the capture


class UserError(Exception):
    """A problem the user can fix; printed as one line."""


def _version(text: str) -> str:
    try:
        return normalise(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


GUI_VIEWS = ("log", "meter-values", "connections", "profiles", "suites", "fleet")
# roles.fleet.SCENARIOS, named here so that --help does not import the roles (a test keeps
# the two equal)
FLEET_SCENARIOS = ("idle", "charging", "mixed", "arrivals", "field")


def _non_negative_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected 0 seconds or more, not {text}")
    return value


def _battery(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of kWh: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"the battery must hold more than 0 kWh, not {text}")
    return value


def _soc(text: str) -> tuple[float, float]:
    start, _, target = text.partition(":")
    try:
        values = (float(start), float(target) if target else 100.0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad SoC {text!r}: expected START[:TARGET] in %, "
                                         "e.g. 20:80") from None
    if not 0 <= values[0] <= values[1] <= 100:
        raise argparse.ArgumentTypeError(f"bad SoC {text!r}: 0 <= START <= TARGET <= 100")
    return values


def _fault(text: str) -> tuple[float, str]:
    from .roles.charger_faults import parse_fault
    try:
        return parse_fault(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _offline(text: str) -> tuple[float, float]:
    start, _, duration = text.partition(":")
    try:
        values = (float(start), float(duration))
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad offline window {text!r}: expected START:DURATION "
                                         "in seconds, e.g. 60:120") from None
    if not (0 <= values[0] < float("inf") and 0 < values[1] < float("inf")):
        raise argparse.ArgumentTypeError(f"bad offline window {text!r}: START >= 0, DURATION > 0")
    return values


def _kilowatts(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of kW: {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"the site limit must be above 0 kW, not {text}")
    return value


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
    gui.add_argument("--csms", metavar="HOST:PORT",
                     help="start the fake CSMS listening here (e.g. 127.0.0.1:9000)")
    gui.add_argument("--proxy", metavar="HOST:PORT", help="start the proxy listening here "
                                                          "(needs --upstream)")
    gui.add_argument("--upstream", metavar="URL", help="the CSMS the proxy relays to, ws(s)://...")
    gui.add_argument("--rules", type=Path, metavar="FILE",
                     help="the proxy's rules file (TOML or JSON; see README, Proxy rules)")
    gui.add_argument("--charger", action="append", default=[], metavar="URL",
                     help="start a fake charger that stays connected, ws://HOST:PORT/<id> "
                          "(repeatable)")
    gui.add_argument("--view", choices=GUI_VIEWS,
                     help="the view to show: " + ", ".join(GUI_VIEWS))
    gui.add_argument("--db", type=Path, help="capture file (default: a new file in the per-user "
                                              "data directory)")

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
    proxy.add_argument("--rules", type=Path, metavar="FILE",
                       help="TOML or JSON file of rules that drop, delay, patch, replace, answer, "
                            "duplicate or close frames (see README, Proxy rules)")
    server_tls(proxy)
    client_tls(proxy, "upstream-")

    def write_timeout(sub, who):
        sub.add_argument("--write-timeout", type=float, default=30.0, metavar="S",
                         help=f"drop {who} that stops reading for this long (default 30; 0: never)")
    write_timeout(proxy, "a side (charger or CSMS)")

    csms = role("csms", "act as a CSMS that accepts any charge point")
    csms.add_argument("--listen", default="127.0.0.1:9000", metavar="HOST:PORT")
    csms.add_argument("--workers", type=int, metavar="N",
                      help="N processes behind the one port (SO_REUSEPORT), each with its own "
                           "capture <db>-w<k>.db: for fleets larger than one process answers")
    csms.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    csms.add_argument("--overrides", type=Path, metavar="FILE",
                      help="JSON file of per-action responses (see README)")
    csms.add_argument("--site-limit", type=_kilowatts, metavar="KW",
                      help="share a site limit among the running transactions: each gets a "
                           "TxProfile of KW / N (in W), resent when one starts or ends")
    csms.add_argument("--files", type=Path, metavar="DIR",
                      help="serve DIR over HTTP for chargers: GET a firmware image, PUT/POST "
                           "diagnostics and logs into it (UpdateFirmware, GetDiagnostics, GetLog)")
    csms.add_argument("--files-listen", metavar="HOST:PORT",
                      help="where --files listens (default: the --listen host, a free port; "
                           "the URL is printed)")
    csms.add_argument("--script", type=Path, metavar="FILE.py",
                      help="Python with @on(action) handlers for the chargers' calls and "
                           "async def connected(station) run per charger (see README, Scripts)")
    csms.add_argument("--calls", action="store_true",
                      help='read CSMS-initiated calls from stdin, one per line: '
                           '<charge point id> <Action> [JSON payload], e.g. CP001 Reset {"type":"Soft"}')
    auth = csms.add_argument_group("HTTP Basic auth (security profiles 1 and 2)")
    auth.add_argument("--password", help="require this password from every charge point")
    auth.add_argument("--passwords", type=Path, metavar="FILE",
                      help='JSON file {"CP001": "password", ...}: require per charge point')
    server_tls(csms)
    csms.add_argument("--cert-check", choices=["serial", "strict", "off"], default="serial",
                      help="profile 3: serial (default) closes a charger whose certificate CN does "
                           "not hold the serial number its BootNotification reports; strict also "
                           "requires CN = the charge point id; off checks only the chain")
    write_timeout(csms, "a charger")
    csms.add_argument("--accept-no-subprotocol", action="store_true",
                      help="serve a charger that offers no OCPP subprotocol as 1.6 (OCPP-J says "
                           "to answer without one and close; default)")

    charger = role("charger", "simulate a charger running one charging session against a CSMS")
    charger.add_argument("--url", help="CSMS URL ending in the charge point id (required)")
    charger.add_argument("--model", metavar="NAME|FILE",
                         help="what the charger is: a built-in model (see --list-models) or a "
                              "JSON model file (see README); default ac-7kw")
    charger.add_argument("--list-models", action="store_true",
                         help="list the built-in charger models and exit")
    charger.add_argument("--version", dest="ocpp_version", type=_version, default="1.6",
                         help="OCPP version: 1.6, 2.0.1 or 2.1 (default 1.6)")
    charger.add_argument("--meter-values", type=int, default=3, metavar="N")
    charger.add_argument("--interval", type=float, default=1.0, metavar="S",
                         help="seconds between sampled MeterValues: the charger's "
                              "MeterValueSampleInterval / TxUpdatedInterval, which a CSMS may "
                              "change (default 1)")
    charger.add_argument("--script", type=Path, metavar="FILE.py",
                         help="run this Python's async def run(cp) instead of the built-in "
                              "session (see README, Scripts)")
    charger.add_argument("--id-tag", default="TAG0001")
    charger.add_argument("--password", help="HTTP Basic auth password (security profile 1)")
    charger.add_argument("--stay", action="store_true",
                         help="after the session stay connected, heartbeating and answering the "
                              "CSMS, until Ctrl+C")
    charger.add_argument("--soc", type=_soc, default=(20.0, 100.0), metavar="START[:TARGET]",
                         help="the EV's state of charge at plug-in and where it stops drawing "
                              "(SuspendedEV), in %% (default 20:100)")
    charger.add_argument("--battery", type=_battery, default=60.0, metavar="KWH",
                         help="the EV's battery capacity (default 60)")
    charger.add_argument("--fault", type=_fault, metavar="S:CODE",
                         help="S seconds after connecting, the connector faults with CODE (e.g. "
                              "30:GroundFailure; also HighTemperature, OverCurrentFailure, "
                              "PowerMeterFailure, ConnectorLockFailure, EVCommunicationError, ...): "
                              "a running transaction ends, the status is Faulted")
    charger.add_argument("--offline", type=_offline, metavar="S:D",
                         help="lose the connection S seconds after connecting, for D seconds "
                              "(no close frame, as a network loss): transactions go on, their "
                              "messages are queued and delivered in order after reconnecting")
    charger.add_argument("--reconnect", action="store_true",
                         help="when the connection is lost (the CSMS went away), carry on "
                              "offline and reconnect with back-off (implied by --offline)")
    charger.add_argument("--fault-for", type=float, default=10.0, metavar="S",
                         help="how long the fault lasts before the connector is Available again "
                              "(default 10)")
    client_tls(charger)

    fleet = role("fleet", "run many simulated chargers in one process against a CSMS")
    fleet.add_argument("--url", required=True, help="CSMS base URL; charge point ids are appended")
    fleet.add_argument("--script", type=Path, metavar="FILE.py",
                       help="every charger runs this Python's async def run(cp) instead of "
                            "--scenario (see README, Scripts)")
    fleet.add_argument("--model", metavar="NAME|FILE",
                       help="the chargers' model (built-in name or JSON file; charger "
                            "--list-models); default ac-7kw")
    fleet.add_argument("--count", type=int, default=10, metavar="N")
    fleet.add_argument("--version", dest="ocpp_version", type=_version, default="1.6")
    fleet.add_argument("--prefix", default="CP", help="charge point id prefix (default CP)")
    fleet.add_argument("--ramp-up", type=float, default=0.0, metavar="S",
                       help="spread the connections over this many seconds")
    fleet.add_argument("--duration", type=float, default=60.0, metavar="S")
    fleet.add_argument("--scenario", choices=list(FLEET_SCENARIOS), default="mixed",
                       help="idle: boot and heartbeat; charging: every charger runs sessions; "
                            "mixed: every other one; arrivals: EVs arrive at random (--arrival-"
                            "mean) with a random battery and SoC, charge and leave when full or "
                            "when their stay ends; field: charging sessions that now and then "
                            "lose the network (--offline-chance, --offline-for), queue, try an "
                            "unknown card offline, reconnect and deliver")
    fleet.add_argument("--arrival-mean", type=_non_negative_seconds, default=20.0, metavar="S",
                       help="arrivals: mean seconds between one EV leaving and the next "
                            "arriving, per charger (exponential; default 20)")
    fleet.add_argument("--seed", type=int, metavar="N",
                       help="arrivals, field: the same seed gives the same run")
    fleet.add_argument("--offline-chance", type=float, default=0.3, metavar="P",
                       help="field: the chance a session loses the network (0 to 1, default 0.3)")
    fleet.add_argument("--offline-for", type=float, default=10.0, metavar="S",
                       help="field: mean seconds offline, 0.5x to 1.5x (default 10)")
    fleet.add_argument("--meter-interval", type=float, default=10.0, metavar="S")
    fleet.add_argument("--heartbeat", type=float, metavar="S",
                       help="heartbeat interval (default: what the CSMS grants at boot)")
    fleet.add_argument("--password", help="HTTP Basic auth password for every charger")
    fleet.add_argument("--log-every", type=int, default=1, metavar="N",
                       help="log the frames of every N-th charger only (0 or --no-log: none)")
    fleet.add_argument("--json", action="store_true", help="print the summary as JSON")
    fleet.add_argument("--workers", type=int, nargs="?", const=0, metavar="N",
                       help="run the fleet on a local Locust master with N worker processes "
                            "(--workers alone: one per core); the same progress line and "
                            "summary, added up")
    fleet.add_argument("--locust-web", action="store_true",
                       help="with --workers: Locust's web UI (http://127.0.0.1:8089/) instead "
                            "of the progress line")
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
    certs.add_argument("--force", action="store_true",
                       help="replace a CA and certificates already in --out (by default an existing "
                            "CA is reused to sign new client certificates and nothing is overwritten)")

    from .cli_replay import add_replay_parser
    add_replay_parser(verbs)

    suite = verbs.add_parser("suite", help="conformance test suites (OCTT-style test cases)",
                             description="conformance test suites (OCTT-style test cases)")
    suite_verbs = suite.add_subparsers(dest="suite_verb", metavar="list|run", required=True)
    suite_list = suite_verbs.add_parser("list", help="list the test cases",
                                        description="list the test cases")
    suite_list.add_argument("--version", dest="ocpp_version", type=_version,
                            help="only cases of this OCPP version: 1.6 or 2.0.1")
    suite_list.add_argument("--sut", choices=["charger", "csms"], help="only cases for this SUT kind")
    suite_list.add_argument("--cases", dest="case_files", action="append", type=Path,
                            metavar="FILE.py", help="also list your cases from this file (its "
                                                    "CASES list; see README); repeatable")
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
    suite_run.add_argument("--cases", dest="case_files", action="append", type=Path,
                           metavar="FILE.py",
                           help="your cases (a Python file with CASES, see README), beside the "
                                "catalogue; without --case only these run; repeatable")
    suite_run.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    suite_run.add_argument("--html", type=Path, metavar="FILE", help="write an HTML report")
    suite_run.add_argument("--simulate-sut", "--auto", dest="auto", action="store_true",
                           help="test ocpp-inspector's own simulated charger or CSMS instead of a "
                                "real SUT (self-test, demos); refused with --target")
    suite_run.add_argument("--sut-config", type=Path, metavar="FILE",
                           help="SUT description (JSON): tags, connectors/EVSEs, features, "
                                "boot Pending/Rejected, configuration; a case needing what it "
                                "does not declare is NOT_APPLICABLE")
    suite_run.add_argument("--non-interactive", action="store_true",
                           help="never ask on the terminal: a step that needs a person ends "
                                "inconclusive unless its effect is observed (the default when "
                                "stdin is not a terminal)")
    suite_run.add_argument("--operator-timeout", type=float, default=180.0, metavar="S",
                           help="how long an operator step waits for the operator or for its "
                                "observed effect (default 180)")
    suite_run.add_argument("--step-timeout", type=float, default=30.0, metavar="S",
                           help="default time a step waits for the SUT (default 30)")
    suite_run.add_argument("--case-timeout", type=float, default=300.0, metavar="S",
                           help="time limit of one case (default 300)")
    suite_run.add_argument("--connect-timeout", type=float, default=120.0, metavar="S",
                           help="how long a case waits for the charger SUT to connect and boot "
                                "(default 120)")
    suite_run.add_argument("--db", type=Path, metavar="FILE", help="also log every frame to this "
                                                                    "capture file")
    suite_run.add_argument("--param", action="append", metavar="KEY=VALUE",
                           help="case parameter, e.g. valid_tag=04A2B3C4 or heartbeat_interval=20")
    suite_run.add_argument("--password",
                           help="HTTP Basic auth (security profiles 1, 2): what we send a CSMS "
                                "SUT; what a charger SUT must send (the listener then requires it)")
    server_tls(suite_run, "charger SUTs")
    client_tls(suite_run)
    suite_run.add_argument("-v", "--verbose", action="store_true",
                           help="print the reason of every step, not only of failures")

    log = verbs.add_parser("log", help="read a capture file")
    log_verbs = log.add_subparsers(dest="log_verb", metavar="show|export|import|merge",
                                   required=True)
    log_merge = log_verbs.add_parser(
        "merge", help="merge several captures into one (in time order)",
        description="merge several captures (the workers of fleet/csms --workers) into one "
                    "new capture file, frames in time order, connections and pairs kept")
    log_merge.add_argument("--db", type=Path, required=True, action="append",
                           help="a capture to merge (repeat it)")
    log_merge.add_argument("-o", "--output", type=Path, required=True, help="the new capture")
    log_import = log_verbs.add_parser(
        "import", help="turn a Wireshark capture (pcap, pcapng) of OCPP-J into a capture file",
        description="read OCPP-J over ws:// from a pcap or pcapng file (any port: every TCP "
                    "connection that upgrades to WebSocket) into a capture file, with "
                    "connections, directions, times, pairing and validation")
    log_import.add_argument("--pcap", type=Path, required=True, metavar="FILE",
                            help="the pcap or pcapng file")
    log_import.add_argument("--db", type=Path, required=True, metavar="OUT",
                            help="the capture file to write (must not exist yet)")
    log_import.add_argument("--keylog", type=Path, metavar="FILE",
                            help="TLS key log (SSLKEYLOGFILE) to read wss:// (see README)")
    for name, help_text in (("show", "print frames as a table"),
                            ("export", "write frames as JSON lines")):
        sub = log_verbs.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--db", type=Path, required=True, action="append",
                         help="capture file; repeat it to read several as one (the workers "
                              "of fleet/csms --workers), merged in time order")
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
