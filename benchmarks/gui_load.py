"""Does the window disturb what it measures? A fleet against the GUI's fake CSMS, with the
Meter values plot shown, compared with the headless fake CSMS in the same run.

Both runs use the same fleet (`ocpp-inspector fleet`, its own process): N chargers on OCPP
2.0.1, charging, a MeterValues every second each. The fleet measures the reply latency and
the missed intervals from the outside; the window measures its own event-loop lag
(ui/lag.py). Targets (issue 13): reply p99 with the window at most 2x headless, no failed
handshake, no missed interval, window lag p99 below 100 ms.

    python -m benchmarks.gui_load [--chargers 100] [--seconds 40] [--rounds 3]

Runs offscreen unless DISPLAY is set (then on that X server).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .timing import start_cli, stop

TARGET_RATIO, TARGET_LAG_MS = 2.0, 100.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_listening(port: int, process, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the window exited with {process.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds:g} s")


def run_fleet(url: str, chargers: int, seconds: float) -> dict:
    command = [sys.executable, "-m", "inspector", "fleet", "--url", url, "--count", str(chargers),
               "--version", "2.0.1", "--scenario", "charging", "--meter-interval", "1",
               "--ramp-up", str(min(10, seconds / 4)), "--duration", str(seconds),
               "--no-log", "-q", "--json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    try:
        return json.loads(done.stdout[done.stdout.index("{"):])
    except ValueError:
        raise RuntimeError(f"the fleet printed no summary (exit {done.returncode}): "
                           f"{done.stderr.strip()[-500:]}") from None


def headless(folder: Path, chargers: int, seconds: float) -> dict:
    csms, url = start_cli("csms", "--listen", "127.0.0.1:0", "-q", "--db", str(folder / "headless.db"))
    try:
        return run_fleet(url, chargers, seconds)
    finally:
        stop(csms)


def windowed(folder: Path, chargers: int, seconds: float, view: str = "meter-values"
             ) -> tuple[dict, dict]:
    port = free_port()
    lag_file = folder / "lag.json"
    env = dict(os.environ, OCPP_INSPECTOR_LAG_FILE=str(lag_file))
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(folder / "config")  # the user's settings stay untouched
    window = subprocess.Popen([sys.executable, "-m", "ui", "gui", "--csms", f"127.0.0.1:{port}",
                               "--view", view, "--db", str(folder / "gui.db")],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, window)
        summary = run_fleet(f"ws://127.0.0.1:{port}/", chargers, seconds)
    finally:
        stop(window)
    lag = json.loads(lag_file.read_text()) if lag_file.exists() else {}
    return summary, lag


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gui_load")
    parser.add_argument("--chargers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=40.0, help="per run")
    parser.add_argument("--view", default="meter-values",
                        help="the view the window shows (gui --view)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="headless and window runs alternate this many times; a shared "
                             "host drifts, so the verdict is the median of the paired ratios")
    args = parser.parse_args(argv)
    rounds = []
    with tempfile.TemporaryDirectory() as name:
        for number in range(args.rounds):
            folder = Path(name) / str(number)
            folder.mkdir()
            base = headless(folder, args.chargers, args.seconds)
            gui, lag = windowed(folder, args.chargers, args.seconds, args.view)
            rounds.append((base, gui, lag))
    print(f"{args.chargers} chargers, OCPP 2.0.1 charging, 1 MeterValues/s each, "
          f"{args.rounds} x {args.seconds:g} s per side")
    print(f"{'':28} {'booted':>7} {'errors':>7} {'frames':>8} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'missed':>7} {'lag p99':>8}")
    for number, (base, gui, lag) in enumerate(rounds, 1):
        for label, s, lag_p99 in ((f"round {number} headless", base, None),
                                  (f"round {number} window {args.view}"[:28], gui, lag.get("p99_ms"))):
            lag_text = "" if lag_p99 is None else f"{lag_p99:.1f}"
            print(f"{label:28} {s['booted']:>7} {s['errors']:>7} {s['frames']:>8} "
                  f"{s['latency_p50_ms']:>8} {s['latency_p99_ms']:>8} {s['missed_intervals']:>7} "
                  f"{lag_text:>8}")
    ratios = sorted(gui["latency_p99_ms"] / max(base["latency_p99_ms"], 0.001)
                    for base, gui, _lag in rounds)
    ratio = ratios[len(ratios) // 2]
    lags = [lag.get("p99_ms") for _b, _g, lag in rounds]
    worst_lag = max((x for x in lags if x is not None), default=None)
    guis = [gui for _b, gui, _l in rounds]
    checks = {
        f"reply p99 ratio window/headless, median of {len(ratios)} rounds {ratio:.2f} "
        f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target <= {TARGET_RATIO:g})":
            ratio <= TARGET_RATIO,
        f"all {args.chargers} booted in every round, no error":
            all(g["booted"] == args.chargers and not g["errors"] for g in guis),
        f"missed intervals {sum(g['missed_intervals'] for g in guis)} (target 0)":
            all(g["missed_intervals"] == 0 for g in guis),
        f"window lag p99, worst round {worst_lag if worst_lag is not None else float('nan'):.1f} ms "
        f"(target < {TARGET_LAG_MS:g})":
            worst_lag is not None and all(x is not None and x < TARGET_LAG_MS for x in lags),
    }
    for text, ok in checks.items():
        print(f"  {'ok  ' if ok else 'MISS'} {text}")


if __name__ == "__main__":
    main(sys.argv[1:])
