"""A healthy charger's round trip while another peer floods the fake CSMS and never reads.

`ocpp-inspector csms` runs in its own process (logging off). A healthy charger sends
Heartbeats one after the other and times each answer: first alone (the baseline, in the
same run), then while a "deaf" client pipelines Heartbeats as fast as it can and never
reads an answer. With backpressure the CSMS caps the deaf peer's answers in flight, stops
reading from it, and drops it after --write-timeout; the healthy charger's p50/p99 should
stay near the baseline. The CSMS's memory (RSS) is printed before and after.

    python -m benchmarks.stalled_peer [--seconds S] [--write-timeout S]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from websockets.asyncio.client import connect

from .timing import percentile, start_cli, stop


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def round_trips(url: str, seconds: float) -> list[float]:
    times = []
    async with connect(url + "HEALTHY", subprotocols=["ocpp1.6"]) as ws:
        deadline = time.perf_counter() + seconds
        i = 0
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await ws.send(f'[2,"h{i}","Heartbeat",{{}}]')
            await ws.recv()
            times.append((time.perf_counter() - start) * 1000)
            i += 1
            await asyncio.sleep(0.01)
    return times


async def deaf_flood(url: str, seconds: float) -> int:
    """Pipeline Heartbeats and never read; returns how many were written."""
    from tests.test_backpressure import deaf_charger, masked_text
    _, writer = await deaf_charger(url)
    sent, deadline = 0, time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline:
            for _ in range(200):
                writer.write(masked_text(f'[2,"d{sent}","Heartbeat",{{}}]'.encode()))
                sent += 1
            await asyncio.wait_for(writer.drain(), max(0.1, deadline - time.perf_counter()))
    except (ConnectionError, asyncio.TimeoutError):
        pass
    writer.close()
    return sent


async def run(url: str, seconds: float) -> tuple[list[float], list[float], int]:
    alone = await round_trips(url, seconds)
    flood = asyncio.create_task(deaf_flood(url, seconds))
    loaded = await round_trips(url, seconds)
    return alone, loaded, await flood


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stalled_peer")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--write-timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    csms, url = start_cli("csms", "--listen", "127.0.0.1:0", "--no-log", "-q",
                          "--write-timeout", str(args.write_timeout))
    try:
        before = rss_mb(csms.pid)
        alone, loaded, sent = asyncio.run(run(url, args.seconds))
        after = rss_mb(csms.pid)
    finally:
        stop(csms)
    p50a, p99a = percentile(alone, 0.5), percentile(alone, 0.99)
    p50l, p99l = percentile(loaded, 0.5), percentile(loaded, 0.99)
    print(f"healthy charger alone:          p50 {p50a:6.2f} ms  p99 {p99a:6.2f} ms  ({len(alone)} calls)")
    print(f"while a deaf peer floods:       p50 {p50l:6.2f} ms  p99 {p99l:6.2f} ms  ({len(loaded)} calls)")
    print(f"ratio (loaded / alone):         p50 {p50l / p50a:5.2f}x    p99 {p99l / p99a:5.2f}x")
    print(f"deaf peer wrote {sent:,} Heartbeats; fake CSMS RSS {before:.0f} -> {after:.0f} MB")


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
