"""--auto: simulators that play the SUT and perform the operator's actions.

SUT = charger: `AutoCharger` drives our `FakeCharger` against the runner's listener. Each
case gets a fresh simulator; prompts map to user-level actions (plug in, present a card,
...), composed the way a real charger reacts to them (roles/driver.py: a card presented
while plugged in starts a transaction, presenting it again stops it). While a transaction
runs it sends sampled meter values at the configured interval, and it heartbeats at the
granted interval, as a real charger does.

SUT = csms: `AutoCsms` runs our `FakeCsms` on 127.0.0.1:0 (one per case, with the case's
response overrides); prompts that ask "make the CSMS send X" make it send X.

Actions run in the background, one at a time, so the runner keeps answering frames.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable

from ..events import Hub, Notice
from ..roles.charger import ChargerError, ChargerOptions, FakeCharger
from ..roles.common import Listen
from ..roles.csms import FakeCsms
from ..roles.driver import Driver
from ..versions import V16

_STEP = 0.05  # polling period of the background loops
_QUICK_RECONNECT = [  # 1.6 keys, 2.x variables: retry after 1 s, 2 s, 4 s (no random part)
    {"RetryBackOffWaitMinimum": "1", "RetryBackOffRandomRange": "0"},
    {"OCPPCommCtrlr/RetryBackOffWaitMinimum": "1", "OCPPCommCtrlr/RetryBackOffRandomRange": "0"}]


class _Driver:
    actions: frozenset = frozenset()

    def __init__(self, note: Callable[[str], None] | None):
        self._note = note or (lambda text: None)
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task] = set()
        self._actions: set[asyncio.Task] = set()  # performed actions still running
        self.hub = Hub()  # private: the simulator's frames are not the run's frames
        self.hub.subscribe(self._on_event)

    def _on_event(self, event) -> None:
        if isinstance(event, Notice) and event.level in ("warning", "error"):
            self._note(event.text)

    def can(self, action: str) -> bool:
        return action in self.actions

    def perform(self, action: str, args: dict) -> None:
        """Start an action in the background; actions run one after the other."""
        async def run():
            async with self._lock:
                try:
                    await self._do(action, args or {})
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self._note(f"{action} failed: {exc}")
        task = self._spawn(run())
        self._actions.add(task)
        task.add_done_callback(self._actions.discard)

    async def settle(self, timeout: float) -> None:
        """Wait (bounded) until the actions performed so far are done."""
        pending = [t for t in self._actions if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _do(self, action: str, args: dict) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class AutoCharger(_Driver):
    actions = frozenset({"reboot", "power_on", "plug_in", "unplug", "present_card", "stop",
                         "meter_values", "heartbeat", "status"})

    def __init__(self, url: str, version: str, *, step_timeout: float = 30.0,
                 factory: Callable | None = None, note: Callable[[str], None] | None = None,
                 password: str | None = None, tls=None):
        super().__init__(note)
        self.url = url
        self.password = password  # HTTP Basic auth towards the engine (security profiles 1, 2)
        self.tls = tls  # ClientTls for a wss:// listener (profiles 2, 3)
        self.version = version
        self.step_timeout = step_timeout
        self.factory = factory or FakeCharger
        self.charger: FakeCharger | None = None
        self.driver: Driver | None = None  # the person at the charger (roles/driver.py)

    @property
    def connected(self) -> bool:
        c = self.charger
        return c is not None and c.endpoint is not None and not c.endpoint.closed.is_set()

    async def fresh(self, *, booted: bool) -> None:
        """Replace the simulator by a new one; connected and booted if asked."""
        await self.close()
        # a real charger reconnects after a lost link and keeps its transaction meanwhile;
        # with a short back-off, so a case's outage costs little more than it lasts
        options = ChargerOptions(url=self.url, version=self.version,
                                 call_timeout=max(self.step_timeout, 1.0),
                                 password=self.password, tls=self.tls, reconnect=True,
                                 configuration=_QUICK_RECONNECT[self.version != V16])
        self.charger = self.factory(self.hub, options)
        # a remote start before the cable waits for the operator's plug-in (TC_011_1_CS)
        self.charger.waits_for_cable = True
        # after a Reset a 2.x station reports why it booted
        if hasattr(self.charger, "reset_boot_reason") and self.version != V16:
            self.charger.reset_boot_reason = "RemoteReset"
        self.driver = Driver(self.charger)
        self._spawn(self._heartbeats())
        self._spawn(self.driver.metering())  # offline too: the charger queues them
        if booted:
            await self._power_on()

    async def close(self) -> None:
        await self._cancel_tasks()
        if self.charger is not None:
            try:
                await asyncio.wait_for(self.charger.close(), 5)
            except (asyncio.TimeoutError, ChargerError, OSError):
                pass
            self.charger = None

    async def _power_on(self) -> None:
        c = self.charger
        if self.connected:
            await c.close()
            c._closing = False  # powered on again: a later lost link is reconnected
        await c.connect()
        try:
            await c.boot(retry_rejected=True)
        except TypeError:  # a FakeCharger without the option
            await c.boot()
        await c.send_status("Available")

    async def _do(self, action: str, args: dict) -> None:
        c = self.charger
        if c is None:
            raise ChargerError("no simulator")
        if action in ("reboot", "power_on"):
            await self._power_on()
        elif action == "plug_in":
            await self.driver.plug_in()
        elif action == "present_card":
            await self.driver.present_card(args.get("tag"))
        elif action == "unplug":
            await self.driver.unplug()
        elif action == "stop":
            await c.stop_transaction(args.get("reason", "Local"))
        elif action == "meter_values":
            for _ in range(int(args.get("count", 1))):
                await c.send_meter_values()
        elif action == "heartbeat":
            await c.heartbeat()
        elif action == "status":
            await c.send_status(args["status"])

    async def _heartbeats(self) -> None:
        """Heartbeat at the interval the CSMS granted (checked often, so a new grant applies)."""
        last = time.monotonic()
        while True:
            await asyncio.sleep(_STEP)
            c = self.charger
            if c is None or not self.connected:
                last = time.monotonic()
                continue
            if time.monotonic() - last >= max(float(c.heartbeat_interval or 0), 0.2):
                last = time.monotonic()
                try:
                    await c.heartbeat()
                except ChargerError:
                    pass


class AutoCsms(_Driver):
    actions = frozenset({"csms_call", "csms_calls"})

    def __init__(self, version: str, charge_point_id: str, *, step_timeout: float = 30.0,
                 factory: Callable | None = None, note: Callable[[str], None] | None = None,
                 password: str | None = None, tls=None):
        super().__init__(note)
        self.password = password  # Basic auth it requires (profiles 1, 2)
        self.tls = tls  # ServerTls it listens with (profiles 2, 3)
        self.factory = factory or FakeCsms  # tests plug in mutated CSMSs here
        self.version = version
        self.charge_point_id = charge_point_id
        self.step_timeout = step_timeout
        self.csms: FakeCsms | None = None

    async def restart(self, overrides: dict) -> str:
        """A fresh FakeCsms with these overrides; returns the URL to connect to."""
        await self.stop()
        self.csms = self.factory(self.hub, Listen("127.0.0.1", 0), overrides=overrides,
                                 passwords=self.password, tls=self.tls,
                             default_version=self.version, call_timeout=max(self.step_timeout, 1.0))
        await self.csms.start()
        return self.csms.url + self.charge_point_id

    async def stop(self) -> None:
        await self._cancel_tasks()
        if self.csms is not None:
            try:
                await asyncio.wait_for(self.csms.stop(), 5)
            except asyncio.TimeoutError:
                pass
            self.csms = None

    async def _do(self, action: str, args: dict) -> None:
        calls = args.get("calls") if action == "csms_calls" else [args]
        for item in calls:
            await self._call(item["action"], item.get("payload", {}))

    async def _call(self, action: str, payload: dict) -> None:
        deadline = time.monotonic() + self.step_timeout
        while self.csms is not None and self.charge_point_id not in self.csms.stations:
            if time.monotonic() > deadline:
                raise ChargerError(f"cannot send {action}: the charging station is not connected")
            await asyncio.sleep(_STEP)
        if self.csms is None:
            return
        frame = await self.csms.call(self.charge_point_id, action, payload, timeout=self.step_timeout)
        if frame.type.value == "CALLERROR":
            self._note(f"{action} was answered with CALLERROR {frame.error_code}")
