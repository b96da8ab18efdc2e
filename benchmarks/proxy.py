"""Proxy cost: charger→proxy→CSMS against the same traffic over a direct connection.

Three processes on loopback: this client, `benchmarks.echo_csms`, and `ocpp-inspector proxy`
with logging (a temporary capture file) and validation on, as a field engineer runs it.

    python -m benchmarks.proxy
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect

from .timing import percentile, start_cli, stop
from .validation import frames

LATENCY_CALLS = 2000
CLIENTS, CALLS_PER_CLIENT = 20, 500


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


def start_echo():
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.echo_csms"], stdout=subprocess.PIPE,
                               text=True)
    url = re.search(r"(ws://\S+)", process.stdout.readline()).group(1)
    return process, url


def main(argv) -> None:
    import json
    payload_text = json.dumps(frames()["1.6 MeterValues"][2], separators=(",", ":"))
    echo, echo_url = start_echo()
    with tempfile.TemporaryDirectory() as folder:
        proxy, proxy_url = start_cli("proxy", "--listen", "127.0.0.1:0", "--upstream", echo_url,
                                     "--db", str(Path(folder) / "bench.db"), "-q")
        try:
            # warm up both paths (schema compilation, connection setup)
            asyncio.run(round_trips(echo_url + "W", 200, payload_text))
            asyncio.run(round_trips(proxy_url + "W", 200, payload_text))
            direct = asyncio.run(round_trips(echo_url + "L", LATENCY_CALLS, payload_text))
            proxied = asyncio.run(round_trips(proxy_url + "L", LATENCY_CALLS, payload_text))
            direct_rate = asyncio.run(throughput(echo_url, payload_text))
            proxied_rate = asyncio.run(throughput(proxy_url, payload_text))
        finally:
            stop(proxy)
            stop(echo)
    d50, d99 = percentile(direct, 0.5), percentile(direct, 0.99)
    p50, p99 = percentile(proxied, 0.5), percentile(proxied, 0.99)
    print(f"latency, 1.6 MeterValues round trip, {LATENCY_CALLS} sequential calls:")
    print(f"  direct  p50 {d50:.3f} ms  p99 {d99:.3f} ms")
    print(f"  proxied p50 {p50:.3f} ms  p99 {p99:.3f} ms")
    print(f"  added   p50 {p50 - d50:.3f} ms  p99 {p99 - d99:.3f} ms   (target: <= 0.3 ms added p50)")
    print(f"throughput, {CLIENTS} chargers x {CALLS_PER_CLIENT} calls, one outstanding each:")
    print(f"  direct {direct_rate:,.0f} calls/s ({2 * direct_rate:,.0f} frames/s); proxied "
          f"{proxied_rate:,.0f} calls/s ({2 * proxied_rate:,.0f} frames/s); ratio "
          f"{proxied_rate / direct_rate:.2f}x   (target >= 0.8x)")


if __name__ == "__main__":
    main(sys.argv[1:])
