"""An asyncio event loop in a thread of its own, and the bridges to and from it.

The desktop application runs its roles here, not on the Qt thread: a role answering a
charger must never wait for the window to paint a plot (a latency measured by a tool that
delays the answer is a wrong measurement). The roles' loop is uvloop where installed, as
in the headless CLI. Events cross to the UI through the hub's subscribers (which only
append to thread-safe queues); calls cross with `run` (UI -> roles) and `call_in` /
`run_in` (roles -> UI).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
from typing import Any, Awaitable, Callable

from . import native_threads

log = logging.getLogger(__name__)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where it is installed (Linux, macOS): its C transports halve the relay's CPU
    per frame (benchmarks/proxy.py). OCPP_INSPECTOR_LOOP=asyncio opts out. None: asyncio's
    standard loop (asyncio.Runner's default)."""
    if os.environ.get("OCPP_INSPECTOR_LOOP", "").lower() == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:  # Windows, or a build without it: the standard loop
        return None
    return uvloop.new_event_loop


class LoopThread:
    """An event loop running in a daemon thread until `stop`."""

    def __init__(self, name: str = "roles",
                 loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None):
        self.name = name
        self._factory = loop_factory or event_loop_factory() or asyncio.new_event_loop
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = None  # a native thread (native_threads)
        self._ready = native_threads.Event()
        self.on_error: Callable[[str], None] | None = None  # an unexpected error, one line

    def start(self) -> "LoopThread":
        if self._thread is not None:
            return self
        self._thread = native_threads.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the {self.name} event loop did not start")
        return self

    def _main(self) -> None:
        loop = self._factory()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._loop_error)
        self.loop = loop
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            try:
                pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
                for task in pending:
                    task.cancel()
                if pending:
                    loop.run_until_complete(asyncio.wait(pending, timeout=5))
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def _loop_error(self, loop, context: dict) -> None:
        exc = context.get("exception")
        log.error("%s loop: %s", self.name, context.get("message"), exc_info=exc)
        if self.on_error is not None and exc is not None and \
                not isinstance(exc, (ConnectionError, asyncio.CancelledError)):
            self.on_error(f"{type(exc).__name__}: {exc}")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, coroutine: Awaitable) -> concurrent.futures.Future:
        """Schedule `coroutine` on this loop from any other thread."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    async def run(self, coroutine: Awaitable) -> Any:
        """Await, from another loop, `coroutine` run on this one. Cancelling the caller
        cancels it here too."""
        if self.in_thread():
            return await coroutine
        return await asyncio.wrap_future(self.submit(coroutine))

    def call(self, function: Callable, *args) -> None:
        """Call `function(*args)` on this loop, soon (from any thread)."""
        self.loop.call_soon_threadsafe(function, *args)

    def in_thread(self) -> bool:
        return self._thread is not None and native_threads.get_ident() == self._thread.ident

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel what still runs, stop the loop and join the thread (bounded)."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        thread.join(timeout)


def call_in(loop: asyncio.AbstractEventLoop, function: Callable) -> Callable[..., None]:
    """`function` made callable from any thread: each call runs it on `loop`, soon."""
    def call(*args) -> None:
        try:
            loop.call_soon_threadsafe(function, *args)
        except RuntimeError:  # that loop is closed: the receiver is gone
            pass
    return call


def run_in(loop: asyncio.AbstractEventLoop, function: Callable[..., Awaitable]) -> Callable[..., Awaitable]:
    """An async `function` made awaitable from another loop: it runs on `loop`; cancelling
    the awaiting side cancels it there."""
    async def run(*args, **kwargs):
        future = asyncio.run_coroutine_threadsafe(function(*args, **kwargs), loop)
        return await asyncio.wrap_future(future)
    return run
