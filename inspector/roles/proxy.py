"""The MITM proxy: relays each charger to the real CSMS, byte-exact, and logs every frame.

The upstream connection is opened during the charger's handshake (in `process_request`),
so the charger is answered with the subprotocol the CSMS chose, and a CSMS that is down
becomes a failed handshake (HTTP 502) instead of an accepted-then-dropped socket. Frames
are forwarded first and inspected after, so inspection never delays or alters traffic.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from http import HTTPStatus

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.frames import CloseCode

from ..events import ConnectionClosed as ConnectionClosedEvent, ConnectionOpened, FrameLogged
from ..events import TO_CHARGER, TO_CSMS
from ..monitor import ConnectionMonitor
from ..versions import version_of
from ..tls import ClientTls, ServerTls
from .common import (Listen, ListeningRole, charge_point_id_from_path, check_ws_url, remote_address,
                     transport_limit)

# Close codes that may not be sent in a close frame; mirror them as "going away".
_UNSENDABLE = {CloseCode.NO_STATUS_RCVD, CloseCode.ABNORMAL_CLOSURE, 1015}
_PASSED_STATUSES = {401, 403, 404}  # upstream answers the charger should see as they are


class Proxy(ListeningRole):
    def __init__(self, hub, listen: Listen, upstream: str, *, max_size: int = 1 << 20,
                 validate: bool = True, call_timeout: float = 30.0, open_timeout: float = 10.0,
                 listen_tls: ServerTls | None = None, upstream_tls: ClientTls | None = None,
                 ping_interval: float | None = 30.0):
        self.hub = hub
        self.listen = listen
        self.upstream = check_ws_url(upstream).rstrip("/")
        # the two sides do TLS independently: charger→proxy with our certificate,
        # proxy→CSMS with the CSMS's trust and, for profile 3, our client certificate
        self.listen_tls = listen_tls
        # WebSocket pings on both sides find half-open connections (a charger whose network
        # vanished without a FIN); they are control frames, so OCPP traffic is untouched
        self.ping_interval = ping_interval
        # a half-open peer never completes the closing handshake: do not wait longer for it
        # than for a pong
        self._close_timeout = min(10.0, ping_interval) if ping_interval else 10.0
        if upstream_tls and not self.upstream.startswith("wss://"):
            raise ValueError(f"upstream TLS options given but {upstream} is not a wss:// URL")
        self._upstream_ssl = ((upstream_tls or ClientTls()).context()
                              if self.upstream.startswith("wss://") else None)
        self.max_size = max_size
        self.validate = validate
        self.call_timeout = call_timeout
        self.open_timeout = open_timeout
        self._server = None
        self._upstreams: dict[int, object] = {}  # id(server connection) -> upstream connection
        self.active = 0

    async def start(self) -> None:
        self._server = await serve(
            self._relay, self.listen.host, self.listen.port, process_request=self._open_upstream,
            select_subprotocol=self._select_subprotocol, max_size=transport_limit(self.max_size),
            ssl=self.listen_tls.context() if self.listen_tls else None,
            compression=None, ping_interval=self.ping_interval, ping_timeout=self.ping_interval,
            close_timeout=self._close_timeout)
        self.hub.notice("info", f"proxy listening on {self.url} -> {self.upstream}/", "proxy")

    def _upstream_url(self, path: str) -> str:
        return self.upstream + (path if path.startswith("/") else "/" + path)

    async def _open_upstream(self, connection, request):
        url = self._upstream_url(request.path)
        offered = [p.strip() for value in request.headers.get_all("Sec-WebSocket-Protocol")
                   for p in value.split(",") if p.strip()]
        headers = {}
        if "Authorization" in request.headers:
            headers["Authorization"] = request.headers["Authorization"]
        try:
            upstream = await connect(url, subprotocols=offered or None, additional_headers=headers,
                                     max_size=transport_limit(self.max_size), compression=None,
                                     ping_interval=self.ping_interval,
                                     ping_timeout=self.ping_interval, open_timeout=self.open_timeout,
                                     close_timeout=self._close_timeout,
                                     ssl=self._upstream_ssl)
        except InvalidStatus as exc:
            status = exc.response.status_code
            reason = f"upstream {url} refused the connection: HTTP {status}"
            code = status if status in _PASSED_STATUSES else HTTPStatus.BAD_GATEWAY
            return self._refuse(connection, request, code, reason)
        except ssl.SSLError as exc:
            return self._refuse(connection, request, HTTPStatus.BAD_GATEWAY,
                                f"TLS handshake with upstream {url} failed: {exc.reason or exc}")
        except (OSError, asyncio.TimeoutError, InvalidHandshake) as exc:
            detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or "timed out")
            return self._refuse(connection, request, HTTPStatus.BAD_GATEWAY,
                                f"upstream {url} unavailable: {detail}")
        self._upstreams[id(connection)] = upstream
        return None

    def _refuse(self, connection, request, status, reason: str):
        now = time.time()
        info = self.hub.new_connection(charge_point_id_from_path(request.path), "proxy",
                                       remote_address=remote_address(connection), opened_at=now,
                                       closed_at=now, note=reason)
        self.hub.publish(ConnectionOpened(info))
        self.hub.publish(ConnectionClosedEvent(info))
        self.hub.notice("error", reason, "proxy")
        return connection.respond(status, reason + "\n")

    def _select_subprotocol(self, connection, offered):
        upstream = self._upstreams.get(id(connection))
        return upstream.subprotocol if upstream is not None else None

    async def _relay(self, charger) -> None:
        upstream = self._upstreams.pop(id(charger))
        info = self.hub.new_connection(
            charge_point_id_from_path(charger.request.path), "proxy", subprotocol=charger.subprotocol,
            version=version_of(charger.subprotocol), remote_address=remote_address(charger),
            opened_at=time.time())
        self.hub.publish(ConnectionOpened(info))
        monitor = ConnectionMonitor(info, self.hub.next_seq, max_size=self.max_size,
                                    call_timeout=self.call_timeout, validate_schemas=self.validate)
        self.active += 1
        pumps = [asyncio.create_task(self._pump(charger, upstream, TO_CSMS, monitor)),
                 asyncio.create_task(self._pump(upstream, charger, TO_CHARGER, monitor))]
        expiry = asyncio.create_task(self._expire(monitor))
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            first = done.pop()
            source, target = (charger, upstream) if first is pumps[0] else (upstream, charger)
            code = source.close_code or CloseCode.ABNORMAL_CLOSURE
            reason = source.close_reason or ""
            if code in _UNSENDABLE:
                code, reason = CloseCode.GOING_AWAY, reason or "peer connection lost"
            await target.close(code, reason)
            await asyncio.wait(pumps, timeout=5)
        finally:
            for task in (*pumps, expiry):
                task.cancel()
            for event in monitor.close():
                self.hub.publish(event)
            self.active -= 1
            info.closed_at = time.time()
            # record what the charger side saw (mirrors the CSMS when the CSMS closed first)
            info.close_code = charger.close_code or upstream.close_code
            info.close_reason = charger.close_reason or upstream.close_reason or None
            self.hub.publish(ConnectionClosedEvent(info))

    async def _pump(self, source, target, direction: str, monitor: ConnectionMonitor) -> None:
        publish = self.hub.publish
        try:
            async for message in source:
                received = time.time()
                try:
                    await target.send(message)  # str stays a text frame, bytes a binary one
                except ConnectionClosed:
                    # still log what we could not deliver, then stop this direction
                    record = monitor.observe(direction, message, received)
                    record.flags.append("not delivered: the other side had closed")
                    publish(FrameLogged(record))
                    return
                publish(FrameLogged(monitor.observe(direction, message, received)))
        except ConnectionClosed:
            pass

    async def _expire(self, monitor: ConnectionMonitor) -> None:
        while True:
            await asyncio.sleep(min(1.0, monitor.call_timeout / 4))
            for event in monitor.expire(time.time()):
                self.hub.publish(event)
