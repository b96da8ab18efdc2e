"""Memory under a long-lived fleet: does the fake CSMS's RSS stay flat, and what does one
connection cost, idle and busy?

`ocpp-inspector csms` runs in its own process, logging to a capture. A fleet of N chargers
(this process) connects and idles (heartbeat 60 s), then turns busy (a MeterValues every
second each) for --minutes, then leaves. The CSMS's RSS is sampled throughout; the baseline
is its RSS before any charger connected, in the same run.

    python -m benchmarks.soak [--chargers N] [--minutes M]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from inspector.events import Hub
from inspector.roles.fleet import Fleet, FleetOptions

from .stalled_peer import rss_mb
from .timing import start_cli, stop


async def soak(url: str, pid: int, count: int, minutes: float) -> dict:
    samples = {"baseline": rss_mb(pid)}
    idle = Fleet(Hub(), FleetOptions(url=url, count=count, duration=20, scenario="idle",
                                     ramp_up=5, prefix="IDLE"), log_every=0)
    idle_run = asyncio.create_task(idle.run())
    await asyncio.sleep(15)
    samples["idle"] = rss_mb(pid)
    await idle_run
    busy = Fleet(Hub(), FleetOptions(url=url, count=count, duration=minutes * 60, scenario="charging",
                                     ramp_up=5, meter_interval=1.0, session_samples=10_000,
                                     prefix="BUSY"), log_every=0)
    busy_run = asyncio.create_task(busy.run())
    trace = []
    start = time.monotonic()
    while not busy_run.done():
        await asyncio.sleep(10)
        trace.append((round(time.monotonic() - start), rss_mb(pid)))
    summary = await busy_run
    await asyncio.sleep(5)
    samples["after"] = rss_mb(pid)
    samples["trace"] = trace
    samples["frames"] = summary["frames"]
    samples["errors"] = summary["errors"]
    return samples


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--chargers", type=int, default=300)
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        overrides = Path(folder) / "overrides.json"
        overrides.write_text(json.dumps({"BootNotification": {"interval": 60}}))
        csms, url = start_cli("csms", "--listen", "127.0.0.1:0", "-q", "--db",
                              str(Path(folder) / "soak.db"), "--overrides", str(overrides))
        try:
            result = asyncio.run(soak(url, csms.pid, args.chargers, args.minutes))
        finally:
            stop(csms)
    base, idle, after = result["baseline"], result["idle"], result["after"]
    trace = result["trace"]
    warm = [mb for t, mb in trace if t >= 60] or [mb for _, mb in trace]
    print(f"fake CSMS RSS: {base:.0f} MB with no charger, {idle:.0f} MB with {args.chargers} idle "
          f"({(idle - base) * 1024 / args.chargers:.0f} KB per idle connection)")
    print(f"busy ({args.chargers} x 1 MeterValues/s, {args.minutes:g} min, logging on): "
          f"{min(warm):.0f} .. {max(warm):.0f} MB after the first minute "
          f"(max - min {max(warm) - min(warm):.1f} MB; {(max(warm) - base) * 1024 / args.chargers:.0f} "
          f"KB per busy connection at most)")
    print(f"after the fleet left: {after:.0f} MB; {result['frames']:,} frames, "
          f"{result['errors']} errors")
    print("trace (s, MB): " + ", ".join(f"{t}:{mb:.0f}" for t, mb in trace))


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
