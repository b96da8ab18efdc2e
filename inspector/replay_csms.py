"""`replay --role csms`: the capture's CSMS side played to chargers that connect, and their
requests compared with the recorded ones.

Each charger that connects takes the next recorded connection of its charge point id: its
calls are compared, in order per action, with the recorded ones and answered as the CSMS
answered them then (date-times moved to now); the calls the CSMS made are sent again at the
recorded moments and the charger's answers compared. The run ends when every recorded
connection has been played and closed (or on Ctrl+C, with what was compared so far).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from datetime import timedelta

from websockets.asyncio.server import serve

from .events import TO_CHARGER, TO_CSMS
from .replay import (ConnectionResult, Exchange, Recorded, ReplayResult, compare_answers,
                     payload_of, recorded_connections, seconds_of)
from .replay_diff import Difference, Ignore
from .roles.common import (Listen, ListeningRole, charge_point_id_from_path,
                           end_websocket_connection, open_connection, remote_address)
from .rpc import CallError, CallTimeout, Endpoint
from .roles.csms import SUPPORTED
from .versions import version_of


class CsmsReplay(ListeningRole):
    def __init__(self, hub, path, listen: Listen, *, charge_point: str | None = None,
                 ignore=(), timeout: float = 30.0, speed: float | None = 1.0):
        self.hub, self.listen = hub, listen
        self.role, recorded = recorded_connections(path, charge_point)
        self.waiting: dict[str, deque[Recorded]] = {}
        for connection in recorded:
            self.waiting.setdefault(connection.charge_point_id, deque()).append(connection)
        self.ignore, self.timeout, self.speed = Ignore(ignore), timeout, speed
        self.results: list[ConnectionResult] = []
        self.strangers: list[Difference] = []  # chargers the recording does not have
        self.done = asyncio.Event()
        self._server = None
        self._started = time.monotonic()
        self.address = f"ws://{listen.display_host}:{listen.port}/"

    async def start(self) -> None:
        self._server = await serve(self._handle, self.listen.host, self.listen.port,
                                   subprotocols=list(SUPPORTED), ping_interval=None)
        self.address = self.url  # kept for the result, after the server has stopped
        self.hub.notice("info", f"replaying the CSMS side of {sum(map(len, self.waiting.values()))}"
                                f" connection(s) on {self.url}<charge point id>", "replay")

    async def run(self) -> ReplayResult:
        await self.start()
        try:
            await self.done.wait()
        finally:
            await self.stop()
        return self.result()

    def result(self) -> ReplayResult:
        """What was compared so far (a run cut short still reports it)."""
        never = [ConnectionResult(r, error="the charger never connected for this recording")
                 for queue in self.waiting.values() for r in queue]
        results = self.results + never
        if self.strangers:
            results.append(ConnectionResult(Recorded(0, "(not recorded)", None, self.role, []),
                                            differences=list(self.strangers)))
        return ReplayResult(self.address, self.role, results, time.monotonic() - self._started)

    async def _handle(self, websocket) -> None:
        cp_id = charge_point_id_from_path(websocket.request.path)
        queue = self.waiting.get(cp_id)
        if not queue:
            self.strangers.append(Difference(f"{cp_id} connection", "$", "not recorded",
                                             "connected"))
            await websocket.close(1008, "not in the recording being replayed")
            return
        recorded = queue.popleft()
        if not queue:
            del self.waiting[cp_id]
        exchange = Exchange(recorded, self.ignore)
        exchange.offset = timedelta(seconds=time.time() - seconds_of(recorded.frames[0]))
        version = version_of(websocket.subprotocol) or version_of(recorded.subprotocol)
        monitor = open_connection(self.hub, cp_id, "replay", subprotocol=websocket.subprotocol,
                                  version=version, remote_address=remote_address(websocket),
                                  call_timeout=self.timeout)
        expected = _Expected(recorded)
        endpoint = Endpoint(websocket, monitor, self.hub, side="csms",
                            handler=lambda frame: self._answer(exchange, expected, frame),
                            response_timeout=self.timeout)
        calling = asyncio.create_task(self._call(exchange, endpoint))
        try:
            await endpoint.run()
        finally:
            calling.cancel()
            end_websocket_connection(self.hub, monitor.connection, websocket)
            for call in expected.left():
                exchange.differ([Difference(exchange.where(call, "call from the charger"), "$",
                                            "sent", "never sent")])
            for call in [c for calls in exchange.pending.values() for c in calls]:
                exchange.differ([Difference(exchange.where(call, "answer from the charger"),
                                            "$", "answered", "connection closed first")])
            self.results.append(exchange.result)
            if not self.waiting:
                self.done.set()

    async def _answer(self, exchange: Exchange, expected: "_Expected", frame) -> dict:
        call = expected.take(frame.action)
        if call is None:
            exchange.differ([Difference(f"{exchange.recorded.charge_point_id} {frame.action} "
                                        f"call from the charger", "$", "not sent", frame.payload)])
            raise CallError("NotImplemented", "not in the recording being replayed")
        return exchange.answer_as_then(call, frame.payload, "call from the charger")

    async def _call(self, exchange: Exchange, endpoint: Endpoint) -> None:
        """The CSMS's own calls of the recording, at their recorded moments."""
        recorded = exchange.recorded
        first = seconds_of(recorded.frames[0])
        began = time.monotonic()
        for call in recorded.calls(TO_CHARGER):
            if self.speed:
                await asyncio.sleep(max(0.0, began + (seconds_of(call) - first) / self.speed
                                        - time.monotonic()))
            queue = exchange.pending.get(call["action"])
            if queue:
                queue.popleft()
                if not queue:
                    del exchange.pending[call["action"]]
            try:
                answer = await endpoint.call(call["action"], exchange.prepared(payload_of(call)))
            except CallTimeout:
                answer = None
            except ConnectionError:
                return
            exchange.result.calls += 1
            compare_answers(exchange, call, recorded.answers.get(call["id"]), answer)


class _Expected:
    """The charger's recorded calls, per action in order, for comparing as they come."""

    def __init__(self, recorded: Recorded):
        self._calls: dict[str, deque] = {}
        for call in recorded.calls(TO_CSMS):
            self._calls.setdefault(call["action"], deque()).append(call)

    def take(self, action: str):
        queue = self._calls.get(action)
        return queue.popleft() if queue else None

    def left(self) -> list[dict]:
        return [call for queue in self._calls.values() for call in queue]
