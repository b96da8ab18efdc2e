"""Fleet scale: chargers held and frames/s at 100, 1,000 and 5,000 chargers in one process.

The CSMS is `ocpp-inspector csms` in its own process (logging off), granting a 10 s
heartbeat; each charger heartbeats every 10 s and, in the charging scenario, sends
MeterValues every 10 s. The baseline is the frame rate the schedule asks for
(count x messages per second x 2 frames): a ratio of 1.00 means no interval was missed.

    python -m benchmarks.fleet [COUNT ...] [--duration S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

from inspector.loop_thread import event_loop_factory
from inspector.events import Hub
from inspector.roles.fleet import Fleet, FleetOptions

from .timing import start_cli, stop


async def measure(options: FleetOptions, ramp: float, duration: float):
    """Run the fleet; frames/s is measured in the steady window after the ramp-up."""
    fleet = Fleet(Hub(), options, log_every=0)
    task = asyncio.create_task(fleet.run())
    await asyncio.sleep(ramp + 12)  # everyone connected and past the first interval
    start_frames, start = fleet.stats.frames, asyncio.get_running_loop().time()
    # stop before the last interval: sessions end (StopTransaction) up to one interval early
    await asyncio.sleep(max(5.0, duration - 24))
    steady = (fleet.stats.frames - start_frames) / (asyncio.get_running_loop().time() - start)
    return await task, steady


def main(argv) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet")
    parser.add_argument("counts", nargs="*", type=int, default=[100, 1000, 5000])
    parser.add_argument("--duration", type=float, default=60.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        overrides = Path(folder) / "overrides.json"
        overrides.write_text(json.dumps({"BootNotification": {"interval": 10}}))
        csms, url = start_cli("csms", "--listen", "127.0.0.1:0", "--no-log", "-q",
                              "--overrides", str(overrides))
        try:
            print(f"{'chargers':>8} {'booted':>7} {'errors':>6} {'frames/s':>9} {'expected':>9} "
                  f"{'ratio':>6} {'p50 ms':>7} {'p99 ms':>7} {'missed':>6} {'max late s':>10}")
            for count in args.counts:
                ramp = max(2.0, count / 500)  # about 500 new connections per second
                options = FleetOptions(url=url, count=count, duration=args.duration + ramp,
                                       ramp_up=ramp, scenario="charging", meter_interval=10.0,
                                       session_samples=1000, heartbeat_interval=10.0)
                # the same event loop as `ocpp-inspector fleet` (uvloop where installed)
                with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
                    summary, steady = runner.run(measure(options, ramp, args.duration))
                expected = count * (1 / 10 + 1 / 10) * 2  # heartbeat + meter values, CALL + result
                print(f"{count:>8} {summary['booted']:>7} {summary['errors']:>6} {steady:>9,.0f} "
                      f"{expected:>9,.0f} {steady / expected:>6.2f} {summary['latency_p50_ms']:>7} "
                      f"{summary['latency_p99_ms']:>7} {summary['missed_intervals']:>6} "
                      f"{summary['max_lateness_s']:>10}", flush=True)
        finally:
            stop(csms)


if __name__ == "__main__":
    main(sys.argv[1:])
