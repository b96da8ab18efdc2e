"""The conformance runner: plays the other side of the SUT and judges each step.

SUT = charger: the runner listens (`RunOptions.listen`) and acts as the CSMS.
SUT = csms: the runner connects (`RunOptions.target`, ending in the charge point id) and
acts as the charging station.

Every frame goes through `inspector.rpc.Endpoint` + `ConnectionMonitor` + the `Hub`, so
pairing, schema validation and the optional frame log are the same as everywhere else.

How frames are matched to steps: a CALL from the SUT is *claimed* when it arrives by
the first unclaimed `Expect` step of the current "window" (the running step plus the
expectation steps right after it) whose action and `where` filter match; the claim fixes
the answer at once, so the SUT is never kept waiting by the step order. CALLs no step
claims are answered with `inspector.defaults.default_response` (so the session flows)
and recorded on the running step. A schema-invalid frame from the SUT fails the step
that claimed it, or else the running step.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable, Iterable

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from .. import defaults
from ..codec import FrameType
from ..events import ConnectionClosed as ConnectionClosedEvent, ConnectionOpened, FrameLogged, Hub
from ..events import TO_CHARGER, TO_CSMS
from ..monitor import ConnectionMonitor
from ..roles.common import Listen, charge_point_id_from_path, check_ws_url, close_info, remote_address
from ..roles.csms import deep_merge
from ..rpc import CallError, CallTimeout, Endpoint, new_unique_id
from ..versions import SUBPROTOCOLS, V16, version_of
from . import payloads
from .events import (CaseFinished, CaseStarted, PromptReply, PromptRequest, PromptRequested,
                     StepFinished, StepStarted, SuiteFinished, SuiteNote, SuiteStarted)
from .model import (CHARGER, CSMS, Case, CaseResult, Connect, Disconnect, Expect, ExpectDisconnect,
                    ExpectNone, FrameEntry, MISSING, Prompt, RunResult, Send, SendRaw, StepResult,
                    Verdict, Wait, get_path, resolve, show_json, worst)

PromptCallback = Callable[[PromptRequest], Awaitable[PromptReply]]

# Parameters every case can use (override with RunOptions.params / --param KEY=VALUE).
DEFAULT_PARAMS: dict = {
    "id_tag": "TAG0001",  # card the operator presents to a charger SUT
    "valid_tag": "TAG0001",  # idTag a CSMS SUT knows as valid
    "invalid_tag": "INVALID01",  # idTag a CSMS SUT answers Invalid
    "blocked_tag": "BLOCKED01",
    "expired_tag": "EXPIRED01",
    "connector": 1,
    "evse": 1,
    "heartbeat_interval": 10,  # seconds we grant a charger SUT at boot
    "boot_retry_interval": 5,  # interval of a Pending / Rejected boot answer
    "meter_interval": 5,  # sampled meter value interval we configure
    "quiet_period": 5,  # how long negative steps watch for a forbidden message
    "hold": 3,  # how long we hold back an answer in the "one outstanding CALL" checks
    "vendor_id": "org.ocpp-inspector.unknown",
}
AUTO_CHARGE_POINT_ID = "SUITE-CP"
_PARAM_REF = re.compile(r"<([A-Za-z_][A-Za-z0-9_]*)>")


class SuiteError(Exception):
    """A problem with the run itself (bad options, cannot listen): one line for the user."""


@dataclass
class RunOptions:
    version: str
    sut: str  # "charger" or "csms"
    listen: Listen | None = None  # SUT charger: where to listen
    target: str | None = None  # SUT csms: URL ending in the charge point id
    auto: bool = False  # simulators perform operator actions / play the SUT
    step_timeout: float = 30.0
    case_timeout: float = 300.0
    connect_timeout: float = 120.0  # how long to wait for a charger (re)connection
    params: dict = field(default_factory=dict)
    csms_overrides: dict = field(default_factory=dict)  # extra FakeCsms overrides (--auto)
    password: str | None = None  # HTTP Basic auth towards a CSMS SUT
    max_size: int = 1 << 20
    charge_point_id: str = AUTO_CHARGE_POINT_ID  # id of the simulated charger (--auto)


class Context:
    """What a step's placeholders see: run parameters and the case's saved variables."""

    def __init__(self, version: str, sut: str, params: dict, variables: dict, step_timeout: float,
                 endpoint: str = ""):
        self.version, self.sut = version, sut
        self.params = params
        self.vars = variables
        self.step_timeout = step_timeout
        self.endpoint = endpoint

    def value(self, name: str, default=MISSING):
        if name in self.vars:
            return self.vars[name]
        if name in self.params:
            return self.params[name]
        if name == "url":
            return self.endpoint
        if default is not MISSING:
            return default
        raise _StepProblem(Verdict.ERROR, f"<{name}> is not set (no earlier step saved it and "
                                          f"no parameter of that name exists)")

    def fill(self, text: str) -> str:
        """Show run parameters by value in a step's text: '<connector>' -> '1'."""
        return _PARAM_REF.sub(lambda m: str(self.params[m.group(1)]) if m.group(1) in self.params
                              else m.group(0), text)

    def format(self, template: str) -> str:
        ctx = self

        class _Lookup(dict):
            def __missing__(self, key):
                return ctx.value(key, "{" + key + "}")
        return template.format_map(_Lookup())


class _StepProblem(Exception):
    def __init__(self, verdict: Verdict, reason: str):
        super().__init__(reason)
        self.verdict, self.reason = verdict, reason


@dataclass
class _Claim:
    record: object = None  # FrameRecord of the CALL (Expect) or None (connection events)
    endpoint: Endpoint | None = None
    payload: dict | None = None  # the answer we send
    error: tuple | None = None
    delay: float = 0.0
    problem: str | None = None  # the answer could not be built
    time: float = field(default_factory=time.time)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def violation(record) -> str | None:
    """Why a frame from the SUT breaks OCPP-J or its schema, or None."""
    frame = record.frame
    what = record.action or frame.type.value
    if frame.type is FrameType.MALFORMED:
        if frame.binary:
            return "the SUT sent a binary WebSocket frame (OCPP-J uses text frames only)"
        return f"the SUT sent a malformed frame ({frame.reason}): {_short(frame.raw, 80)}"
    if record.valid is False and record.errors:
        first = record.errors[0]
        more = f" (and {len(record.errors) - 1} more finding(s))" if len(record.errors) > 1 else ""
        if frame.type is FrameType.CALL:
            kind = f"{what} request"
        elif frame.type is FrameType.CALLERROR:
            kind = f"CALLERROR to {what}"
        else:
            kind = f"{what} response"
        return f"the SUT's {kind} is schema-invalid: {first.path}: {first.message}{more}"
    for flag in record.flags:
        if flag.startswith("second CALL while"):
            other = flag.split("while ", 1)[1]
            return (f"the SUT sent {what} while its previous CALL {other} (one outstanding CALL "
                    f"at a time)")
        if flag.startswith("duplicate unique id"):
            return f"the SUT reused a unique id in {what}: {flag}"
        if flag.startswith("unknown action"):
            return f"the SUT sent an {flag}"
    return None


def _entry(record, from_sut: bool, used: bool) -> FrameEntry:
    frame = record.frame
    return FrameEntry(
        seq=record.seq, time=record.time, from_sut=from_sut, type=frame.type.value,
        action=record.action, unique_id=frame.unique_id, raw=frame.raw, valid=record.valid,
        errors=[f"{e.path}: {e.message}" for e in record.errors], flags=list(record.flags), used=used)


def _loose_match(actual, expected) -> bool:
    if isinstance(expected, (list, tuple)):
        return any(_loose_match(actual, e) for e in expected)
    if actual == expected:
        return True
    if isinstance(actual, (int, float)) and not isinstance(actual, bool) and isinstance(expected, str):
        try:
            return float(expected) == actual
        except ValueError:
            return False
    return False


class _CaseRun:
    """State of the running case: which step runs, claims, frames per step, violations."""

    def __init__(self, runner: "SuiteRunner", case: Case, ctx: Context, result: CaseResult):
        self.runner = runner
        self.case = case
        self.steps = case.steps
        self.ctx = ctx
        self.result = result
        self.index = 0  # 0 = precondition (claims off), 1.. = case steps
        self.claims: dict[int, _Claim] = {}
        self.claim_by_uid: dict[str, int] = {}
        self.send_owner: dict[str, int] = {}
        self.responses: dict[str, object] = {}
        self.response_log: list = []
        self.calls: list = []
        self.marks: dict[int, int] = {}
        self.violations: dict[int, list[str]] = defaultdict(list)
        self.changed = asyncio.Event()
        self.closed_unexpectedly: str | None = None

    # ---- matching ------------------------------------------------------------------------

    def window(self, barrier: bool = True) -> list[int]:
        """Steps that may claim what arrives now: the running step (if it waits for the SUT)
        and the waiting steps right after it. With `barrier`, an unclaimed connection step
        ends the window: a frame cannot belong after a reconnection that has not happened."""
        if self.index <= 0:
            return []
        sut = self.case.sut
        i = self.index
        if not self.steps[i - 1].claims(sut):
            i += 1
        out = []
        while i <= len(self.steps) and self.steps[i - 1].claims(sut):
            out.append(i)
            if (barrier and isinstance(self.steps[i - 1], (Connect, ExpectDisconnect))
                    and i not in self.claims):
                break
            i += 1
        return out

    def matches(self, step: Expect, payload) -> bool:
        for path, expected in step.where.items():
            try:
                wanted = resolve(expected, self.ctx)
            except _StepProblem:
                return False
            if not _loose_match(get_path(payload, path), wanted):
                return False
        return True

    def _claim_call(self, record) -> int | None:
        invalid = record.valid is False
        for i in self.window():
            step = self.steps[i - 1]
            if (isinstance(step, Expect) and i not in self.claims and step.action == record.action
                    and (invalid or self.matches(step, record.frame.payload))):
                claim = _Claim(record=record, time=record.time)
                if not invalid:
                    self._prepare_answer(step, claim)
                self.claims[i] = claim
                self.claim_by_uid[record.frame.unique_id] = i
                return i
        return None

    def _prepare_answer(self, step: Expect, claim: _Claim) -> None:
        frame = claim.record.frame
        reply = step.reply
        try:
            default = self.runner.default_response(frame)
            if reply is None:
                claim.payload = default
                return
            claim.delay = float(resolve(reply.delay, self.ctx) or 0)
            if reply.error:
                claim.error = tuple(resolve(list(reply.error), self.ctx))
            elif reply.payload is not None:
                claim.payload = resolve(reply.payload, self.ctx)
            else:
                claim.payload = deep_merge(default, resolve(reply.merge or {}, self.ctx))
        except _StepProblem as exc:
            claim.problem = f"cannot build the answer: {exc.reason}"
            claim.error = ("InternalError", "test case error")
        except Exception as exc:  # a case bug must not kill the connection
            claim.problem = f"cannot build the answer: {type(exc).__name__}: {exc}"
            claim.error = ("InternalError", "test case error")

    # ---- observation (called synchronously from the hub) ----------------------------------

    def on_record(self, record) -> None:
        incoming = record.direction == self.runner.incoming
        ftype = record.frame.type
        uid = record.frame.unique_id
        owner = None
        if incoming and ftype is FrameType.CALL:
            owner = self._claim_call(record)
            self.calls.append(record)
        elif not incoming and ftype in (FrameType.CALLRESULT, FrameType.CALLERROR):
            owner = self.claim_by_uid.get(uid)
        elif not incoming and ftype is FrameType.CALL:
            owner = self.send_owner.get(uid)
        elif incoming and (ftype in (FrameType.CALLRESULT, FrameType.CALLERROR, FrameType.CALLRESULTERROR)
                           or (ftype is FrameType.MALFORMED
                               and record.frame.raw.lstrip().startswith(("[3", "[4")))):
            owner = self.send_owner.get(uid)
            if uid is not None:
                self.responses[uid] = record
            self.response_log.append(record)
        used = owner is not None
        if owner is None:
            owner = self.index
        self.result.steps[owner].frames.append(_entry(record, incoming, used))
        if incoming:
            problem = violation(record)
            if problem:
                self.violations[owner].append(problem)
        self.changed.set()

    def on_open(self, endpoint: Endpoint) -> None:
        for i in self.window(barrier=False):
            if isinstance(self.steps[i - 1], Connect) and i not in self.claims:
                self.claims[i] = _Claim(endpoint=endpoint)
                break
        self.changed.set()

    def on_close(self, endpoint: Endpoint, was_current: bool) -> None:
        claimed = False
        if was_current:
            for i in self.window(barrier=False):
                if isinstance(self.steps[i - 1], ExpectDisconnect) and i not in self.claims:
                    self.claims[i] = _Claim(endpoint=endpoint)
                    claimed = True
                    break
            if not claimed:
                info = endpoint.connection
                self.closed_unexpectedly = (f"the SUT closed the connection (code {info.close_code}"
                                            f"{', ' + repr(info.close_reason) if info.close_reason else ''})")
        self.changed.set()

    async def wait(self, timeout: float) -> None:
        """Wait for any change (a frame, a connection event) or the timeout."""
        self.changed.clear()
        if timeout <= 0:
            return
        try:
            await asyncio.wait_for(self.changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def anchor(self, index: int) -> int:
        """Where in `calls` the window of step `index` began (start of the last action step)."""
        sut = self.case.sut
        i = index
        while i > 1 and self.steps[i - 2].claims(sut):
            i -= 1
        start = i - 1 if i > 1 else 0
        if start and not self.steps[start - 1].claims(sut):
            return self.marks.get(start, 0)
        return self.marks.get(i, 0)

    def mark_used(self, index: int, record) -> None:
        for entry in self.result.steps[index].frames:
            if entry.seq == record.seq:
                entry.used = True


class SuiteRunner:
    """Runs conformance cases against one SUT.

    Public API (what a GUI uses)::

        runner = SuiteRunner(RunOptions(version="1.6", sut="charger", listen=Listen("0.0.0.0", 9000)),
                             hub=hub, prompt=ask_operator, on_event=show)
        await runner.start()          # optional: opens the listener, `runner.endpoint` is the URL
        result = await runner.run(cases)   # RunResult; events arrive on the hub and on_event
        runner.cancel()               # from a button: stops the running case and the run

    `prompt` is an async callback `PromptRequest -> PromptReply`; with `options.auto` the
    runner answers prompts itself by driving a simulator.
    """

    def __init__(self, options: RunOptions, *, hub: Hub | None = None,
                 prompt: PromptCallback | None = None,
                 on_event: Callable[[object], None] | None = None,
                 charger_factory: Callable | None = None):
        if options.sut not in (CHARGER, CSMS):
            raise SuiteError(f"unknown SUT kind {options.sut!r}; use charger or csms")
        self.options = options
        self.version = options.version
        self.sut = options.sut
        self.hub = hub or Hub()
        self.prompt = prompt
        self.on_event = on_event
        self.charger_factory = charger_factory
        self.params = {**DEFAULT_PARAMS, **options.params}
        # the engine plays the other side of the SUT
        self.incoming = TO_CSMS if self.sut == CHARGER else TO_CHARGER
        self.current: Endpoint | None = None
        self._live: set[Endpoint] = set()
        self._conn_ids: set[int] = set()
        self._run: _CaseRun | None = None
        self._server = None
        self._client_tasks: set[asyncio.Task] = set()
        self._transaction_ids = itertools.count(1)
        self._open_transactions: dict = {}
        self._rejected: list[str] = []
        self._waited_in_vain = False
        self._booted: set[int] = set()  # connections whose BootNotification we Accepted
        self._started = False
        self._cancelled = False
        self._case_task: asyncio.Task | None = None
        self._auto_charger = None
        self._auto_csms = None
        self.target = options.target
        self.endpoint = ""
        self._unsubscribe = self.hub.subscribe(self._on_hub_event)

    # ---- events ---------------------------------------------------------------------------

    def _publish(self, event) -> None:
        self.hub.publish(event)
        if self.on_event is not None:
            try:
                self.on_event(event)
            except Exception:  # a front-end bug must not stop the run
                pass

    def note(self, text: str, level: str = "info") -> None:
        self._publish(SuiteNote(level, text))

    def _simulator_note(self, text: str) -> None:
        run = self._run
        if run is not None:
            run.result.steps[run.index].notes.append(f"simulator: {text}")
        self.note(f"simulator: {text}", "warning")

    def _on_hub_event(self, event) -> None:
        if isinstance(event, FrameLogged) and event.record.connection.id in self._conn_ids:
            if self._run is not None:
                self._run.on_record(event.record)
            self._track_transactions(event.record)

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        if self.sut == CHARGER:
            listen = self.options.listen or Listen("127.0.0.1", 0)
            try:
                self._server = await serve(
                    self._serve_connection, listen.host, listen.port,
                    subprotocols=[SUBPROTOCOLS[self.version]], select_subprotocol=self._select,
                    max_size=self.options.max_size, ping_interval=None)
            except OSError as exc:
                self._started = False
                raise SuiteError(f"cannot listen on {listen.host}:{listen.port}: "
                                 f"{exc.strerror or exc}") from None
            port = self._server.sockets[0].getsockname()[1]
            self.endpoint = f"ws://{listen.display_host}:{port}/"
            if self.options.auto:
                from .auto import AutoCharger
                self._auto_charger = AutoCharger(
                    self.endpoint + self.options.charge_point_id, self.version,
                    step_timeout=self.options.step_timeout, factory=self.charger_factory,
                    note=self._simulator_note)
                self.note(f"listening on {self.endpoint}; the simulated charger plays the SUT")
            else:
                self.note(f"listening on {self.endpoint}<charge point id>: connect the charger there")
        else:
            if self.options.auto:
                from .auto import AutoCsms
                self._auto_csms = AutoCsms(self.version, self.options.charge_point_id,
                                           step_timeout=self.options.step_timeout,
                                           note=self._simulator_note)
                self.endpoint = "(simulated CSMS, one per case)"
            else:
                if not self.target:
                    self._started = False
                    raise SuiteError("a CSMS SUT needs a target URL ending in the charge point id")
                try:
                    check_ws_url(self.target)
                except ValueError as exc:
                    self._started = False
                    raise SuiteError(str(exc)) from None
                self.endpoint = self.target

    async def stop(self) -> None:
        if self._auto_charger is not None:
            await self._auto_charger.close()
        if self._auto_csms is not None:
            await self._auto_csms.stop()
        for endpoint in list(self._live):
            await self._close_endpoint(endpoint)
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except asyncio.TimeoutError:
                pass
            self._server = None
        for task in list(self._client_tasks):
            task.cancel()
        self._started = False

    def close(self) -> None:
        """Stop listening to the hub (call when the runner is no longer used)."""
        self._unsubscribe()

    def cancel(self) -> None:
        """Abort the run: the running step ends with an error and no further case starts."""
        self._cancelled = True
        if self._case_task is not None and not self._case_task.done():
            self._case_task.cancel()

    # ---- connections -----------------------------------------------------------------------

    def _select(self, connection, offered):
        wanted = SUBPROTOCOLS[self.version]
        if wanted in offered:
            return wanted
        self._rejected.append(f"a client offered {', '.join(offered) or 'no subprotocol'} "
                              f"instead of {wanted}")
        return None

    def _attach(self, endpoint: Endpoint) -> None:
        self._conn_ids.add(endpoint.connection.id)
        self._live.add(endpoint)
        self.current = endpoint
        if self._run is not None:
            self._run.on_open(endpoint)

    def _detach(self, endpoint: Endpoint) -> None:
        self._live.discard(endpoint)
        was_current = self.current is endpoint
        if was_current:
            self.current = None
        if self._run is not None:
            self._run.on_close(endpoint, was_current)

    def _new_endpoint(self, websocket, cp_id: str, side: str) -> Endpoint:
        info = self.hub.new_connection(cp_id, "suite", subprotocol=websocket.subprotocol,
                                       version=version_of(websocket.subprotocol) or self.version,
                                       remote_address=remote_address(websocket),
                                       opened_at=time.time())
        self.hub.publish(ConnectionOpened(info))
        monitor = ConnectionMonitor(info, self.hub.next_seq, max_size=self.options.max_size,
                                    call_timeout=max(self.options.step_timeout, 1.0))
        endpoint = Endpoint(websocket, monitor, self.hub, side=side,
                            response_timeout=self.options.step_timeout)
        endpoint.handler = lambda frame: self._handle_call(frame, endpoint)
        return endpoint

    async def _serve_connection(self, websocket) -> None:
        cp_id = charge_point_id_from_path(websocket.request.path)
        if websocket.subprotocol != SUBPROTOCOLS[self.version]:
            self.note(f"refused {cp_id}: it did not offer {SUBPROTOCOLS[self.version]}", "warning")
            await websocket.close(1002, f"{SUBPROTOCOLS[self.version]} required")
            return
        endpoint = self._new_endpoint(websocket, cp_id, "csms")
        self._attach(endpoint)
        self.note(f"charger {cp_id} connected from {endpoint.connection.remote_address}")
        try:
            await endpoint.run()
        finally:
            close_info(endpoint.connection, websocket)
            self.hub.publish(ConnectionClosedEvent(endpoint.connection))
            self._detach(endpoint)

    async def _open_client(self) -> Endpoint:
        """SUT csms: open a connection to the target (closing ours first)."""
        if self.current is not None:
            await self._close_endpoint(self.current)
        url = self.target
        headers = {}
        if self.options.password is not None:
            import base64
            cp_id = charge_point_id_from_path(url)
            token = base64.b64encode(f"{cp_id}:{self.options.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        wanted = SUBPROTOCOLS[self.version]
        try:
            websocket = await connect(url, subprotocols=[wanted], additional_headers=headers,
                                      max_size=self.options.max_size, ping_interval=None,
                                      open_timeout=min(10.0, max(self.options.step_timeout, 1.0)))
        except InvalidStatus as exc:
            raise _StepProblem(Verdict.ERROR, f"the CSMS at {url} refused the WebSocket upgrade: "
                                              f"HTTP {exc.response.status_code}") from None
        except InvalidURI as exc:
            raise _StepProblem(Verdict.ERROR, f"bad URL {url}: {exc}") from None
        except InvalidHandshake as exc:
            raise _StepProblem(Verdict.FAIL, f"WebSocket handshake with {url} failed: {exc}") from None
        except (OSError, asyncio.TimeoutError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or "timed out")
            raise _StepProblem(Verdict.ERROR, f"cannot connect to {url}: {reason}") from None
        if websocket.subprotocol != wanted:
            await websocket.close(1002, "subprotocol not accepted")
            raise _StepProblem(Verdict.FAIL, f"the CSMS did not accept subprotocol {wanted} "
                                             f"(it answered {websocket.subprotocol or 'none'})")
        endpoint = self._new_endpoint(websocket, charge_point_id_from_path(url), "charger")
        self._attach(endpoint)
        task = asyncio.create_task(self._client_loop(endpoint, websocket))
        self._client_tasks.add(task)
        task.add_done_callback(self._client_tasks.discard)
        return endpoint

    async def _client_loop(self, endpoint: Endpoint, websocket) -> None:
        try:
            await endpoint.run()
        finally:
            close_info(endpoint.connection, websocket)
            self.hub.publish(ConnectionClosedEvent(endpoint.connection))
            self._detach(endpoint)

    async def _close_endpoint(self, endpoint: Endpoint, code: int = 1000, reason: str = "") -> None:
        try:
            await asyncio.wait_for(endpoint.close(code, reason), 5)
            await asyncio.wait_for(endpoint.closed.wait(), 5)
        except (asyncio.TimeoutError, ConnectionClosed, OSError):
            pass
        # the receive loop detaches it; make sure even if it never ran
        if endpoint in self._live:
            self._detach(endpoint)

    # ---- answering the SUT ------------------------------------------------------------------

    def default_response(self, frame) -> dict:
        payload = defaults.default_response(self.version, frame.action, frame.payload,
                                            now=datetime.now(timezone.utc),
                                            next_transaction_id=next(self._transaction_ids))
        if frame.action == "StartTransaction" and isinstance(payload.get("transactionId"), int):
            self._open_transactions[payload["transactionId"]] = True
        return payload

    async def _handle_call(self, frame, endpoint: Endpoint | None = None) -> dict:
        payload = await self._answer(frame)
        if (frame.action == "BootNotification" and endpoint is not None
                and isinstance(payload, dict) and payload.get("status") == "Accepted"):
            self._booted.add(endpoint.connection.id)
        return payload

    async def _answer(self, frame) -> dict:
        run = self._run
        index = run.claim_by_uid.get(frame.unique_id) if run is not None else None
        claim = run.claims.get(index) if index is not None else None
        if claim is not None:
            if claim.delay:
                await asyncio.sleep(claim.delay)
            if claim.error:
                code, *rest = claim.error
                raise CallError(code, rest[0] if rest else "")
            if claim.payload is not None:
                if frame.action == "StartTransaction":
                    tx = claim.payload.get("transactionId")
                    if isinstance(tx, int):
                        self._open_transactions[tx] = True
                return claim.payload
        return self.default_response(frame)

    def _track_transactions(self, record) -> None:
        if record.direction != self.incoming or record.frame.type is not FrameType.CALL:
            return
        payload = record.frame.payload or {}
        if record.action == "StopTransaction":
            self._open_transactions.pop(payload.get("transactionId"), None)
        elif record.action == "TransactionEvent":
            tx = get_path(payload, "transactionInfo.transactionId")
            if payload.get("eventType") == "Started" and isinstance(tx, str):
                self._open_transactions[tx] = True
            elif payload.get("eventType") == "Ended":
                self._open_transactions.pop(tx, None)

    # ---- running ------------------------------------------------------------------------------

    def _check_cases(self, cases: list[Case]) -> None:
        for case in cases:
            if case.version != self.version or case.sut != self.sut:
                raise SuiteError(f"case {case.id} is for OCPP {case.version} with SUT {case.sut}, "
                                 f"not OCPP {self.version} with SUT {self.sut}")

    async def run(self, cases: Iterable[Case]) -> RunResult:
        cases = list(cases)
        self._check_cases(cases)
        self._cancelled = False
        owns = not self._started
        await self.start()
        result = RunResult(self.version, self.sut, started=time.time(), endpoint=self.endpoint,
                           auto=self.options.auto)
        self._publish(SuiteStarted(self.version, self.sut, tuple(c.id for c in cases),
                                   self.endpoint, self.options.auto))
        try:
            for number, case in enumerate(cases, 1):
                if self._cancelled:
                    break
                self._case_task = asyncio.ensure_future(self._run_case(case, number, len(cases)))
                try:
                    case_result = await self._case_task
                except asyncio.CancelledError:
                    if not self._cancelled:  # our caller cancelled us: take the case down too
                        self._case_task.cancel()
                        raise
                    case_result = self._case_task_result
                result.cases.append(case_result)
                self._publish(CaseFinished(case_result))
        finally:
            result.ended = time.time()
            if owns:
                await self.stop()
            self._publish(SuiteFinished(result))
        return result

    _case_task_result: CaseResult | None = None

    async def _run_case(self, case: Case, number: int, total: int) -> CaseResult:
        result = CaseResult(case.id, case.title, case.version, case.sut, case.group,
                            started=time.time())
        self._case_task_result = result
        result.steps.append(StepResult(0, "setup", f"precondition: {self._before_text(case)}"))
        variables = {k: (v() if callable(v) else v) for k, v in case.vars.items()}
        ctx = Context(self.version, self.sut, {**DEFAULT_PARAMS, **case.params, **self.options.params},
                      variables, self.options.step_timeout, self.endpoint)
        for i, step in enumerate(case.steps, 1):
            title = ctx.fill(step.describe())
            if isinstance(step, Prompt) and step.title is None:
                title = f"operator: {ctx.format(step.text)}"
            result.steps.append(StepResult(i, step.kind, title))
        run = _CaseRun(self, case, ctx, result)
        self._run = run
        if self.options.auto:
            self._open_transactions.clear()
        self._publish(CaseStarted(case.id, case.title, number, total,
                                  tuple(s.title for s in result.steps)))
        try:
            try:
                async with asyncio.timeout(self.options.case_timeout):
                    if await self._step(run, 0):
                        for i in range(1, len(case.steps) + 1):
                            if not await self._step(run, i):
                                break
            except TimeoutError:
                self._interrupt(run, f"the case time limit of {self.options.case_timeout:g} s was reached")
            except asyncio.CancelledError:
                self._interrupt(run, "the run was cancelled")
                if not self._cancelled:
                    raise
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
            await self._teardown(run)
        finally:
            self._run = None
            for step in result.steps:
                if step.verdict is None:
                    failed = next((s.index for s in result.steps
                                   if s.verdict is not None and not s.verdict.ok), None)
                    step.verdict = Verdict.INCONCLUSIVE
                    step.reason = (f"not run: step {failed} did not pass" if failed is not None
                                   else "not run")
            result.verdict = worst(s.verdict for s in result.steps)
            bad = next((s for s in result.steps if s.verdict is result.verdict and not s.verdict.ok), None)
            result.reason = f"step {bad.index}: {bad.reason}" if bad is not None else ""
            result.ended = time.time()
        return result

    def _interrupt(self, run: _CaseRun, reason: str) -> None:
        step = run.result.steps[run.index]
        if step.verdict is None:
            step.verdict = Verdict.ERROR
            step.reason = reason
            step.ended = time.time()
            self._publish(StepFinished(run.case.id, step))

    def _before_text(self, case: Case) -> str:
        if case.before == "none":
            return "none"
        if self.sut == CHARGER:
            return "the charger is connected and booted"
        return "connected" if case.before == "connected" else "connected and booted (BootNotification Accepted)"

    async def _step(self, run: _CaseRun, index: int) -> bool:
        res = run.result.steps[index]
        run.index = index
        run.marks[index] = len(run.calls)
        res.started = time.time()
        self._publish(StepStarted(run.case.id, index, res.kind, res.title))
        try:
            if index == 0:
                verdict, reason = await self._setup(run)
            else:
                verdict, reason = await self._execute(run, run.steps[index - 1], index)
        except _StepProblem as exc:
            verdict, reason = exc.verdict, exc.reason
        except asyncio.CancelledError:
            raise
        except TimeoutError:
            verdict, reason = Verdict.FAIL, "timed out"
        except Exception as exc:  # an engine or case bug: error, never a traceback
            verdict, reason = Verdict.ERROR, f"engine error: {type(exc).__name__}: {exc}"
        problems = [p for p in run.violations.get(index, []) if p != reason]
        if problems:
            if verdict is Verdict.PASS:
                verdict, reason = Verdict.FAIL, problems[0]
                problems = problems[1:]
            res.notes.extend(problems)
        res.verdict, res.reason = verdict, reason
        res.ended = time.time()
        self._publish(StepFinished(run.case.id, res))
        return verdict is Verdict.PASS

    def _timeout(self, step, ctx: Context, default: float | None = None) -> float:
        if step.timeout is not None:
            return float(resolve(step.timeout, ctx))
        return self.options.step_timeout if default is None else default

    # ---- precondition / teardown --------------------------------------------------------------

    async def _wait_for(self, condition: Callable[[], bool], timeout: float, run: _CaseRun) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await run.wait(min(remaining, 0.1))
        return True

    async def _setup(self, run: _CaseRun) -> tuple[Verdict, str]:
        case = run.case
        if self.sut == CHARGER:
            if self._auto_charger is not None:
                booted = case.before != "none"
                try:
                    await asyncio.wait_for(self._auto_charger.fresh(booted=booted),
                                           self.options.step_timeout * 2)
                except asyncio.TimeoutError:
                    return Verdict.ERROR, "the simulated charger did not boot in time"
                except Exception as exc:
                    return Verdict.ERROR, f"the simulated charger could not start: {exc}"
                # wait until the engine has seen old connections go and the new one come
                await self._wait_for(lambda: len(self._live) == (1 if booted else 0) and
                                     (self.current is not None) == booted, 5, run)
                if booted and self.current is None:
                    return Verdict.ERROR, "the simulated charger did not connect"
                return Verdict.PASS, ("simulated charger connected and booted" if booted
                                      else "simulated charger powered off")
            if case.before == "none":
                return Verdict.PASS, "no precondition"
            def booted() -> bool:
                return self.current is not None and self.current.connection.id in self._booted
            if not booted():
                # after one fruitless wait, later cases do not each wait as long again
                wait = (min(self.options.connect_timeout, self.options.step_timeout)
                        if self._waited_in_vain else self.options.connect_timeout)
                self.note(f"waiting up to {wait:g} s for the charger to connect to "
                          f"{self.endpoint}<charge point id> and boot")
                if not await self._wait_for(booted, wait, run):
                    self._waited_in_vain = True
                    what = "booted" if self.current is not None else "connected"
                    return Verdict.ERROR, f"no charger {what} at {self.endpoint} within {wait:g} s"
                self._waited_in_vain = False
            return Verdict.PASS, f"charger {self.current.connection.charge_point_id} is connected and booted"
        # SUT = CSMS
        if self._auto_csms is not None:
            overrides = deep_merge(case.auto_csms, self.options.csms_overrides)
            try:
                self.target = await self._auto_csms.restart(overrides)
            except Exception as exc:
                return Verdict.ERROR, f"the simulated CSMS could not start: {exc}"
        if case.before == "none":
            return Verdict.PASS, "no precondition"
        await self._open_client()
        if case.before == "connected":
            return Verdict.PASS, f"connected to {self.target}"
        v16 = self.version == V16
        answer = await self._setup_call(run, "BootNotification",
                                        payloads.boot16() if v16 else payloads.boot201())
        if answer.get("status") != "Accepted":
            return Verdict.FAIL, f"BootNotification was answered {answer.get('status')!r}, not Accepted"
        statuses = ([payloads.status16("Available", 0), payloads.status16("Available")] if v16
                    else [payloads.status201("Available")])
        for status in statuses:
            await self._setup_call(run, "StatusNotification", resolve(status, run.ctx))
        return Verdict.PASS, "connected; BootNotification Accepted; StatusNotification Available sent"

    async def _setup_call(self, run: _CaseRun, action: str, payload: dict) -> dict:
        endpoint = self.current
        if endpoint is None:
            raise _StepProblem(Verdict.FAIL, f"the connection closed before {action}")
        try:
            frame = await endpoint.call(action, payload, timeout=self.options.step_timeout)
        except CallTimeout:
            raise _StepProblem(Verdict.FAIL, f"no response to {action} within "
                                             f"{self.options.step_timeout:g} s") from None
        except (ConnectionError, ConnectionClosed):
            raise _StepProblem(Verdict.FAIL, f"the connection closed before the response to {action}") from None
        if run.violations.get(0):
            raise _StepProblem(Verdict.FAIL, run.violations[0][0])
        if frame.type is FrameType.CALLERROR:
            raise _StepProblem(Verdict.FAIL, f"{action} was answered with CALLERROR {frame.error_code}: "
                                             f"{frame.error_description}")
        return frame.payload

    async def _teardown(self, run: _CaseRun) -> None:
        notes = run.result.steps[run.index].notes
        try:
            if self.sut == CSMS:
                if self.current is not None:
                    await self._close_endpoint(self.current)
                if self._auto_csms is not None:
                    await self._auto_csms.stop()
            elif self._auto_charger is None and self._open_transactions and self.current is not None:
                for tx in list(self._open_transactions):
                    action, payload = (("RemoteStopTransaction", {"transactionId": tx})
                                       if self.version == V16 else
                                       ("RequestStopTransaction", {"transactionId": tx}))
                    try:
                        await self.current.call(action, payload, timeout=5)
                        notes.append(f"teardown: asked the charger to stop transaction {tx}")
                    except Exception:
                        pass
                    self._open_transactions.pop(tx, None)
        except Exception as exc:
            notes.append(f"teardown: {type(exc).__name__}: {exc}")

    # ---- steps ---------------------------------------------------------------------------------

    async def _execute(self, run: _CaseRun, step, index: int) -> tuple[Verdict, str]:
        handler = {
            Expect: self._expect, Send: self._send, SendRaw: self._send_raw, Wait: self._wait,
            ExpectNone: self._expect_none, Prompt: self._prompt, Connect: self._connect,
            Disconnect: self._disconnect, ExpectDisconnect: self._expect_disconnect,
        }.get(type(step))
        if handler is None:
            for kind, fn in ((Expect, self._expect), (Send, self._send), (Prompt, self._prompt)):
                if isinstance(step, kind):
                    handler = fn
        if handler is None:
            return Verdict.ERROR, f"unknown step kind {type(step).__name__}"
        return await handler(run, step, index)

    def _require_endpoint(self, what: str) -> Endpoint:
        if self.current is None:
            who = "charger" if self.sut == CHARGER else "CSMS"
            raise _StepProblem(Verdict.FAIL, f"not connected to the {who} when sending {what}")
        return self.current

    async def _expect(self, run: _CaseRun, step: Expect, index: int) -> tuple[Verdict, str]:
        timeout = self._timeout(step, run.ctx)
        deadline = time.monotonic() + timeout
        while index not in run.claims:
            if run.violations.get(index):
                return Verdict.FAIL, run.violations[index][0]
            if self.sut == CSMS and self.current is None:
                return Verdict.FAIL, (f"the connection to the CSMS closed while waiting for "
                                      f"{run.ctx.fill(step.expectation())}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, self._expect_timeout_reason(run, step, index, timeout)
            await run.wait(remaining)
        claim = run.claims[index]
        record = claim.record
        problem = violation(record)
        if problem:
            return Verdict.FAIL, problem
        if claim.problem:
            return Verdict.ERROR, claim.problem
        payload = record.frame.payload
        failures = [f for f in (c.evaluate(payload, run.ctx, record) for c in step.checks) if f]
        if failures:
            return Verdict.FAIL, f"{step.action}: " + "; ".join(failures)
        self._save(run, step.save, request=payload, response=claim.payload, default="request",
                   action=step.action)
        if step.save_time:
            run.ctx.vars[step.save_time] = record.time
        reason = f"got {step.action}"
        if step.where:
            reason += " with " + ", ".join(f"{k.split('.')[-1]} {_value_text(get_path(payload, k))}"
                                           for k in step.where)
        if claim.error:
            reason += f"; answered CALLERROR {claim.error[0]}"
        elif step.reply is not None and claim.payload is not None:
            reason += f"; answered {_short(show_json(claim.payload), 100)}"
        return Verdict.PASS, reason

    def _expect_timeout_reason(self, run: _CaseRun, step: Expect, index: int, timeout: float) -> str:
        anchor = run.anchor(index)
        claimed = set(run.claim_by_uid)
        same = [r for r in run.calls[anchor:] if r.action == step.action
                and r.frame.unique_id not in claimed]
        text = f"expected {run.ctx.fill(step.expectation())} within {timeout:g} s, got "
        if same:
            if step.where:
                mismatched = []
                for r in same:
                    keys = [k for k, v in step.where.items()
                            if not _loose_match(get_path(r.frame.payload, k), _safe_resolve(v, run.ctx))]
                    mismatched.append((r, keys or list(step.where)))
                single = {tuple(keys) for _, keys in mismatched}
                if len(single) == 1 and len(next(iter(single))) == 1:
                    key = next(iter(single))[0]
                    got = [_value_text(get_path(r.frame.payload, key)) for r, _ in mismatched]
                else:
                    got = [", ".join(f"{k.split('.')[-1]} {_value_text(get_path(r.frame.payload, k))}"
                                     for k in keys) for r, keys in mismatched]
                text += ", then ".join(got)
            else:
                text += f"{len(same)} {step.action} already used by other steps"
        else:
            others = [r.action for r in run.calls[anchor:] if r.frame.unique_id not in claimed]
            text += f"none (the SUT sent {', '.join(others)})" if others else "nothing"
        if run.closed_unexpectedly and self.current is None:
            text += f"; {run.closed_unexpectedly}"
        return text

    def _save(self, run: _CaseRun, save: dict, *, request, response, default: str, action: str) -> None:
        for name, spec in save.items():
            source, _, path = spec.partition(".") if spec.startswith(("request.", "response.")) \
                else (default, "", spec)
            data = request if source == "request" else response
            value = get_path(data, path)
            if value is MISSING:
                raise _StepProblem(Verdict.FAIL, f"{action} {source} has no {path} (needed as <{name}>)")
            run.ctx.vars[name] = value

    async def _send(self, run: _CaseRun, step: Send, index: int) -> tuple[Verdict, str]:
        endpoint = self._require_endpoint(step.action)
        ctx = run.ctx
        if step.payload is None:
            payload = defaults.request_template(self.version, step.action, now=datetime.now(timezone.utc))
        else:
            payload = resolve(step.payload, ctx)
        unique_id = str(resolve(step.unique_id, ctx)) if step.unique_id is not None else new_unique_id()
        run.send_owner[unique_id] = index
        timeout = self._timeout(step, ctx)
        try:
            frame = await endpoint.call(step.action, payload, timeout=timeout, unique_id=unique_id)
        except CallTimeout:
            return Verdict.FAIL, f"no response to {step.action} within {timeout:g} s"
        except (ConnectionError, ConnectionClosed):
            return Verdict.FAIL, f"the connection closed before the response to {step.action}"
        if run.violations.get(index):
            return Verdict.FAIL, run.violations[index][0]
        codes = list(step.expect_error or ())
        if frame.type is FrameType.CALLERROR:
            if codes and frame.error_code in codes:
                return Verdict.PASS, f"{step.action} answered with CALLERROR {frame.error_code}"
            wanted = f", expected {' or '.join(codes)}" if codes else ""
            return Verdict.FAIL, (f"the SUT answered {step.action} with CALLERROR {frame.error_code}"
                                  f" ({_short(frame.error_description or '', 100)!r}){wanted}")
        if codes:
            return Verdict.FAIL, (f"expected CALLERROR {' or '.join(codes)} to {step.action}, got "
                                  f"CALLRESULT {_short(show_json(frame.payload), 100)}")
        failures = [f for f in (c.evaluate(frame.payload, ctx, run.responses.get(unique_id))
                                for c in step.checks) if f]
        if failures:
            return Verdict.FAIL, f"{step.action} response: " + "; ".join(failures)
        self._save(run, step.save, request=payload, response=frame.payload, default="response",
                   action=step.action)
        return Verdict.PASS, f"{step.action} answered {_short(show_json(frame.payload), 120)}"

    async def _send_raw(self, run: _CaseRun, step: SendRaw, index: int) -> tuple[Verdict, str]:
        endpoint = self._require_endpoint("a raw frame")
        ctx = run.ctx
        text = resolve(step.text, ctx)
        ids = None if step.ids is None else [str(resolve(i, ctx)) for i in step.ids]
        start = len(run.response_log)
        try:
            await endpoint.send_frame(text)
        except ConnectionClosed:
            return Verdict.FAIL, "the connection closed before the frame could be sent"
        timeout = self._timeout(step, ctx)
        deadline = time.monotonic() + timeout
        codes = list(step.codes)
        while True:
            found = next((r for r in run.response_log[start:]
                          if ids is None or r.frame.unique_id in ids), None)
            if found is not None:
                break
            if self.current is None:
                return Verdict.FAIL, (f"the SUT closed the connection instead of answering with "
                                      f"CALLERROR {' or '.join(codes)}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, (f"no CALLERROR within {timeout:g} s, expected "
                                      f"{' or '.join(codes) or 'a CALLERROR'}")
            await run.wait(remaining)
        run.mark_used(index, found)
        frame = found.frame
        if frame.type is FrameType.MALFORMED:
            return Verdict.FAIL, f"the SUT answered with a malformed frame ({frame.reason})"
        if frame.type is not FrameType.CALLERROR:
            return Verdict.FAIL, (f"the SUT answered with {frame.type.value} "
                                  f"{_short(frame.raw, 100)}, expected CALLERROR {' or '.join(codes)}")
        if codes and frame.error_code not in codes:
            return Verdict.FAIL, (f"the SUT answered CALLERROR {frame.error_code}, expected "
                                  f"{' or '.join(codes)}")
        return Verdict.PASS, (f"CALLERROR {frame.error_code} with id {frame.unique_id!r}"
                              + (f" ({_short(frame.error_description, 80)!r})" if frame.error_description else ""))

    async def _wait(self, run: _CaseRun, step: Wait, index: int) -> tuple[Verdict, str]:
        seconds = float(resolve(step.seconds, run.ctx))
        await asyncio.sleep(seconds)
        return Verdict.PASS, f"waited {seconds:g} s"

    async def _expect_none(self, run: _CaseRun, step: ExpectNone, index: int) -> tuple[Verdict, str]:
        seconds = float(resolve(step.seconds, run.ctx))
        anchor = run.anchor(index)
        deadline = time.monotonic() + seconds
        exclude = set(step.exclude)
        what = step.action or "CALL"
        while True:
            for record in run.calls[anchor:]:
                if record.frame.unique_id in run.claim_by_uid:
                    continue
                if step.action is not None and record.action != step.action:
                    continue
                if record.action in exclude:
                    continue
                if step.where and not all(_loose_match(get_path(record.frame.payload, k),
                                                       resolve(v, run.ctx))
                                          for k, v in step.where.items()):
                    continue
                run.mark_used(index, record)
                return Verdict.FAIL, (f"the SUT sent {record.action} "
                                      f"{_short(show_json(record.frame.payload), 100)}, but it must "
                                      f"not send {what} here")
            if run.violations.get(index):
                return Verdict.FAIL, run.violations[index][0]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.PASS, f"no {what} for {seconds:g} s, as required"
            await run.wait(remaining)

    async def _prompt(self, run: _CaseRun, step: Prompt, index: int) -> tuple[Verdict, str]:
        ctx = run.ctx
        request = PromptRequest(run.case.id, run.case.title, index, ctx.format(step.text),
                                step.action, resolve(step.args, ctx) or {})
        if step.title is None:
            run.result.steps[index].title = f"operator: {request.text}"
        self._publish(PromptRequested(request))
        callback = self._auto_prompt if self.options.auto else self.prompt
        if callback is None:
            return Verdict.ERROR, ("this step needs an operator and no prompt handler is set "
                                   "(run with --auto to let a simulator act)")
        if step.timeout is not None:
            timeout = self._timeout(step, ctx)
            try:
                reply = await asyncio.wait_for(callback(request), timeout)
            except asyncio.TimeoutError:
                return Verdict.INCONCLUSIVE, f"no answer from the operator within {timeout:g} s"
        else:
            reply = await callback(request)
        if reply.ok:
            return Verdict.PASS, reply.note or "operator confirmed"
        if reply.skipped:
            return Verdict.INCONCLUSIVE, f"operator skipped: {reply.note or 'no reason given'}"
        return Verdict.FAIL, f"operator reported a failure: {reply.note or 'no reason given'}"

    async def _auto_prompt(self, request: PromptRequest) -> PromptReply:
        driver = self._auto_charger or self._auto_csms
        if request.action is None:
            return PromptReply.done("nothing for the simulator to do")
        if driver is None or not driver.can(request.action):
            return PromptReply.skip(f"the simulator cannot perform {request.action!r}")
        driver.perform(request.action, request.args)
        args = f" {show_json(request.args)}" if request.args else ""
        return PromptReply.done(f"simulator performs {request.action}{args}")

    async def _connect(self, run: _CaseRun, step: Connect, index: int) -> tuple[Verdict, str]:
        if self.sut == CSMS:
            endpoint = await self._open_client()
            return Verdict.PASS, f"connected to {self.target} with {endpoint.ws.subprotocol}"
        timeout = self._timeout(step, run.ctx, self.options.connect_timeout)
        deadline = time.monotonic() + timeout
        while index not in run.claims:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._waited_in_vain = True
                extra = f" ({self._rejected[-1]})" if self._rejected else ""
                return Verdict.FAIL, (f"the charger did not connect to {self.endpoint} within "
                                      f"{timeout:g} s{extra}")
            await run.wait(remaining)
        endpoint = run.claims[index].endpoint
        info = endpoint.connection
        return Verdict.PASS, f"charger {info.charge_point_id} connected with {info.subprotocol}"

    async def _disconnect(self, run: _CaseRun, step: Disconnect, index: int) -> tuple[Verdict, str]:
        if self.current is None:
            return Verdict.PASS, "the connection was already closed"
        await self._close_endpoint(self.current)
        return Verdict.PASS, "connection closed"

    async def _expect_disconnect(self, run: _CaseRun, step: ExpectDisconnect, index: int):
        timeout = self._timeout(step, run.ctx)
        deadline = time.monotonic() + timeout
        while index not in run.claims:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Verdict.FAIL, f"the SUT did not close the connection within {timeout:g} s"
            await run.wait(remaining)
        info = run.claims[index].endpoint.connection
        return Verdict.PASS, (f"the SUT closed the connection (code {info.close_code}"
                              f"{', ' + repr(info.close_reason) if info.close_reason else ''})")


def _safe_resolve(value, ctx):
    try:
        return resolve(value, ctx)
    except _StepProblem:
        return MISSING


def _value_text(value) -> str:
    if value is MISSING:
        return "(absent)"
    if isinstance(value, str):
        return value
    return show_json(value)
