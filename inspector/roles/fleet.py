"""A fleet of simulated chargers in one process, for load-testing a CSMS.

Each member is the same `FakeCharger` the single-charger verb uses (same messages, same
answers to CSMS-initiated calls), or with a multi-connector model the same `ChargingStation`
(one connection; the scenario runs on every connector, each with its own EV); the fleet
only schedules them and keeps the figures:
connected, booted, in transaction, errors, frames/s, latency p50/p99, and how late each
periodic message went out (a missed interval is one sent later than a whole interval).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from dataclasses import dataclass, field

from ..events import FrameLogged, Hub, Notice
from ..scripting import ChargerScript, ScriptError
from .charger import ChargerError, ChargerOptions, FakeCharger
from .station import make_charger

SCENARIOS = ("idle", "charging", "mixed", "arrivals", "field")
BATTERIES_KWH = (40.0, 60.0, 77.0, 100.0)  # typical EV batteries, drawn at random per arrival


@dataclass(frozen=True)
class Arrival:
    """One EV at a charger in the `arrivals` scenario."""

    after_s: float  # waiting time since the previous EV left (or since boot)
    battery_kwh: float
    soc: float  # at plug-in, %
    target_soc: float  # it leaves once there (or when its stay ends), %
    stay_samples: int  # meter values it stays for at most


def next_arrival(rng: random.Random, mean_gap_s: float, samples: int) -> Arrival:
    """EVs arrive as a Poisson process (exponential gaps) with a random battery and SoC."""
    return Arrival(after_s=rng.expovariate(1.0 / mean_gap_s) if mean_gap_s > 0 else 0.0,
                   battery_kwh=rng.choice(BATTERIES_KWH), soc=round(rng.uniform(10, 60), 1),
                   target_soc=round(rng.uniform(80, 100), 1),
                   stay_samples=rng.randint(max(1, samples // 2), max(1, samples * 2)))


@dataclass
class FleetOptions:
    url: str  # CSMS base URL; the charge point id is appended
    count: int = 10
    version: str = "1.6"
    prefix: str = "CP"
    ramp_up: float = 0.0  # seconds over which connections are spread
    duration: float = 60.0
    scenario: str = "mixed"
    meter_interval: float = 10.0
    session_samples: int = 6  # meter values per charging session
    pause: float = 5.0  # idle time between sessions
    heartbeat_interval: float | None = None  # None: what the CSMS grants in BootNotification
    password: str | None = None
    tls: object = None  # inspector.tls.ClientTls for wss:// URLs
    model: object = None  # inspector.roles.charger_models.ChargerModel; None: the default
    arrival_mean: float = 20.0  # arrivals: mean seconds between one EV leaving and the next
    seed: int | None = None  # arrivals, field: the same seed, the same run (None: different)
    offline_chance: float = 0.3  # field: the chance a session loses the network on the way
    offline_for: float = 10.0  # field: mean seconds offline (0.5x to 1.5x)
    configuration: dict = field(default_factory=dict)  # every member's keys / variables
    script: object = None  # inspector.scripting.Script: every member runs it (not `scenario`)

    def __post_init__(self):
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; use one of {', '.join(SCENARIOS)}")
        if self.count < 1:
            raise ValueError("the fleet needs at least one charger (count >= 1)")
        if self.arrival_mean < 0:
            raise ValueError("the mean time between arrivals cannot be negative")
        if not 0 <= self.offline_chance <= 1 or self.offline_for <= 0:
            raise ValueError("the offline chance is 0 to 1 and the offline time above 0 s")


@dataclass
class FleetStats:
    started: float = field(default_factory=time.monotonic)
    connected: int = 0
    booted: int = 0
    in_transaction: int = 0
    sessions: int = 0
    evs_full: int = 0  # arrivals: EVs that left because they reached their target SoC
    offline_periods: int = 0  # field: network losses
    refused_offline: int = 0  # field: unknown cards refused while offline
    queued: int = 0  # field: transaction messages queued offline (summed at the end)
    delivered: int = 0  # field: ...and delivered after reconnecting
    dropped: int = 0  # field: ...or refused by the CSMS on every attempt, and lost
    errors: int = 0
    script_errors: int = 0  # members whose script failed (each also in errors)
    frames: int = 0
    missed_intervals: int = 0
    max_lateness_s: float = 0.0
    last_errors: deque = field(default_factory=lambda: deque(maxlen=5))
    latencies: deque = field(default_factory=lambda: deque(maxlen=20000))
    _window: deque = field(default_factory=lambda: deque(maxlen=64))

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def frames_per_second(self) -> float:
        """Frames/s over the last few seconds (sliding window of (time, total) points)."""
        now = time.monotonic()
        self._window.append((now, self.frames))
        while len(self._window) > 2 and now - self._window[0][0] > 5:
            self._window.popleft()
        (t0, f0), (t1, f1) = self._window[0], self._window[-1]
        return (f1 - f0) / (t1 - t0) if t1 > t0 else 0.0

    def summary(self) -> dict:
        elapsed = time.monotonic() - self.started
        p50, p99 = self.percentile(0.5), self.percentile(0.99)
        return {
            "elapsed_s": round(elapsed, 2), "connected": self.connected, "booted": self.booted,
            "in_transaction": self.in_transaction, "sessions_completed": self.sessions,
            "evs_left_full": self.evs_full,
            "offline_periods": self.offline_periods, "refused_offline": self.refused_offline,
            "queued": self.queued, "delivered": self.delivered, "dropped": self.dropped,
            "errors": self.errors, "script_errors": self.script_errors, "frames": self.frames,
            "frames_per_s": round(self.frames / elapsed, 1) if elapsed else 0.0,
            "latency_p50_ms": None if p50 is None else round(p50, 2),
            "latency_p99_ms": None if p99 is None else round(p99, 2),
            "missed_intervals": self.missed_intervals,
            "max_lateness_s": round(self.max_lateness_s, 3),
            "last_errors": list(self.last_errors),
        }

    def line(self) -> str:
        p50, p99 = self.percentile(0.5), self.percentile(0.99)
        latency = f"{p50:.1f}/{p99:.1f} ms" if p50 is not None else "-"
        return (f"connected {self.connected}  booted {self.booted}  in transaction "
                f"{self.in_transaction}  errors {self.errors}  {self.frames_per_second():.0f} frames/s"
                f"  latency p50/p99 {latency}  missed intervals {self.missed_intervals}")


class Fleet:
    """Runs N FakeChargers. `hub` sees every frame; `log_hub` (optional) the sampled ones."""

    def __init__(self, hub: Hub, options: FleetOptions, *, log_every: int = 1, log_hub: Hub | None = None):
        self.hub = hub
        self.options = options
        self.stats = FleetStats()
        self.log_every = log_every  # log the frames of every n-th charger (0: none)
        self.log_hub = log_hub
        self.chargers: list = []  # members: FakeCharger, or ChargingStation (several connectors)
        self._tasks: list[asyncio.Task] = []
        hub.subscribe(self._count)

    def _count(self, event) -> None:
        if isinstance(event, FrameLogged):
            self.stats.frames += 1
            record = event.record
            if record.latency_ms is not None:
                self.stats.latencies.append(record.latency_ms)

    def _hub_for(self, index: int) -> Hub:
        """Chargers whose frames are logged publish to a hub the capture writer listens to."""
        if self.log_hub is not None and self.log_every and index % self.log_every == 0:
            return _Tee(self.hub, self.log_hub)
        return self.hub

    def new_charger(self, index: int, charge_point_id: str | None = None):
        """Member `index` (from 0), named `<prefix><index + 1>` unless given an id."""
        options = self.options
        if charge_point_id is None:
            width = max(4, len(str(options.count)))
            charge_point_id = f"{options.prefix}{index + 1:0{width}d}"
        charger = make_charger(self._hub_for(index), ChargerOptions(
            url=f"{options.url.rstrip('/')}/{charge_point_id}", version=options.version,
            password=options.password, interval=options.meter_interval, tls=options.tls,
            model=options.model, reconnect=options.scenario == "field",
            configuration=dict(options.configuration)))
        self.chargers.append(charger)
        return charger

    async def run_member(self, index: int, charger, seconds: float) -> None:
        """One member for `seconds` (or until cancelled), then its connection closed: what a
        Locust user of the fleet runs (inspector.locustfile)."""
        try:
            await self._member(index, charger, 0.0, time.monotonic() + seconds)
        finally:
            if charger.endpoint is not None:
                await charger.close()

    async def run(self) -> dict:
        options = self.options
        deadline = time.monotonic() + options.duration
        for index in range(options.count):
            self.new_charger(index)
        delay = options.ramp_up / options.count if options.count else 0
        self._tasks = [asyncio.create_task(self._member(i, c, i * delay, deadline))
                       for i, c in enumerate(self.chargers)]
        try:
            await asyncio.wait(self._tasks, timeout=max(0.0, deadline - time.monotonic()) + 10)
        finally:
            await self.stop()
            connectors = [c for member in self.chargers for c in _connectors(member)]
            self.stats.queued = sum(c.queued_total for c in connectors)
            self.stats.delivered = sum(c.delivered for c in connectors)
            self.stats.dropped = sum(c.dropped for c in connectors)
        return self.stats.summary()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(c.close() for c in self.chargers if c.endpoint is not None),
                             return_exceptions=True)

    def _error(self, charger: FakeCharger, exc: Exception) -> None:
        self.stats.errors += 1
        self.stats.last_errors.append(f"{charger.charge_point_id}: {exc}")

    async def _member(self, index: int, charger, start_after: float, deadline: float):
        await asyncio.sleep(start_after)
        if self.options.script is not None:
            await self._scripted(charger, deadline)
            return
        stats = self.stats
        connectors = _connectors(charger)
        try:
            await charger.connect()
            stats.connected += 1
            await charger.boot()
            stats.booted += 1
            for connector in connectors:
                await connector.send_status("Available")
        except (ChargerError, OSError) as exc:
            self._error(charger, exc)
            return
        lead = connectors[0]  # a station's heartbeat and connection are its first connector's
        heartbeat = self.options.heartbeat_interval or lead.heartbeat_interval
        tasks = [asyncio.create_task(self._periodic(lead, heartbeat, lead.heartbeat, deadline))]
        scenario = self.options.scenario
        for number, connector in enumerate(connectors):
            if scenario in ("field", "arrivals"):
                # each connector its own random stream; with --seed, the same one every run
                seed = self.options.seed
                rng = random.Random(None if seed is None else
                                    seed * 100_003 + index + number * 1_000_003)
                if scenario == "field":  # the network is the station's: its first connector
                    play = self._field(connector, deadline, rng,  # decides when it goes
                                       network=charger if number == 0 else None)
                else:
                    play = self._arrivals(connector, deadline, rng)
                tasks.append(asyncio.create_task(play))
            elif scenario == "charging" or (scenario == "mixed" and index % 2 == 0):
                tasks.append(asyncio.create_task(self._sessions(connector, deadline)))
        try:
            await asyncio.gather(*tasks)
            # hold the connection until --duration ends (an idle charger's heartbeat may not
            # fall due at all in a short run), unless it closes first
            remaining = deadline - time.monotonic()
            if remaining > 0 and charger.endpoint is not None:
                try:
                    await asyncio.wait_for(charger.endpoint.closed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
        finally:
            for task in tasks:
                task.cancel()
            stats.connected -= 1

    async def _scripted(self, charger, deadline: float) -> None:
        """--script: the member connects and runs the user's run(cp) until it returns or
        --duration ends; its boots count as the fleet's, its failure as an error."""
        stats, script = self.stats, self.options.script
        api = ChargerScript(charger, script)
        api.on_boot = self._booted
        try:
            await charger.connect()
        except (ChargerError, OSError) as exc:
            self._error(charger, exc)
            return
        stats.connected += 1
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())) as scope:
                await script.run(api)
        except Exception as exc:
            if not (isinstance(exc, TimeoutError) and scope.expired()):  # not --duration's end
                stats.script_errors += 1
                self._error(charger, ScriptError(script.describe_error(exc)))
        finally:
            stats.connected -= 1

    def _booted(self) -> None:
        self.stats.booted += 1

    async def _periodic(self, charger, interval: float, send, deadline: float,
                        until=None) -> None:
        """Send at a fixed rate, measuring lateness against the schedule (not drifting),
        until `deadline` or, after a send, `until()` is true."""
        # spread the first tick so a ramped fleet does not send in lockstep
        due = time.monotonic() + random.uniform(0, interval)
        while due < deadline:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            lateness = time.monotonic() - due
            self.stats.max_lateness_s = max(self.stats.max_lateness_s, lateness)
            if lateness >= interval:  # whole intervals slipped by: count them, skip their slots
                skipped = int(lateness // interval)
                self.stats.missed_intervals += skipped
                due += skipped * interval
            try:
                await send()
            except ChargerError as exc:
                self._error(charger, exc)
                return
            if until is not None and until():
                return
            due += interval

    async def _sessions(self, charger: FakeCharger, deadline: float) -> None:
        options = self.options
        while time.monotonic() + options.meter_interval < deadline:
            try:
                await self._session(charger, min(deadline, time.monotonic() + options.meter_interval
                                                 * options.session_samples))
            except ChargerError as exc:
                self._error(charger, exc)
                return
            await asyncio.sleep(min(options.pause, max(0.0, deadline - time.monotonic())))


    async def _arrivals(self, charger: FakeCharger, deadline: float, rng: random.Random) -> None:
        """EVs come at random, each with its own battery and SoC, charge (as the model and
        the profiles allow) and leave when full or when their stay is over."""
        options, stats = self.options, self.stats
        while True:
            ev = next_arrival(rng, options.arrival_mean, options.session_samples)
            if time.monotonic() + ev.after_s + options.meter_interval >= deadline:
                return
            await asyncio.sleep(ev.after_s)
            charger.meter.connect_ev(battery_wh=ev.battery_kwh * 1000, soc=ev.soc,
                                     target_soc=ev.target_soc)
            try:
                await self._session(charger, min(deadline, time.monotonic()
                                                 + options.meter_interval * ev.stay_samples),
                                    until=lambda: charger.meter.full)
            except ChargerError as exc:
                self._error(charger, exc)
                return
            if charger.meter.full:
                stats.evs_full += 1

    async def _field(self, charger: FakeCharger, deadline: float, rng: random.Random, *,
                     network=None) -> None:
        """Charging sessions in the field: now and then the network (`network`: the member
        whose connection this is; None: another connector of the station decides) goes in
        the middle of one (the charger queues, tries an unknown card, comes back and
        delivers)."""
        options, stats = self.options, self.stats
        while time.monotonic() + options.meter_interval * (options.session_samples + 1) < deadline:
            end = time.monotonic() + options.meter_interval * options.session_samples
            lose_at = None
            if network is not None and rng.random() < options.offline_chance:
                lose_at = time.monotonic() + rng.uniform(0.2, 0.8) * (end - time.monotonic())
            away = rng.uniform(0.5, 1.5) * options.offline_for
            lost: list[bool] = []  # once per session

            async def now_and_then() -> None:
                if lose_at is None or lost or time.monotonic() < lose_at:
                    return
                back = max(away, charger.first_reconnect_wait()) + options.meter_interval
                if time.monotonic() + back + 1.0 >= deadline:
                    return  # it would not be back (and delivered) before the run ends
                lost.append(True)
                await network.go_offline(away)
                stats.offline_periods += 1
                if await charger.present_card(f"UNKNOWN{rng.randrange(10_000):04d}") != "Accepted":
                    stats.refused_offline += 1
            try:
                await self._session(charger, end, on_sample=now_and_then)
                if charger.queue:
                    await charger.wait_delivered(max(1.0, deadline - time.monotonic()))
            except ChargerError as exc:
                self._error(charger, exc)
                return
            await asyncio.sleep(min(options.pause, max(0.0, deadline - time.monotonic())))

    async def _session(self, charger: FakeCharger, end: float, until=None,
                       on_sample=None) -> None:
        """One charging session: card, plug, start, meter values until `end` (or `until()`),
        stop, unplug; the counters follow it."""
        stats = self.stats
        await charger.present_card()
        await charger.plug_in()
        await charger.start_transaction()
        stats.in_transaction += 1
        async def sample() -> None:
            await charger.send_meter_values()
            if on_sample is not None:
                await on_sample()
        try:
            await self._periodic(charger, self.options.meter_interval, sample, end, until=until)
            await charger.stop_transaction()
        finally:
            stats.in_transaction -= 1
        await charger.unplug()
        stats.sessions += 1


def _connectors(member) -> list[FakeCharger]:
    """A fleet member's connectors: a station's, or the single charger itself."""
    return getattr(member, "connectors", None) or [member]


class _Tee(Hub):
    """A hub that publishes to two hubs: the fleet's counters and the capture log."""

    def __init__(self, first: Hub, second: Hub):
        super().__init__()
        self._first, self._second = first, second

    def publish(self, event) -> None:
        self._first.publish(event)
        self._second.publish(event)

    # Numbers come from the log hub: it may also carry other roles (the GUI's window, a
    # capture), whose frame numbers and connection ids must not collide with ours.
    def next_seq(self) -> int:
        return self._second.next_seq()

    def new_connection(self, charge_point_id: str, role: str, **kwargs):
        return self._second.new_connection(charge_point_id, "fleet", **kwargs)

    def notice(self, level, text, source=""):
        self.publish(Notice(level, text, source))
