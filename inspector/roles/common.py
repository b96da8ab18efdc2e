"""Small pieces the roles share: listen addresses, charge point ids from paths, close info."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class ChargerError(Exception):
    """A simulated charger's failure the user should read in one line (exit code 1)."""


@dataclass(frozen=True)
class Listen:
    host: str = "127.0.0.1"
    port: int = 9000

    @classmethod
    def parse(cls, text: str) -> "Listen":
        """'HOST:PORT', ':PORT' or 'PORT'. Loopback unless a host is named explicitly."""
        text = text.strip()
        host, sep, port = text.rpartition(":")
        if not sep:
            host, port = "", text
        host = host.strip("[]") or "127.0.0.1"
        try:
            number = int(port)
        except ValueError:
            raise ValueError(f"bad listen address {text!r}: expected HOST:PORT, e.g. 127.0.0.1:9000") from None
        if not 0 <= number <= 65535:
            raise ValueError(f"bad listen address {text!r}: port must be 0-65535")
        return cls(host, number)

    @property
    def display_host(self) -> str:
        return "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host


def check_ws_url(url: str) -> str:
    """Reject what is not a ws:// or wss:// URL with a readable message."""
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"bad URL {url!r}: expected ws://HOST:PORT/PATH or wss://...")
    try:
        parts.port
    except ValueError:
        raise ValueError(f"bad URL {url!r}: the port is not a number") from None
    return url


def check_station_url(url: str) -> str:
    """A URL a charging station connects to: ws(s)://HOST:PORT/.../<charge point id>."""
    check_ws_url(url)
    if not urlsplit(url).path.strip("/"):
        raise ValueError(f"bad URL {url!r}: it must end in the charge point id, "
                         f"e.g. {url.rstrip('/')}/CP001")
    return url


def charge_point_id_from_path(path: str) -> str:
    """The last path segment is the charge point id (query strings ignored)."""
    tail = urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1]
    return unquote(tail) or "(no id)"


def remote_address(websocket) -> str | None:
    address = websocket.remote_address
    if not address:
        return None
    return f"{address[0]}:{address[1]}"


def open_connection(hub, charge_point_id: str, role: str, *, subprotocol: str | None,
                    version: str | None, remote_address: str | None, **monitor_options):
    """A connection's life begins: its record (numbered by the hub) is published and its
    monitor, which numbers, pairs and checks its frames, is returned (`monitor.connection`
    is the record). Every role and the suite engine open connections here."""
    from ..events import ConnectionOpened
    from ..monitor import ConnectionMonitor
    info = hub.new_connection(charge_point_id, role, subprotocol=subprotocol, version=version,
                              remote_address=remote_address, opened_at=time.time())
    hub.publish(ConnectionOpened(info))
    return ConnectionMonitor(info, hub.next_seq, **monitor_options)


def end_connection(hub, info, code: int | None, reason: str | None) -> None:
    """A connection's life ends: when, how (close code and reason), published."""
    from ..events import ConnectionClosed
    info.closed_at = time.time()
    info.close_code = code
    info.close_reason = reason or None
    hub.publish(ConnectionClosed(info))


def end_websocket_connection(hub, info, websocket) -> None:
    """`end_connection` with the close code and reason the WebSocket ended with."""
    end_connection(hub, info, websocket.close_code, websocket.close_reason)


def record_refusal(hub, charge_point_id: str, role: str, remote: str | None, note: str,
                   notice: str, level: str = "warning") -> None:
    """A connection ended at once, where the user looks: a record in the capture (opened and
    closed together, the reason as its note) and a line on the console."""
    from ..events import ConnectionClosed, ConnectionOpened
    now = time.time()
    info = hub.new_connection(charge_point_id, role, remote_address=remote, opened_at=now,
                              closed_at=now, note=note)
    hub.publish(ConnectionOpened(info))
    hub.publish(ConnectionClosed(info))
    hub.notice(level, notice, role)


def refuse_handshake(hub, connection, charge_point_id: str, role: str, status: int, reason: str):
    """Refuse an opening handshake with HTTP `status`, recorded (`record_refusal`). Returns
    the response for websockets' process_request."""
    from http import HTTPStatus
    record_refusal(hub, charge_point_id, role, remote_address(connection),
                   f"refused (HTTP {status}): {reason}",
                   f"{charge_point_id}: refused with HTTP {status}, {reason}")
    phrase = HTTPStatus(status).phrase
    response = connection.respond(status, f"{status} {phrase}\n")
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
    return response


def transport_limit(max_size: int) -> int:
    """The WebSocket layer's hard cap on a message.

    OCPP's configured limit (`max_size`) is a verdict, not a wall: frames above it are
    still received (and, by the proxy, forwarded) and then flagged as oversize. The hard
    cap only protects memory.
    """
    return max(16 << 20, 4 * max_size)


class ListeningRole:
    """What the proxy and the fake CSMS share as WebSocket servers: address, URL, stop."""

    listen: Listen
    listen_tls = None  # inspector.tls.ServerTls when chargers connect with wss://
    idle = None  # inspector.memory.IdleRelease
    _server = None

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        scheme = "wss" if self.listen_tls else "ws"
        return f"{scheme}://{self.listen.display_host}:{self.port}/"

    async def stop(self) -> None:
        if self.idle is not None:
            self.idle.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        await self._server.serve_forever()
