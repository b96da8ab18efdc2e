"""The MITM proxy: relays each charger to the real CSMS, byte-exact, and logs every frame.

After the opening handshake the proxy is a byte pipe: whatever the charger's socket
delivers is written to the CSMS's socket as it came (masking, fragmentation, pings and
close frames included) and the other way round. Beside the pipe a sans-I/O frame reader
(`inspector.wsframes`) reassembles the messages for the monitor, so inspection never
alters or re-frames traffic, and relaying costs no WebSocket stack per frame.

The handshake is relayed too: the charger's request goes upstream with the same path tail,
subprotocols, key and Authorization (only Host is rewritten and extension offers dropped,
so frames stay readable), and the CSMS's 101 answer goes back unchanged. A CSMS that is
down or fails TLS is a 502 for the charger; its 401/403/404 are passed on.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from urllib.parse import unquote, urlsplit

from ..events import FrameLogged
from ..events import TO_CHARGER, TO_CSMS
from ..memory import IdleRelease
from ..monitor import ConnectionMonitor
from ..rpc import WRITE_STALL_TIMEOUT
from ..rules import RuleBook
from ..tls import ClientTls, ServerTls
from ..versions import version_of
from .. import codec, flags
from ..flags import Flag
from ..wsframes import Close, FrameReader, Message, Oversize, StreamError, close_frame
from .proxy_rules import RuleGate
from .tls_accept import recording_acceptor, start_stream_server
from .common import (Listen, ListeningRole, charge_point_id_from_path, check_ws_url,
                     end_connection, open_connection, record_refusal, transport_limit)

_PASSED_STATUSES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
_HEAD_LIMIT = 64 * 1024
_HIGH_WATER = 1 << 20


class HandshakeError(Exception):
    def __init__(self, status: int, reason: str, extra_headers: list[tuple[str, str]] = ()):
        super().__init__(reason)
        self.status, self.reason, self.extra_headers = status, reason, list(extra_headers)


def _parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _request_problem(path: str, headers) -> str | None:
    """Why a charger's opening request must not be relayed upstream, or None."""
    segments = unquote(urlsplit(path).path).split("/")
    if ".." in segments or "." in segments:
        return f"the path {path!r} has '.' or '..' segments"
    for name, value in headers:
        if "\n" in name or "\r" in name or "\n" in value or "\r" in value:
            return f"header {name.strip()!r} holds a bare line break"
    return None


def _header(headers, name: str) -> str | None:
    name = name.lower()
    return next((v for n, v in headers if n.lower() == name), None)


def _keepalive(writer, interval: float | None) -> None:
    """TCP keepalive finds half-open peers (network gone, no FIN) without touching frames."""
    sock = writer.get_extra_info("socket")
    if sock is None or not interval:
        return
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        if hasattr(socket, "TCP_KEEPIDLE"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, max(1, int(interval)))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, int(interval / 3)))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass


class Proxy(ListeningRole):
    def __init__(self, hub, listen: Listen, upstream: str, *, max_size: int = 1 << 20,
                 validate: bool = True, call_timeout: float = 30.0, open_timeout: float = 10.0,
                 listen_tls: ServerTls | None = None, upstream_tls: ClientTls | None = None,
                 ping_interval: float | None = 30.0,
                 write_timeout: float | None = WRITE_STALL_TIMEOUT,
                 rules: RuleBook | None = None, interceptor=None):
        self.hub = hub
        # edited live (GUI) by swapping its rules; with none enabled the pipe is bytes only
        self.rules = rules if rules is not None else RuleBook()
        self.interceptor = interceptor  # inspector.intercept.Interceptor, for `intercept` rules
        self.listen = listen
        self.upstream = check_ws_url(upstream).rstrip("/")
        parts = urlsplit(self.upstream)
        self._upstream_host = parts.hostname
        self._upstream_port = parts.port or (443 if parts.scheme == "wss" else 80)
        self._upstream_path = parts.path
        # the two sides do TLS independently: charger→proxy with our certificate,
        # proxy→CSMS with the CSMS's trust and, for profile 3, our client certificate
        self.listen_tls = listen_tls
        if upstream_tls and parts.scheme != "wss":
            raise ValueError(f"upstream TLS options given but {upstream} is not a wss:// URL")
        self._upstream_ssl = (upstream_tls or ClientTls()).context() if parts.scheme == "wss" else None
        self.keepalive = ping_interval
        self.write_timeout = write_timeout  # a side that stops reading is dropped after this
        self.max_size = max_size
        self.validate = validate
        self.call_timeout = call_timeout
        self.open_timeout = open_timeout
        self.active = 0
        self.idle = IdleRelease()  # memory back to the system once every charger has left
        self._connections: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._server = await start_stream_server(
            self._handle, self.listen.host, self.listen.port, limit=_HEAD_LIMIT,
            acceptor=recording_acceptor(self.listen_tls.context() if self.listen_tls else None,
                                        self.hub, "proxy"))
        self.hub.notice("info", f"proxy listening on {self.url} -> {self.upstream}/", "proxy")
        for rule in self.rules.rules:
            self.hub.notice("info", f"rule {rule.name!r}{'' if rule.enabled else ' (disabled)'}: "
                                    f"{rule.describe()}", "proxy")

    async def stop(self) -> None:
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(self._connections, timeout=5)
        await super().stop()

    # ---- one charger ----------------------------------------------------------------------

    async def _handle(self, reader, writer) -> None:
        task = asyncio.current_task()
        self._connections.add(task)
        peer = writer.get_extra_info("peername")
        remote = f"{peer[0]}:{peer[1]}" if peer else None
        try:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.open_timeout)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ConnectionError):
                return  # not an HTTP client, or it left: nothing to relay or log
            request_line, headers = _parse_head(head)
            path = request_line.split(" ")[1] if request_line.count(" ") >= 2 else "/"
            cp_id = charge_point_id_from_path(path)
            try:
                upstream_reader, upstream_writer, response, subprotocol = await self._open_upstream(
                    request_line, headers, path)
            except HandshakeError as exc:
                self._refused(cp_id, remote, exc.reason)
                await self._respond_error(writer, exc)
                return
            await self._relay(reader, writer, upstream_reader, upstream_writer, response,
                              subprotocol, cp_id, remote)
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _open_upstream(self, request_line: str, headers, path: str):
        url = self.upstream + (path if path.startswith("/") else "/" + path)
        problem = _request_problem(path, headers)
        if problem:  # never carried upstream: it could reach what the CSMS path does not cover
            raise HandshakeError(400, problem)
        if (_header(headers, "Upgrade") or "").lower() != "websocket":
            raise HandshakeError(426, "not a WebSocket upgrade request", [("Upgrade", "websocket")])
        try:
            upstream_reader, upstream_writer = await asyncio.wait_for(asyncio.open_connection(
                self._upstream_host, self._upstream_port, ssl=self._upstream_ssl,
                server_hostname=self._upstream_host if self._upstream_ssl else None,
                limit=_HEAD_LIMIT), self.open_timeout)
        except ssl.SSLError as exc:
            raise HandshakeError(502, f"TLS handshake with upstream {url} failed: "
                                      f"{exc.reason or exc}") from None
        except (OSError, asyncio.TimeoutError) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or "timed out")
            raise HandshakeError(502, f"upstream {url} unavailable: {detail}") from None
        host = self._upstream_host if self._upstream_port in (80, 443) else \
            f"{self._upstream_host}:{self._upstream_port}"
        lines = [f"GET {self._upstream_path}{path if path.startswith('/') else '/' + path} HTTP/1.1",
                 f"Host: {host}"]
        # keep everything else (key, version, subprotocols, Authorization); drop extension
        # offers so no compression is negotiated and the frames stay readable
        lines += [f"{n}: {v}" for n, v in headers
                  if n.lower() not in ("host", "sec-websocket-extensions")]
        upstream_writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            response = await asyncio.wait_for(upstream_reader.readuntil(b"\r\n\r\n"), self.open_timeout)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                ConnectionError) as exc:
            upstream_writer.close()
            raise HandshakeError(502, f"upstream {url} did not complete the handshake: "
                                      f"{type(exc).__name__}") from None
        status_line, response_headers = _parse_head(response)
        status = int(status_line.split(" ")[1]) if status_line.count(" ") >= 1 and \
            status_line.split(" ")[1].isdigit() else 0
        if status != 101:
            upstream_writer.close()
            reason = f"upstream {url} refused the connection: HTTP {status}"
            if status in _PASSED_STATUSES:
                extra = [(n, v) for n, v in response_headers if n.lower() == "www-authenticate"]
                raise HandshakeError(status, reason, extra)
            raise HandshakeError(502, reason)
        return (upstream_reader, upstream_writer, response,
                _header(response_headers, "Sec-WebSocket-Protocol"))

    def _refused(self, cp_id: str, remote: str | None, reason: str) -> None:
        record_refusal(self.hub, cp_id, "proxy", remote, reason, reason, level="error")

    @staticmethod
    async def _respond_error(writer, error: HandshakeError) -> None:
        phrase = {400: "Bad Request", 502: "Bad Gateway", 426: "Upgrade Required",
                  **_PASSED_STATUSES}.get(error.status, "Error")
        body = (error.reason + "\n").encode("utf-8")
        lines = [f"HTTP/1.1 {error.status} {phrase}", "Content-Type: text/plain; charset=utf-8",
                 f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{n}: {v}" for n, v in error.extra_headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            await asyncio.wait_for(writer.drain(), 5)
        except (ConnectionError, asyncio.TimeoutError):
            pass

    async def _relay(self, reader, writer, upstream_reader, upstream_writer, response: bytes,
                     subprotocol: str | None, cp_id: str, remote: str | None) -> None:
        writer.write(response)  # the CSMS's 101, unchanged
        _keepalive(writer, self.keepalive)
        _keepalive(upstream_writer, self.keepalive)
        monitor = open_connection(self.hub, cp_id, "proxy", subprotocol=subprotocol,
                                  version=version_of(subprotocol), remote_address=remote,
                                  max_size=self.max_size, call_timeout=self.call_timeout,
                                  validate_schemas=self.validate)
        self.active += 1
        self.idle.connections_now(self.active)
        lost = asyncio.get_running_loop().create_future()
        legs = (_Leg(self, monitor, TO_CSMS, writer.transport, upstream_writer.transport, lost),
                _Leg(self, monitor, TO_CHARGER, upstream_writer.transport, writer.transport, lost))
        expiry = asyncio.create_task(self._expire(monitor))
        try:
            for leg, stream in zip(legs, (reader, upstream_reader)):
                leg.take_over(stream)
            first = await lost
            direction = first.direction
            target = first.target
            if first.close is None and not target.is_closing():
                # the peer vanished without a close frame: tell the other side it went away
                target.write(close_frame(1001, "peer connection lost", masked=direction == TO_CSMS))
            # one side's TCP is gone, so nothing more can cross: flush and close the other
            # now (as a server does after the closing handshake) instead of waiting for it
            target.close()
        finally:
            expiry.cancel()
            for side in (writer, upstream_writer):
                side.close()
            for event in monitor.close():
                self.hub.publish(event)
            self.active -= 1
            self.idle.connections_now(self.active)
            self.rules.forget(monitor.connection.id)
            if self.interceptor is not None:
                self.interceptor.connection_closed(monitor.connection.id)
            first_close = legs[0].close or legs[1].close
            end_connection(self.hub, monitor.connection, first_close.code if first_close else 1006,
                           first_close.reason if first_close else "connection lost")

    async def _expire(self, monitor: ConnectionMonitor) -> None:
        # every second while a CALL waits for its answer; otherwise a quarter of the call
        # timeout (a CALL that comes meanwhile is still looked at well before its deadline),
        # so a proxy relaying thousands of quiet chargers does not wake for each every second
        timeout = monitor.call_timeout
        while True:
            busy = monitor.has_outstanding()
            await asyncio.sleep(min(1.0, timeout / 4) if busy else min(10.0, timeout / 4))
            for event in monitor.expire(time.time()):
                self.hub.publish(event)


class _Leg(asyncio.Protocol):
    """One direction of a relayed connection, as the protocol of its source socket.

    Bytes are written to the other socket inside data_received, before anything looks at
    them: no stream buffer, task wake-up or copy sits between arrival and forwarding.
    Flow control pairs the two sockets: when the target's send buffer is full asyncio
    pauses *its* protocol's writing, which pauses reading on this leg's source.
    """

    def __init__(self, proxy: Proxy, monitor: ConnectionMonitor, direction: str,
                 source: asyncio.Transport, target: asyncio.Transport, lost: asyncio.Future):
        self.hub, self.monitor, self.direction = proxy.hub, monitor, direction
        self.source, self.target, self._lost = source, target, lost
        self.frames = FrameReader(transport_limit(proxy.max_size))
        self.close: Close | None = None
        self.write_timeout = proxy.write_timeout
        self._stall: asyncio.TimerHandle | None = None
        self.rules, self.interceptor = proxy.rules, proxy.interceptor
        self.gate: RuleGate | None = None  # while rules watch this direction

    def take_over(self, stream: asyncio.StreamReader) -> None:
        """Become the source socket's protocol, relaying what the handshake reader held."""
        # asyncio offers no public way to take bytes a StreamReader already buffered (a
        # CSMS may send its first CALL in the same segment as its 101)
        leftover = bytes(stream._buffer)
        stream._buffer.clear()
        self.source.set_protocol(self)
        self.source.set_write_buffer_limits(high=_HIGH_WATER)
        if leftover:
            self.data_received(leftover)
        if stream.at_eof() or self.source.is_closing():
            self.connection_lost(stream.exception())
        elif not self.source.is_reading():
            self.source.resume_reading()  # the StreamReader may have paused it when full

    def data_received(self, data: bytes) -> None:
        received = time.time()
        if self.gate is not None or self.rules.watches(self.direction):
            self._through_gate(data, received)
            return
        delivered = not self.target.is_closing()
        if delivered:
            self.target.write(data)  # forward first: inspection never delays traffic
        self.inspect(data, received, delivered)

    def _through_gate(self, data: bytes, received: float) -> None:
        if self.gate is None:
            self.gate = RuleGate(self, self.rules, self.interceptor)
        self.gate.receive(data, received)
        if self.gate.idle and not self.rules.watches(self.direction):
            self.gate = None  # rules gone: back to the byte pipe

    def inspect(self, data: bytes, received: float, delivered: bool) -> None:
        """Read the bytes just forwarded: log each complete message, note close frames."""
        for event in self.frames.feed(data):
            self.log_event(event, received, delivered)

    @staticmethod
    def decoded(message: Message) -> tuple[str | bytes, bool]:
        """A message's text (bytes for a binary one), and whether its UTF-8 was broken."""
        if not message.text:
            return message.payload, False
        try:
            return message.payload.decode("utf-8"), False
        except UnicodeDecodeError:
            return message.payload.decode("utf-8", errors="replace"), True

    def log_event(self, event, received: float, delivered: bool) -> None:
        monitor = self.monitor
        if type(event) is Message:
            message, bad_utf8 = self.decoded(event)
            record = monitor.observe(self.direction, message, received)
            if bad_utf8:
                record.flags.append(Flag(flags.BAD_UTF8, "text frame is not valid UTF-8"))
            if not delivered:
                record.flags.append(Flag(flags.NOT_DELIVERED, "not delivered: the other side had closed"))
            self.hub.publish(FrameLogged(record))
        elif type(event) is Close:
            if self.close is None:
                self.close = event
        elif type(event) is Oversize:
            # never forward what is not logged: a flagged row with its size and head
            head = event.head.decode("utf-8", errors="replace") if event.text else \
                event.head.decode("latin-1")
            frame = codec.truncated(head, event.size, self.frames.max_message)
            record = monitor.observe(self.direction, frame, received)
            record.flags.append(Flag(flags.OVERSIZE, f"oversize: {event.size} bytes, logged truncated"))
            if not delivered:
                record.flags.append(Flag(flags.NOT_DELIVERED, "not delivered: the other side had closed"))
            self.hub.publish(FrameLogged(record))
        elif type(event) is StreamError:
            # a marker in the capture where the stream could not be read as messages
            frame = codec.unreadable(event.reason)
            record = monitor.observe(self.direction, frame, received)
            if event.fatal:
                record.flags.append(Flag(flags.INSPECTION_STOPPED,
                                         "inspection stopped: later frames of this direction "
                                         "are relayed but cannot be logged"))
            self.hub.publish(FrameLogged(record))
            self.hub.notice("warning", f"{monitor.connection.charge_point_id}: "
                            f"{event.reason}", "proxy")

    def eof_received(self) -> bool:
        return False  # the peer half-closed: close our side, connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        if not self._lost.done():
            self._lost.set_result(self)

    # the *target* of the other leg is this leg's source: when writing to our source
    # socket backs up, stop reading from the socket that feeds it
    def pause_writing(self) -> None:
        self.target.pause_reading()
        if self.write_timeout and self._stall is None:
            self._stall = asyncio.get_running_loop().call_later(self.write_timeout, self._stalled)

    def resume_writing(self) -> None:
        self.target.resume_reading()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def _stalled(self) -> None:
        """Our source's peer has not read for the write-stall timeout: drop both sides
        (forwarding cannot go on) and say why, in the capture and on the console."""
        self._stall = None
        who = "charger" if self.direction == TO_CSMS else "CSMS"
        reason = (f"the {who} stopped reading: nothing could be sent to it for "
                  f"{self.write_timeout:g} s; both sides dropped")
        info = self.monitor.connection
        info.note = f"{info.note}; {reason}" if info.note else reason
        self.hub.notice("warning", f"{info.charge_point_id}: {reason}", "proxy")
        self.source.abort()
        self.target.abort()
