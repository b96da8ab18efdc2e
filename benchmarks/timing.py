"""Shared helpers: best-of timing, percentiles, subprocess roles on loopback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time


def rate(function, count: int, repeat: int = 3) -> float:
    """Best-of-`repeat` operations per second of calling function() `count` times."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(count):
            function()
        best = min(best, time.perf_counter() - start)
    return count / best


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def pinned_to(cpus):
    """A preexec_fn that keeps a child process (and every thread it starts) on `cpus`."""
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def start_cli(*args: str, pattern: str = r"listening on (ws://127\.0\.0\.1:\d+/)", cpus=None):
    """Start `ocpp-inspector ARGS` in its own process; returns (process, url it listens on)."""
    process = subprocess.Popen([sys.executable, "-m", "inspector", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, preexec_fn=pinned_to(cpus))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(pattern, process.stdout.readline())
        if match:
            return process, match.group(1)
    process.kill()
    raise RuntimeError(f"ocpp-inspector {' '.join(args)} did not start")


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
