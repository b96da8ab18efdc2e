"""The server side of TLS run in our code, so that a failed handshake is seen.

When asyncio's server does TLS itself (`create_server(ssl=...)`), a charger whose handshake
fails (no client certificate, a certificate from an unknown CA or expired, a plain ws://
client on a wss:// port) vanishes without a trace: asyncio logs it at debug level only and
the application never hears of the connection. A certification tester needs that failure in
the capture more than any other. So the listeners accept plain TCP and upgrade it here with
`loop.start_tls` (public API, asyncio and uvloop alike); a failure becomes a connection
record with the reason, and a success hands the TLS transport to the real protocol as if
asyncio had done the handshake.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Callable

HANDSHAKE_TIMEOUT = 10.0  # a client that never finishes the handshake holds no socket longer

# OpenSSL's reason codes, as a field engineer would say them
_REASONS = {
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": "the client sent no certificate (profile 3 needs one)",
    "TLSV1_ALERT_UNKNOWN_CA": "the client does not trust our server certificate (unknown CA)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the client rejected our server certificate",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": "the client says our server certificate has expired",
    "WRONG_VERSION_NUMBER": "not a TLS client (plain ws:// on a wss:// port?)",
    "HTTP_REQUEST": "not a TLS client (plain ws:// on a wss:// port?)",
    "UNSUPPORTED_PROTOCOL": "the client offers only TLS versions below 1.2",
    "NO_SHARED_CIPHER": "no cipher suite in common with the client",
}


def describe_failure(exc: BaseException) -> str:
    """One line on why a server-side TLS handshake failed."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"client certificate rejected: {exc.verify_message or exc.reason}"
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        return _REASONS.get(reason, reason.replace("_", " ").lower() or str(exc))
    if isinstance(exc, (asyncio.TimeoutError, ConnectionAbortedError)) and "longer" in str(exc):
        return f"the client did not finish the handshake within {HANDSHAKE_TIMEOUT:.0f} s"
    if isinstance(exc, (ConnectionError, EOFError)) or not str(exc):
        return "the client left during the handshake (does it trust our server certificate?)"
    return str(exc)


class TlsAcceptor:
    """Upgrades accepted connections to TLS; `on_failure(remote, reason)` hears of each one
    that does not make it."""

    def __init__(self, context: ssl.SSLContext, on_failure: Callable[[str | None, str], None],
                 timeout: float = HANDSHAKE_TIMEOUT):
        self.context = context
        self.on_failure = on_failure
        self.timeout = timeout
        self._pending: set[asyncio.Task] = set()  # strong references until each one ends

    def accept(self, protocol: asyncio.Protocol, transport: asyncio.Transport,
               established: Callable[[asyncio.Transport], None]) -> None:
        """Called from `protocol.connection_made`: the TLS layer takes the transport now,
        before any byte can reach `protocol`."""
        peer = transport.get_extra_info("peername")
        remote = f"{peer[0]}:{peer[1]}" if peer else None
        handshake = _StartedNow(asyncio.get_running_loop().start_tls(
            transport, protocol, self.context, server_side=True, ssl_handshake_timeout=self.timeout))
        task = asyncio.get_running_loop().create_task(
            self._finish(handshake, transport, remote, established))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _finish(self, handshake, transport, remote, established) -> None:
        try:
            tls_transport = await handshake
        except Exception as exc:  # noqa: BLE001 - every failure is a record, never a traceback
            transport.abort()
            self.on_failure(remote, describe_failure(exc))
            return
        established(tls_transport)


class _StartedNow:
    """An awaitable that runs `coroutine` up to its first suspension at once.

    `start_tls` swaps the transport's protocol for the TLS layer in its first, synchronous
    part. Run from a task, that part would come one loop turn late, and uvloop starts reading
    right after `connection_made` (pause_reading there is not honoured): the client's hello
    would reach the plain protocol and be lost. Started here, the hello lands in the TLS
    layer's buffer whatever the loop.
    """

    def __init__(self, coroutine):
        self._coroutine = coroutine
        self._result = self._error = None
        self._finished = False
        try:
            self._next = coroutine.send(None)
        except StopIteration as done:
            self._finished, self._result = True, done.value
        except BaseException as exc:  # noqa: BLE001 - re-raised where it is awaited
            self._finished, self._error = True, exc

    def __await__(self):
        if self._finished:
            if self._error is not None:
                raise self._error
            return self._result
        value = self._next
        while True:  # what `yield from` does, from the second step on
            try:
                sent = yield value
            except GeneratorExit:
                self._coroutine.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - cancellation goes to the coroutine
                step = functools.partial(self._coroutine.throw, exc)
            else:
                step = functools.partial(self._coroutine.send, sent)
            try:
                value = step()
            except StopIteration as done:
                return done.value


class TlsFirst:
    """Mixin for a server-side asyncio protocol class: TLS is negotiated (by `_tls_acceptor`)
    before the class's own `connection_made` runs, and a failed handshake never reaches it."""

    _tls_acceptor: TlsAcceptor
    _tls_established = False

    def connection_made(self, transport) -> None:
        self._tls_acceptor.accept(self, transport, self._tls_ready)

    def _tls_ready(self, transport) -> None:
        self._tls_established = True
        super().connection_made(transport)

    def connection_lost(self, exc) -> None:
        if self._tls_established:  # asyncio may report the loss of a connection never made
            super().connection_lost(exc)


def tls_first(protocol_class: type, acceptor: TlsAcceptor) -> type:
    """`protocol_class` with the TLS handshake run by `acceptor` first."""
    return type(f"TlsFirst{protocol_class.__name__}", (TlsFirst, protocol_class),
                {"_tls_acceptor": acceptor})


async def start_stream_server(client_connected_cb, host: str, port: int, *, limit: int,
                              acceptor: TlsAcceptor | None):
    """`asyncio.start_server`, with TLS (when `acceptor` is given) run by the acceptor."""
    if acceptor is None:
        return await asyncio.start_server(client_connected_cb, host, port, limit=limit)
    loop = asyncio.get_running_loop()
    protocol_class = tls_first(asyncio.StreamReaderProtocol, acceptor)

    def factory():
        reader = asyncio.StreamReader(limit=limit, loop=loop)
        return protocol_class(reader, client_connected_cb, loop=loop)

    return await loop.create_server(factory, host, port)


def recording_acceptor(context: ssl.SSLContext | None, hub, role: str,
                       also: Callable[[str | None, str], None] | None = None):
    """The acceptor of a listening role with TLS `context` (None: plain ws://, no acceptor):
    each failed handshake becomes a connection record in the capture and a
    console line (`record_refusal`); `also(remote, reason)` hears of it too."""
    if context is None:
        return None
    from .common import record_refusal

    def failed(remote: str | None, reason: str) -> None:
        record_refusal(hub, "(no id)", role, remote, f"TLS handshake failed: {reason}",
                       f"TLS handshake from {remote or 'a client'} failed: {reason}")
        if also is not None:
            also(remote, reason)

    return TlsAcceptor(context, failed)


def tls_connection_class(context: ssl.SSLContext | None, hub, role: str,
                         also: Callable[[str | None, str], None] | None = None):
    """For websockets' `serve(create_connection=...)`: its ServerConnection, with the TLS
    handshake run and recorded by `recording_acceptor` when there is a `context`."""
    from websockets.asyncio.server import ServerConnection
    acceptor = recording_acceptor(context, hub, role, also)
    return ServerConnection if acceptor is None else tls_first(ServerConnection, acceptor)
