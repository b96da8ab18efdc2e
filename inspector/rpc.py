"""An OCPP-J endpoint over one WebSocket: the asyncio adapter around the codec and monitor.

Both fake roles and the conformance engine use it. It logs every frame in and out through
the monitor and hub, answers incoming CALLs through a handler, turns malformed input into
the CALLERROR OCPP asks for (and keeps the connection up), and sends at most one CALL at a
time, as OCPP requires.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Awaitable, Callable

from websockets.exceptions import ConnectionClosed

from . import codec, flags
from .flags import Flag
from .codec import Frame, FrameType
from .events import FrameLogged, TO_CHARGER, TO_CSMS
from .monitor import ConnectionMonitor
from .versions import error_code


class CallError(Exception):
    """Raised by a handler to answer a CALL with a CALLERROR."""

    def __init__(self, code: str, description: str = "", details: dict | None = None):
        super().__init__(f"{code}: {description}" if description else code)
        self.code, self.description, self.details = code, description, details or {}


class CallTimeout(Exception):
    pass


class NoReply(Exception):
    """Raised by a handler that deliberately never answers (for timeout tests)."""


Handler = Callable[[Frame], Awaitable[dict]]
_ids = itertools.count(1)

# Backpressure. A peer that sends CALLs but does not read our answers must not make us
# buffer without bound: at most this many answers are in flight per connection (reading
# pauses until they drain, so TCP pushes back on the peer), and a send that cannot go out
# for WRITE_STALL_TIMEOUT seconds ends the connection (its reason is logged).
MAX_ANSWERS_IN_FLIGHT = 64
WRITE_STALL_TIMEOUT = 30.0


class WriteStalled(ConnectionError):
    """The peer stopped reading: our send buffer stayed full past the write-stall timeout."""


def _close_text(exc: ConnectionClosed) -> str:
    close = exc.rcvd or exc.sent
    if close is None:
        return "no close frame"
    return f"code {close.code}" + (f" {close.reason!r}" if close.reason else "")


def new_unique_id() -> str:
    return str(uuid.uuid4())


class Endpoint:
    """One side of an OCPP-J connection. `side` is "csms" or "charger"."""

    def __init__(self, websocket, monitor: ConnectionMonitor, hub, *, side: str,
                 handler: Handler | None = None, clock: Callable[[], float] = time.time,
                 response_timeout: float = 30.0, strict: bool = True,
                 write_timeout: float | None = WRITE_STALL_TIMEOUT):
        self.ws = websocket
        self.monitor = monitor
        self.hub = hub
        self.side = side
        self.outgoing = TO_CHARGER if side == "csms" else TO_CSMS
        self.incoming = TO_CSMS if side == "csms" else TO_CHARGER
        self.handler = handler
        self.clock = clock
        self.response_timeout = response_timeout
        self.strict = strict  # answer schema-invalid CALLs with a CALLERROR
        self._call_lock = asyncio.Lock()
        self._waiting: dict[str, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self._tasks_drained = asyncio.Event()
        self.write_timeout = write_timeout
        self.closed = asyncio.Event()
        # set when a CALL goes either way: the expiry loop sleeps while none is outstanding
        # (a timer a second per idle connection was a quarter of an idle fleet's CPU)
        self._calls_pending = asyncio.Event()

    @property
    def version(self) -> str | None:
        return self.monitor.version

    @property
    def connection(self):
        return self.monitor.connection

    # ---- sending ------------------------------------------------------------------------

    async def send_frame(self, frame: Frame | str):
        """Send one frame as is (a Frame we built or raw text typed by a user) and log it.

        It is paired before it goes (an answer may come back at once) and logged once the
        WebSocket took it; a frame that could not be sent is logged flagged "not sent"."""
        raw = frame.raw if isinstance(frame, Frame) else frame
        record = self.monitor.observe(self.outgoing, frame if isinstance(frame, Frame) else raw,
                                      self.clock())
        if record.frame.type is FrameType.CALL:
            self._calls_pending.set()
        try:
            if self.write_timeout:
                async with asyncio.timeout(self.write_timeout):
                    await self.ws.send(raw)
            else:
                await self.ws.send(raw)
        except TimeoutError:
            reason = (f"the peer stopped reading: nothing could be sent for "
                      f"{self.write_timeout:g} s")
            record.flags.append(Flag(flags.NOT_SENT, f"not sent: {reason}"))
            self.hub.publish(FrameLogged(record))
            self._abort(reason)
            raise WriteStalled(reason) from None
        except ConnectionClosed as exc:
            record.flags.append(Flag(flags.NOT_SENT,
                                     f"not sent: the connection had closed ({_close_text(exc)})"))
            self.hub.publish(FrameLogged(record))
            raise
        except Exception as exc:
            record.flags.append(Flag(flags.NOT_SENT, f"not sent: {type(exc).__name__}: {exc}"))
            self.hub.publish(FrameLogged(record))
            raise
        self.hub.publish(FrameLogged(record))
        return record

    async def call(self, action: str, payload: dict, *, timeout: float | None = None,
                   unique_id: str | None = None) -> Frame:
        """Send a CALL and wait for its CALLRESULT or CALLERROR frame (one CALL at a time)."""
        async with self._call_lock:
            return await self._call_unlocked(codec.call(unique_id or new_unique_id(), action, payload),
                                             timeout)

    async def call_raw(self, raw: str, *, timeout: float | None = None) -> Frame | None:
        """Send user-written text; if it parses as a CALL, wait for the answer."""
        frame = codec.parse(raw)
        if frame.type is not FrameType.CALL:
            await self.send_frame(raw)
            return None
        async with self._call_lock:
            return await self._call_unlocked(frame, timeout)

    async def _call_unlocked(self, frame: Frame, timeout: float | None) -> Frame:
        future = asyncio.get_running_loop().create_future()
        self._waiting[frame.unique_id] = future
        try:
            await self.send_frame(frame)
            # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that
            # arrives as the answer does, and a charger then ignored Ctrl+C/SIGTERM
            async with asyncio.timeout(timeout or self.response_timeout):
                return await future
        except TimeoutError:
            raise CallTimeout(f"no response to {frame.action} within "
                              f"{timeout or self.response_timeout:g} s") from None
        finally:
            self._waiting.pop(frame.unique_id, None)

    # ---- receiving ----------------------------------------------------------------------

    async def run(self) -> None:
        """Receive until the connection closes; never raises for bad input."""
        expiry = asyncio.create_task(self._expire_calls())
        try:
            async for message in self.ws:
                self._on_message(message)
                if len(self._tasks) >= MAX_ANSWERS_IN_FLIGHT:
                    # stop reading until half the answers went out: TCP pushes back
                    self._tasks_drained.clear()
                    await self._tasks_drained.wait()
        except ConnectionClosed:
            pass
        finally:
            expiry.cancel()
            for event in self.monitor.close():
                self.hub.publish(event)
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed before the response"))
            for task in list(self._tasks):
                task.cancel()
            self.closed.set()

    def _on_message(self, message) -> None:
        record = self.monitor.observe(self.incoming, message, self.clock())
        if record.frame.type is FrameType.CALL:
            self._calls_pending.set()
        self.hub.publish(FrameLogged(record))
        frame = record.frame
        if frame.type in (FrameType.CALLRESULT, FrameType.CALLERROR):
            future = self._waiting.get(frame.unique_id)
            if future is not None and not future.done():
                future.set_result(frame)
        elif frame.type is FrameType.CALL:
            self._spawn(self._answer(record))
        elif frame.type is FrameType.MALFORMED and not frame.binary:
            self._spawn(self._reject_malformed(frame))

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if len(self._tasks) <= MAX_ANSWERS_IN_FLIGHT // 2:
            self._tasks_drained.set()

    async def _reject_malformed(self, frame: Frame) -> None:
        if frame.raw.lstrip().startswith(("[3", "[4", "[5")):
            return  # never answer something meant as a response
        # OCPP-J 2.0.1: when the message id cannot be read, answer with id "-1"
        unique_id = frame.unique_id if frame.unique_id and len(frame.unique_id) <= 36 else "-1"
        code = error_code(self.version, frame.error_hint or "FormatViolation")
        await self._safe_send(codec.call_error(unique_id, code, frame.reason or "malformed frame"))

    async def _answer(self, record) -> None:
        frame = record.frame
        if record.flags and flags.has(record.flags, flags.UNKNOWN_ACTION):
            await self._safe_send(codec.call_error(frame.unique_id, "NotImplemented",
                                                   f"unknown action {frame.action}"))
            return
        if self.strict and record.valid is False and record.errors:
            first = record.errors[0]
            await self._safe_send(codec.call_error(
                frame.unique_id, first.ocpp_error, f"{first.path}: {first.message}"[:255]))
            return
        if self.handler is None:
            await self._safe_send(codec.call_error(frame.unique_id, "NotSupported",
                                                   f"{frame.action} is not supported"))
            return
        try:
            payload = await self.handler(frame)
        except NoReply:
            return
        except CallError as exc:
            await self._safe_send(codec.call_error(frame.unique_id, exc.code, exc.description,
                                                   exc.details))
            return
        except Exception as exc:  # a handler bug becomes an InternalError, not a dead connection
            await self._safe_send(codec.call_error(frame.unique_id, "InternalError",
                                                   f"{type(exc).__name__}: {exc}"[:255]))
            return
        await self._safe_send(codec.call_result(frame.unique_id, payload))

    async def _safe_send(self, frame: Frame) -> None:
        try:
            await self.send_frame(frame)
        except (ConnectionClosed, WriteStalled):
            pass

    def _abort(self, reason: str) -> None:
        """Drop the connection at once (no closing handshake can get through a full buffer)."""
        info = self.monitor.connection
        info.note = f"{info.note}; {reason}" if info.note else reason
        self.hub.notice("warning", f"{info.charge_point_id}: {reason}; connection dropped",
                        self.side)
        transport = getattr(self.ws, "transport", None)
        if transport is not None:
            transport.abort()

    async def _expire_calls(self) -> None:
        while True:
            if not self.monitor.has_outstanding():
                self._calls_pending.clear()
                await self._calls_pending.wait()
            await asyncio.sleep(min(1.0, self.monitor.call_timeout / 4))
            for event in self.monitor.expire(self.clock()):
                self.hub.publish(event)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)
