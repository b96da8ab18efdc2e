"""Intercept: frames a proxy rule (`do = "intercept"`) pauses until someone forwards, edits or
drops them, as in mitmproxy.

A paused frame holds its own direction of its own connection (what came after it waits
behind it, so nothing is reordered); the other direction and every other connection flow on.
The proxy pauses on its event loop; a front-end (the window) hears `FramePaused`, and answers
from its own thread with `forward()` / `drop()`, which hop onto the proxy's loop. Every
pause ends with `PauseEnded` (also when the connection closes first).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from .events import ConnectionInfo

FORWARDED, EDITED, DROPPED, CONNECTION_CLOSED = "forwarded", "edited", "dropped", "connection closed"


@dataclass(eq=False)
class Paused:
    id: int
    connection: ConnectionInfo
    direction: str
    text: str
    action: str | None
    rule: str
    since: float = field(default_factory=time.time)
    resolve: Callable[[str, str | None], None] | None = field(default=None, repr=False)
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class FramePaused:
    paused: Paused


@dataclass(frozen=True, slots=True)
class PauseEnded:
    paused: Paused
    outcome: str


class Interceptor:
    def __init__(self, hub):
        self.hub = hub
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.paused: dict[int, Paused] = {}

    # ---- the proxy's loop -------------------------------------------------------------------

    def pause(self, connection: ConnectionInfo, direction: str, text: str, action: str | None,
              rule: str, resolve) -> Paused:
        paused = Paused(next(self._ids), connection, direction, text, action, rule,
                        resolve=resolve, loop=asyncio.get_running_loop())
        with self._lock:
            self.paused[paused.id] = paused
        self.hub.publish(FramePaused(paused))
        return paused

    def cancel(self, paused: Paused) -> None:
        """The sender closed while its frame was paused: the pause ends unforwarded."""
        with self._lock:
            if self.paused.pop(paused.id, None) is None:
                return
        paused.resolve(CONNECTION_CLOSED, None)
        self.hub.publish(PauseEnded(paused, CONNECTION_CLOSED))

    def connection_closed(self, connection_id: int) -> None:
        with self._lock:
            gone = [p for p in self.paused.values() if p.connection.id == connection_id]
            for paused in gone:
                del self.paused[paused.id]
        for paused in gone:
            self.hub.publish(PauseEnded(paused, CONNECTION_CLOSED))

    # ---- any thread ---------------------------------------------------------------------------

    def forward(self, pause_id: int, text: str | None = None) -> bool:
        """Let a paused frame go on: as it came, or as `text` when it was edited."""
        return self._settle(pause_id, EDITED if text is not None else FORWARDED, text)

    def drop(self, pause_id: int) -> bool:
        return self._settle(pause_id, DROPPED, None)

    def forward_all(self) -> int:
        return sum(self.forward(pause_id) for pause_id in list(self.paused))

    def _settle(self, pause_id: int, outcome: str, text: str | None) -> bool:
        paused = self.paused.get(pause_id)
        if paused is None:
            return False
        paused.loop.call_soon_threadsafe(self._settled, pause_id, outcome, text)
        return True

    def _settled(self, pause_id: int, outcome: str, text: str | None) -> None:
        with self._lock:
            paused = self.paused.pop(pause_id, None)
        if paused is None:
            return  # settled twice, or its connection closed meanwhile
        paused.resolve(outcome, text)
        self.hub.publish(PauseEnded(paused, outcome))
