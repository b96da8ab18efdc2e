"""Scenario scripts: user Python that drives a fake charger (or each of a fleet) or the fake
CSMS, with the same frame log, validation and capture as the built-in roles.

A charger script (`charger --script`, `fleet --script`) defines `async def run(cp)`; a CSMS
script (`csms --script`) may define `async def connected(station)`, run for each charge
point that connects. Either may answer calls from the other side with handlers:

    from inspector.scripting import CallRefused, on

    @on("Reset")
    async def reset(cp, payload):
        return {"status": "Rejected"}      # the answer; None: the built-in one

A handler may `raise CallRefused("NotSupported", "why")` to answer with a CALLERROR.
`cp` and `station` are documented below (ChargerScript, StationScript); see
examples/scripts/ for whole scripts.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
import traceback
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .codec import FrameType
from .rpc import CallError

_modules = itertools.count(1)


class ScriptError(ValueError):
    """A script that cannot load or run; the message names the file and line."""


class CallRefused(CallError):
    """A CALLERROR: raised by `call()` when the other side answers with one, and by a
    handler to answer with one."""


def on(action: str):
    """Mark an async function as the handler of calls of `action` from the other side."""
    def mark(function):
        if not asyncio.iscoroutinefunction(function):
            raise TypeError(f"@on({action!r}): {function.__name__} must be `async def`")
        function.__ocpp_action__ = action
        return function
    return mark


@dataclass
class Script:
    path: Path
    run: Callable | None = None  # async def run(cp): a charger's script
    connected: Callable | None = None  # async def connected(station): a CSMS's
    handlers: dict[str, Callable] = field(default_factory=dict)

    def describe_error(self, exc: BaseException) -> str:
        """One line: where in the script it failed, and what."""
        where = ""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if Path(frame.filename) == self.path:
                where = f" (line {frame.lineno}, in {frame.name})"
                break
        return f"script {self.path.name}{where}: {type(exc).__name__}: {exc}"


def load_module(path: str | Path):
    """Run a user's Python file as a module of its own (ScriptError, naming the line, when it
    cannot load): scripts here, user-written conformance cases in conformance.catalog."""
    path = Path(path).resolve()
    if not path.is_file():
        raise ScriptError(f"no script file {path}")
    name = f"ocpp_inspector_script_{next(_modules)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ScriptError(f"script {path.name} line {exc.lineno}: SyntaxError: {exc.msg}") from None
    except Exception as exc:  # the user's code failed at import: say where
        raise ScriptError(Script(path).describe_error(exc)) from None
    return module


def load_script(path: str | Path, *, kind: str) -> Script:
    """Load a charger ('charger') or CSMS ('csms') script; what it lacks is an error now,
    not when the first charger connects."""
    module = load_module(path)
    path = Path(module.__file__)
    script = Script(path, run=getattr(module, "run", None),
                    connected=getattr(module, "connected", None))
    for value in vars(module).values():
        action = getattr(value, "__ocpp_action__", None)
        if action is not None:
            script.handlers[action] = value
    for entry in ("run", "connected"):
        function = getattr(script, entry)
        if function is not None and not asyncio.iscoroutinefunction(function):
            raise ScriptError(f"script {path.name}: {entry} must be `async def {entry}(...)`")
    if kind == "charger" and script.run is None:
        raise ScriptError(f"script {path.name} has no `async def run(cp)`: a charger script "
                          f"says what the charger does")
    if kind == "csms" and script.run is not None and script.connected is None:
        raise ScriptError(f"script {path.name} defines run(cp), a charger's entry: a CSMS "
                          f"script defines `async def connected(station)` and handlers")
    return script


class _Waiters:
    """Calls received from the other side, for `wait_for(action)`: a small mailbox per action,
    so a call that came just before the script asked for it is not missed."""

    KEPT = 100  # per action; older ones are forgotten

    def __init__(self):
        self._mail: dict[str, deque] = {}
        self._futures: dict[str, list[asyncio.Future]] = {}

    def received(self, action: str, payload: Any) -> None:
        for future in self._futures.pop(action, []):
            if not future.done():
                future.set_result(payload)
                return
        self._mail.setdefault(action, deque(maxlen=self.KEPT)).append(payload)

    async def wait_for(self, action: str, timeout: float, who: str) -> Any:
        mail = self._mail.get(action)
        if mail:
            return mail.popleft()
        future = asyncio.get_running_loop().create_future()
        self._futures.setdefault(action, []).append(future)
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise TimeoutError(f"{who}: no {action} within {timeout:g} s") from None


async def _answered(frame, action: str) -> dict:
    if frame.type is FrameType.CALLERROR:
        raise CallRefused(frame.error_code, frame.error_description or "",
                          frame.error_details if isinstance(frame.error_details, dict) else None)
    return frame.payload


def _wrap_handlers(script: Script, subject, default, waiters: _Waiters, hub):
    """The role's call handler with the script's in front: a script handler's dict is the
    answer, its None falls back to the role's own. A handler that fails answers
    InternalError and says where, on the console and in the window."""
    async def handle(frame):
        waiters.received(frame.action, frame.payload)
        handler = script.handlers.get(frame.action)
        if handler is not None:
            try:
                answer = await handler(subject, frame.payload)
            except CallError:
                raise
            except Exception as exc:
                text = script.describe_error(exc)
                hub.notice("error", f"{subject.id}: {text}", "script")
                raise CallError("InternalError", text) from None
            if answer is not None:
                return answer
        return await default(frame)
    return handle


# ---- a charger's script -----------------------------------------------------------------------

class ChargerScript:
    """What a charger script's `cp` offers. Connector numbers start at 1 (a multi-connector
    model has several); the charger is connected before `run(cp)` starts, not booted."""

    def __init__(self, charger, script: Script):
        self._charger = charger  # FakeCharger, or ChargingStation for several connectors
        self._script = script
        self._waiters = _Waiters()
        lead = getattr(charger, "lead", charger)
        self._lead = lead
        # before connect(): the endpoint takes the handler the lead has then
        lead._on_call = _wrap_handlers(script, self, lead._on_call, self._waiters, lead.hub)
        from .roles.driver import Driver
        self._drivers = {number: Driver(c) for number, c in enumerate(self._connectors(), 1)}
        self.on_boot: Callable[[], None] | None = None  # told of each accepted boot (a fleet)

    @property
    def id(self) -> str:
        return self._lead.charge_point_id

    @property
    def version(self) -> str:
        return self._lead.version

    @property
    def charger(self):
        """The FakeCharger (or station) itself, for what this API does not cover."""
        return self._charger

    def _connectors(self) -> list:
        return list(getattr(self._charger, "connectors", [self._charger]))

    def _connector(self, number: int):
        connectors = self._connectors()
        if not 1 <= number <= len(connectors):
            raise ValueError(f"{self.id} has connector(s) 1..{len(connectors)}, not {number}")
        return connectors[number - 1]

    # ---- messages ------------------------------------------------------------------------

    async def boot(self, reason: str | None = None) -> str:
        """BootNotification until Accepted (Pending is retried); returns the status."""
        status = await (self._charger.boot(reason=reason) if reason else self._charger.boot())
        if self.on_boot is not None:
            self.on_boot()
        return status

    async def status(self, status: str, connector: int = 1, error_code: str = "NoError") -> None:
        await self._connector(connector).send_status(status, error_code=error_code)

    async def heartbeat(self) -> None:
        await self._lead.heartbeat()

    async def authorize(self, tag: str) -> str:
        """Authorize; returns the CSMS's status for the tag (Accepted, Invalid, ...)."""
        return await self._lead.present_card(tag)

    async def call(self, action: str, payload: dict, timeout: float | None = None) -> dict:
        """Any CALL; returns the CALLRESULT payload, raises CallRefused for a CALLERROR."""
        endpoint = self._lead.endpoint
        if endpoint is None or endpoint.closed.is_set():
            raise ConnectionError(f"{self.id} is not connected")
        return await _answered(await endpoint.call(action, payload, timeout=timeout), action)

    # ---- the person at the charger (as the window's buttons) -----------------------------

    async def plug_in(self, connector: int = 1) -> None:
        self._connector(connector)
        await self._drivers[connector].plug_in()

    async def present_card(self, tag: str, connector: int = 1) -> str:
        """As at a real charger: "authorized", "started", "stopped", or the refusal."""
        self._connector(connector)
        return await self._drivers[connector].present_card(tag)

    async def unplug(self, connector: int = 1) -> None:
        self._connector(connector)
        await self._drivers[connector].unplug()

    async def start(self, tag: str | None = None, connector: int = 1):
        """Start a transaction now (cable or not); returns its id."""
        charger = self._connector(connector)
        await charger.start_transaction(tag)
        return charger.transaction_id

    async def meter_values(self, connector: int = 1) -> None:
        """One sampled MeterValues (in 2.x a TransactionEvent Updated) now."""
        await self._connector(connector).send_meter_values()

    async def stop(self, reason: str = "Local", connector: int = 1) -> None:
        await self._connector(connector).stop_transaction(reason)

    def transaction_id(self, connector: int = 1):
        return self._connector(connector).transaction_id

    async def fault(self, code: str, connector: int = 1) -> None:
        await self._connector(connector).fault(code)

    async def recover(self, connector: int = 1) -> None:
        await self._connector(connector).recover()

    async def go_offline(self, seconds: float) -> None:
        """Lose the network for `seconds` (no close frame); messages queue meanwhile."""
        await self._lead.go_offline(seconds)

    # ---- waiting -------------------------------------------------------------------------

    async def wait_for(self, action: str, timeout: float = 30.0) -> dict:
        """The payload of the oldest call of `action` from the CSMS this script has not
        taken yet, waiting for one to come (TimeoutError after `timeout` s)."""
        return await self._waiters.wait_for(action, timeout, self.id)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def log(self, text: str) -> None:
        """A line on the console and in the window's messages."""
        self._lead.hub.notice("info", f"{self.id}: {text}", "script")


async def run_charger_script(charger, script: Script) -> None:
    """Connect, then the script's run(cp); errors come out as ScriptError (one line)."""
    api = ChargerScript(charger, script)
    await charger.connect()
    try:
        await script.run(api)
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise ScriptError(script.describe_error(exc)) from None


# ---- a CSMS's script ---------------------------------------------------------------------------

class StationScript:
    """What a CSMS script's `station` offers: one connected charge point."""

    def __init__(self, csms, charge_point_id: str, version: str):
        self._csms = csms
        self.id = charge_point_id
        self.version = version
        self._waiters = _Waiters()

    async def call(self, action: str, payload: dict, timeout: float | None = None) -> dict:
        """A CSMS-initiated CALL; returns the CALLRESULT payload, raises CallRefused."""
        return await _answered(await self._csms.call(self.id, action, payload, timeout=timeout),
                               action)

    async def wait_for(self, action: str, timeout: float = 30.0) -> dict:
        """The payload of the oldest call of `action` from this charge point not taken yet,
        waiting for one to come (TimeoutError after `timeout` s)."""
        return await self._waiters.wait_for(action, timeout, self.id)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def log(self, text: str) -> None:
        self._csms.hub.notice("info", f"{self.id}: {text}", "script")


class CsmsScripting:
    """Puts a CSMS script into a FakeCsms: handlers in front of its answers, connected() per
    connection (its errors are notices: the CSMS serves on)."""

    def __init__(self, csms, script: Script):
        self.csms, self.script = csms, script
        self.stations: dict[str, StationScript] = {}
        self.errors = 0
        self._tasks: set[asyncio.Task] = set()

    def respond(self, cp_id: str, version: str, default):
        station = StationScript(self.csms, cp_id, version)
        self.stations[cp_id] = station
        if self.script.connected is not None:
            task = asyncio.get_running_loop().create_task(self._connected(station))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return _wrap_handlers(self.script, station, default, station._waiters, self.csms.hub)

    async def _connected(self, station: StationScript) -> None:
        try:
            await self.script.connected(station)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.errors += 1
            self.csms.hub.notice("error", f"{station.id}: {self.script.describe_error(exc)}",
                                 "script")

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
