"""`csms --workers N`: N fake CSMS processes behind one port, for fleets larger than one
process can answer.

Each worker is `ocpp-inspector csms` itself, listening with SO_REUSEPORT on the same address,
so the operating system spreads new connections over them; each keeps its own capture
(`<name>-w<k>.db`). What needs one process to see every charger (stdin calls, a site limit
shared among all transactions, the files server) is refused with workers. Where the OS has no
SO_REUSEPORT (Windows), run one fake CSMS per port instead.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from .cli_parser import UserError
from .roles.common import Listen

_OWN = {"--workers", "--listen", "--db"}  # options set per worker, not passed through


def worker_argv(argv: list[str]) -> list[str]:
    """The csms command line without the options each worker gets its own value of."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
            continue
        name = item.split("=", 1)[0]
        if name in _OWN:
            skip = "=" not in item
            continue
        out.append(item)
    return out


def run_csms_workers(args, argv: list[str]) -> int:
    if not hasattr(socket, "SO_REUSEPORT"):
        raise UserError("csms --workers needs SO_REUSEPORT (Linux, macOS, BSD); on this system "
                        "run one fake CSMS per port")
    for given, why in ((args.calls, "--calls (which worker has the charger?)"),
                       (args.site_limit, "--site-limit (one limit shared by every worker's "
                                         "transactions)"),
                       (args.files, "--files (one file server)")):
        if given:
            raise UserError(f"csms --workers cannot take {why}; run one process for it")
    listen = Listen.parse(args.listen)
    port = listen.port or _free_port(listen.host)
    passed = worker_argv(argv)
    children = []
    for index in range(1, args.workers + 1):
        own = ["--listen", f"{listen.host}:{port}", "--reuse-port"]
        if args.db:
            stem = str(args.db)[:-3] if str(args.db).endswith(".db") else str(args.db)
            own += ["--db", f"{stem}-w{index}.db"]
        children.append(subprocess.Popen([sys.executable, "-m", "inspector", *passed, *own]))
    def terminated(*_args):  # a service manager's SIGTERM stops the workers too
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, terminated)
    if not _listening(listen.host, port, children):
        for child in children:
            child.kill()
        raise UserError(f"the CSMS workers did not listen on {listen.host}:{port}")
    print(f"[csms] {args.workers} workers share ws://{listen.display_host}:{port}/ "
          f"(SO_REUSEPORT)", file=sys.stderr, flush=True)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGINT)
    codes = []
    for child in children:
        try:
            codes.append(child.wait(20))
        except subprocess.TimeoutExpired:
            child.kill()
            codes.append(1)
    failed = [c for c in codes if c not in (0, -signal.SIGINT)]
    return failed[0] if failed else 0


def _listening(host: str, port: int, children, seconds: float = 30) -> bool:
    """Wait until the port takes connections (the URL is said only then)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
