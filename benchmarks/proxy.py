"""Proxy cost: charger→proxy→CSMS against the same traffic over a direct connection.

Three processes on loopback: this client, `benchmarks.echo_csms`, and `ocpp-inspector proxy`
with logging (a temporary capture file) and validation on, as a field engineer runs it.
Measured twice: with the proxy pinned to a CPU of its own (the field's layout) and with all
three processes sharing every CPU.

    python -m benchmarks.proxy
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from .timing import percentile, pinned_to, start_cli, stop
from .validation import frames

LATENCY_CALLS = 2000
CLIENTS, CALLS_PER_CLIENT = 20, 300
# This machine's speed drifts (shared host): the two paths are measured in alternating
# rounds, latencies pooled, and the throughput ratio is the median of each round's
# proxied/direct pair (measured a second apart), so a slow spell hits both sides of a
# pair instead of skewing the ratio.
ROUNDS = 7


async def round_trips(url: str, count: int, payload_text: str) -> list[float]:
    latencies = []
    async with connect(url, subprotocols=["ocpp1.6"], compression=None, ping_interval=None) as ws:
        for i in range(count):
            start = time.perf_counter()
            await ws.send(f'[2,"{i}","MeterValues",{payload_text}]')
            await ws.recv()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


async def throughput(base: str, payload_text: str) -> float:
    """Calls answered per second with CLIENTS chargers each keeping one CALL outstanding."""
    start = time.perf_counter()
    await asyncio.gather(*(round_trips(f"{base}CP{n}", CALLS_PER_CLIENT, payload_text)
                           for n in range(CLIENTS)))
    return CLIENTS * CALLS_PER_CLIENT / (time.perf_counter() - start)


def payload_for_benchmark() -> str:
    """The 1.6 MeterValues payload every proxy benchmark sends."""
    import json
    return json.dumps(frames()["1.6 MeterValues"][2], separators=(",", ":"))


def start_echo(cpus=None):
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.echo_csms"], stdout=subprocess.PIPE,
                               text=True, preexec_fn=pinned_to(cpus))
    url = re.search(r"(ws://\S+)", process.stdout.readline()).group(1)
    return process, url


def cpu_layout():
    """(CPUs for the traffic, CPUs for the proxy), or None where processes cannot be pinned.

    In the field the charger and the CSMS are other machines: the proxy's laptop spends
    its CPU on the proxy alone. Pinning the benchmark's charger and CSMS to some CPUs and
    the proxy to another reproduces that; unpinned, all three share every CPU and the
    ratio mostly says how much CPU the proxy takes from the traffic generator.
    """
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    return (cpus[:-1], cpus[-1:]) if len(cpus) >= 2 else None


def measure(payload_text: str, traffic_cpus=None, proxy_cpus=None, extra=()) -> dict:
    """Latency and throughput, direct and through `ocpp-inspector proxy`, on the given CPUs."""
    own = os.sched_getaffinity(0) if traffic_cpus else None
    if traffic_cpus:
        os.sched_setaffinity(0, traffic_cpus)  # this client, and the echo CSMS it starts
    echo, echo_url = start_echo(traffic_cpus)
    try:
        with tempfile.TemporaryDirectory() as folder:
            proxy, proxy_url = start_cli("proxy", "--listen", "127.0.0.1:0", "--upstream", echo_url,
                                         "--db", str(Path(folder) / "bench.db"), "-q", *extra,
                                         cpus=proxy_cpus)
            try:
                # warm up both paths (schema compilation, connection setup)
                asyncio.run(round_trips(echo_url + "W", 200, payload_text))
                asyncio.run(round_trips(proxy_url + "W", 200, payload_text))
                result = {"direct": [], "proxied": [], "direct_rates": [], "proxied_rates": []}
                for _ in range(ROUNDS):
                    for path, url in (("direct", echo_url), ("proxied", proxy_url)):
                        result[path] += asyncio.run(round_trips(url + "L", LATENCY_CALLS // ROUNDS,
                                                                payload_text))
                        result[path + "_rates"].append(asyncio.run(throughput(url, payload_text)))
                return result
            finally:
                stop(proxy)
    finally:
        stop(echo)
        if own:
            os.sched_setaffinity(0, own)


def report(title: str, m: dict) -> None:
    d50, d99 = percentile(m["direct"], 0.5), percentile(m["direct"], 0.99)
    p50, p99 = percentile(m["proxied"], 0.5), percentile(m["proxied"], 0.99)
    direct_rate, proxied_rate = max(m["direct_rates"]), max(m["proxied_rates"])
    ratios = sorted(p / d for p, d in zip(m["proxied_rates"], m["direct_rates"]))
    print(title)
    print(f"  latency, 1.6 MeterValues round trip, {LATENCY_CALLS} sequential calls in {ROUNDS} rounds:")
    print(f"    direct  p50 {d50:.3f} ms  p99 {d99:.3f} ms")
    print(f"    proxied p50 {p50:.3f} ms  p99 {p99:.3f} ms")
    print(f"    added   p50 {p50 - d50:.3f} ms  p99 {p99 - d99:.3f} ms   (target: <= 0.3 ms added p50)")
    print(f"  throughput, {CLIENTS} chargers x {CALLS_PER_CLIENT} calls, one outstanding each, "
          f"{ROUNDS} rounds:")
    print(f"    best round: direct {direct_rate:,.0f} calls/s ({2 * direct_rate:,.0f} frames/s); "
          f"proxied {proxied_rate:,.0f} calls/s ({2 * proxied_rate:,.0f} frames/s)")
    print(f"    proxied/direct per round: {' '.join(f'{r:.2f}' for r in ratios)}; "
          f"median ratio {ratios[len(ratios) // 2]:.2f}x   (target >= 0.8x)")


def main(argv) -> None:
    import argparse
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy")
    parser.add_argument("proxy_args", nargs="*",
                        help="extra proxy options after --, e.g. -- --no-log --no-validate, "
                             "to see what logging or validation costs")
    extra = parser.parse_args(argv).proxy_args
    payload_text = payload_for_benchmark()
    suffix = f" [proxy {' '.join(extra)}]" if extra else ""
    layout = cpu_layout()
    if layout:
        traffic, own = layout
        report(f"proxy on its own CPU {own}, charger and CSMS on CPU {traffic} "
               f"(as in the field, where they are other machines){suffix}:",
               measure(payload_text, traffic, own, extra))
    else:
        print("(this OS cannot pin processes to CPUs: only the shared measurement is made)")
    report(f"all three processes sharing every CPU (the proxy's CPU is taken from the "
           f"traffic){suffix}:", measure(payload_text, extra=extra))


if __name__ == "__main__":
    main(sys.argv[1:])
