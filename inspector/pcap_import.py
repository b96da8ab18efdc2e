"""`log import --pcap`: OCPP-J over ws:// in a Wireshark capture (pcap or pcapng) turned into
a capture file, with connections, directions and the packets' times.

Packets are read with scapy (pcap and pcapng, Ethernet / Linux cooked / raw IP, IPv4 and
IPv6, TCP). Each TCP connection's two byte streams are put back together the way a receiver
does (in sequence order; retransmissions dropped; a segment that came early waits for the
gap before it); a connection whose client opened a WebSocket and got 101 is read with the
proxy's own frame reader and logged message by message through the same pairing and
validation as live traffic, at the time of the packet that completed each message. A gap
the capture never fills (packets the capture lost) is a marker frame in the log, and that
direction stops being read there. Anything that is not a WebSocket upgrade is skipped and
counted; a refused upgrade (401, 404, ...) is logged as a refused connection.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

from . import codec, flags
from .events import (TO_CHARGER, TO_CSMS, ConnectionClosed, ConnectionOpened, FrameLogged)
from .flags import Flag
from .monitor import ConnectionMonitor
from .pcap_tls import looks_like_tls
from .tcp_streams import TcpDirection
from .roles.common import charge_point_id_from_path
from .versions import version_of
from .wsframes import Close, FrameReader, Message, Oversize, StreamError

ROLE = "pcap"
_HEAD_LIMIT = 64 * 1024
_MAX_MESSAGE = 16 << 20


class PcapError(ValueError):
    """A file that cannot be read as a capture (one line for the user)."""


@dataclass
class ImportSummary:
    packets: int = 0
    tcp_connections: int = 0
    websockets: int = 0
    refused: int = 0
    skipped: int = 0  # TCP connections that were not WebSocket upgrades
    tls_unread: int = 0  # wss:// connections not read (no key log, or no key for them)
    frames: int = 0
    gaps: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"{self.packets} packet(s), {self.tcp_connections} TCP connection(s): "
                f"{self.websockets} WebSocket(s) with {self.frames} frame(s), {self.refused} "
                f"refused upgrade(s), {self.skipped} other connection(s) skipped"
                + (f", {self.tls_unread} TLS connection(s) not read" if self.tls_unread else "")
                + (f", {self.gaps} gap(s) where packets were missing" if self.gaps else ""))


# ---- one TCP connection: HTTP upgrade, then WebSocket frames ---------------------------------

class _Connection:
    def __init__(self, importer: "PcapImport", client: tuple, server: tuple):
        self.importer, self.client, self.server = importer, client, server
        self.directions = {TO_CSMS: TcpDirection(), TO_CHARGER: TcpDirection()}
        self.heads = {TO_CSMS: bytearray(), TO_CHARGER: bytearray()}
        self.state = "http"  # -> "websocket" | "skipped" | "refused"
        self.readers = {TO_CSMS: FrameReader(_MAX_MESSAGE), TO_CHARGER: FrameReader(_MAX_MESSAGE)}
        self.waiting = {TO_CSMS: bytearray(), TO_CHARGER: bytearray()}  # bytes after a head
        self.request: tuple[str, list] | None = None
        self.monitor: ConnectionMonitor | None = None
        self.info = None
        self.closes: dict[str, Close] = {}
        self.last_time = 0.0
        self.broken: set[str] = set()
        self.inflate: _Inflate | None = None
        self.tls = None  # a TlsDecryptor on wss:// connections (False: no key log given)
        self.tls_broken: set[str] = set()  # directions whose TLS cannot be read further

    def packet(self, direction: str, seq: int, data: bytes, syn: bool, when: float) -> None:
        self.last_time = when
        for piece in self.directions[direction].receive(seq, data, syn):
            self.stream_in(direction, piece, when)

    def stream_in(self, direction: str, data: bytes | None, when: float) -> None:
        """Reassembled bytes: through TLS first when the connection is wss://."""
        if self.tls is None and data and direction == TO_CSMS and self.state == "http" \
                and not self.heads[TO_CSMS] and looks_like_tls(data):
            self.tls = self.importer.tls_for(self)
            if self.tls is False:
                self.state = "tls"  # no key log: counted, not read
        if not self.tls:
            self.bytes_in(direction, data, when)
            return
        if direction in self.tls_broken:
            return
        if data is None:  # a gap: the records after it cannot be decrypted either
            self.tls_broken.add(direction)
            self.bytes_in(direction, None, when)
            return
        try:
            plaintexts = self.tls.feed(direction, data)
        except Exception as exc:  # noqa: BLE001 - scapy failing on a record: say so, go on
            self.importer.summary.notes.append(f"TLS from {self.client[0]}:{self.client[1]} "
                                               f"could not be read further: {exc}")
            self.tls_broken.add(direction)
            self.bytes_in(direction, None, when)
            return
        for plaintext in plaintexts:
            self.bytes_in(direction, plaintext, when)

    def bytes_in(self, direction: str, data: bytes | None, when: float) -> None:
        if self.state not in ("http", "websocket"):
            return
        if data is None:  # a gap: frames cannot be delimited after it
            self.importer.summary.gaps += 1
            if self.state == "websocket" and direction not in self.broken:
                self.broken.add(direction)
                self._marker(direction, "bytes missing from the capture (packets lost): this "
                                        "direction cannot be read further", when, fatal=True)
            elif self.state == "http":
                self.state = "skipped"
            return
        if self.state == "http":
            self._http(direction, data, when)
        elif direction not in self.broken:
            self._frames(direction, data, when)

    def _http(self, direction: str, data: bytes, when: float) -> None:
        head = self.heads[direction]
        head += data
        end = head.find(b"\r\n\r\n")
        if end < 0:
            if len(head) > _HEAD_LIMIT:
                self.state = "skipped"
            return
        rest = bytes(head[end + 4:])
        del head[end + 4:]
        self.waiting[direction] += rest
        if direction == TO_CSMS and self.request is None:
            line, headers = _parse_head(bytes(head))
            if not line.startswith("GET ") or (_header(headers, "upgrade") or "").lower() != "websocket":
                self.state = "skipped"
                return
            self.request = (line.split(" ")[1] if line.count(" ") >= 2 else "/", headers)
            self.opened_at = when
        elif direction == TO_CHARGER and self.request is not None:
            line, headers = _parse_head(bytes(head))
            self._answered(line, headers, when)

    def _answered(self, status_line: str, headers, when: float) -> None:
        path, request_headers = self.request
        cp_id = charge_point_id_from_path(path)
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        hub = self.importer.hub
        remote = f"{self.client[0]}:{self.client[1]}"
        if status != 101:
            self.state = "refused"
            self.importer.summary.refused += 1
            info = hub.new_connection(cp_id, ROLE, remote_address=remote, opened_at=self.opened_at,
                                      closed_at=when, note=f"refused: HTTP {status_line[9:].strip()}")
            hub.publish(ConnectionOpened(info))
            hub.publish(ConnectionClosed(info))
            return
        subprotocol = _header(headers, "sec-websocket-protocol")
        self.inflate = _Inflate.negotiated(_header(headers, "sec-websocket-extensions"))
        if self.inflate is not None:
            self.readers = {d: FrameReader(_MAX_MESSAGE, compressed_ok=True)
                            for d in (TO_CSMS, TO_CHARGER)}
        self.info = hub.new_connection(cp_id, ROLE, subprotocol=subprotocol,
                                       version=version_of(subprotocol), remote_address=remote,
                                       opened_at=self.opened_at)
        hub.publish(ConnectionOpened(self.info))
        self.monitor = ConnectionMonitor(self.info, hub.next_seq, max_size=_MAX_MESSAGE)
        self.state = "websocket"
        self.importer.summary.websockets += 1
        for direction in (TO_CSMS, TO_CHARGER):
            waiting, self.waiting[direction] = bytes(self.waiting[direction]), bytearray()
            if waiting:
                self._frames(direction, waiting, when)

    def _frames(self, direction: str, data: bytes, when: float) -> None:
        if self.monitor is None:  # server bytes before the answer's head: kept for later
            self.waiting[direction] += data
            return
        for event in self.readers[direction].feed(data):
            kind = type(event)
            if kind is Message:
                text = event.payload
                if event.compressed:
                    try:
                        text = self.inflate.message(direction, text)
                    except Exception as exc:  # noqa: BLE001 - zlib.error and friends
                        self._marker(direction, f"a compressed message could not be inflated "
                                                f"({exc})", when, fatal=True)
                        return
                bad = False
                if event.text:
                    try:
                        text = text.decode("utf-8")
                    except UnicodeDecodeError:
                        text, bad = text.decode("utf-8", errors="replace"), True
                record = self.monitor.observe(direction, text, when)
                if bad:
                    record.flags.append(Flag(flags.BAD_UTF8, "text frame is not valid UTF-8"))
                self._publish(record)
            elif kind is Close:
                self.closes.setdefault(direction, event)
            elif kind is Oversize:
                head = event.head.decode("utf-8", errors="replace")
                record = self.monitor.observe(direction, codec.truncated(head, event.size,
                                                                         _MAX_MESSAGE), when)
                record.flags.append(Flag(flags.OVERSIZE, f"oversize: {event.size} bytes, "
                                                         f"logged truncated"))
                self._publish(record)
            elif kind is StreamError:
                self._marker(direction, event.reason, when, fatal=event.fatal)

    def _marker(self, direction: str, reason: str, when: float, *, fatal: bool) -> None:
        record = self.monitor.observe(direction, codec.unreadable(reason), when)
        if fatal:
            record.flags.append(Flag(flags.INSPECTION_STOPPED, "inspection stopped: later frames "
                                     "of this direction are in the capture but cannot be read"))
            self.broken.add(direction)
        self._publish(record)

    def _publish(self, record) -> None:
        self.importer.summary.frames += 1
        self.importer.hub.publish(FrameLogged(record))

    def finish(self) -> None:
        for direction, stream in self.directions.items():
            for piece in stream.flush():
                self.stream_in(direction, piece, self.last_time)
        if self.state != "websocket":
            summary = self.importer.summary
            if self.state == "tls":
                summary.tls_unread += 1
            elif self.tls and self.state in ("http", "skipped"):
                summary.tls_unread += 1
                summary.notes.append(f"wss:// from {self.client[0]}:{self.client[1]} to "
                                     f"{self.server[0]}:{self.server[1]} could not be decrypted "
                                     f"(is its secret in the key log?)")
            elif self.state in ("http", "skipped"):
                summary.skipped += 1
            return
        hub = self.importer.hub
        for event in self.monitor.close():
            hub.publish(event)
        close = self.closes.get(TO_CSMS) or self.closes.get(TO_CHARGER)
        self.info.closed_at = self.last_time
        self.info.close_code = close.code if close else 1006
        self.info.close_reason = close.reason if close else "no close frame in the capture"
        hub.publish(ConnectionClosed(self.info))


class _Inflate:
    """permessage-deflate (RFC 7692), when the upgrade negotiated it: one inflater per
    direction, kept across messages unless that side said no_context_takeover."""

    def __init__(self, fresh: dict[str, bool]):
        self.fresh = fresh
        self.inflaters: dict[str, object] = {}

    @classmethod
    def negotiated(cls, header: str | None) -> "_Inflate | None":
        if not header or "permessage-deflate" not in header:
            return None
        params = {p.strip().split("=")[0] for p in header.split(";")}
        return cls({TO_CSMS: "client_no_context_takeover" in params,
                    TO_CHARGER: "server_no_context_takeover" in params})

    def message(self, direction: str, payload: bytes) -> bytes:
        import zlib
        inflater = self.inflaters.get(direction)
        if inflater is None or self.fresh[direction]:
            inflater = self.inflaters[direction] = zlib.decompressobj(-zlib.MAX_WBITS)
        return inflater.decompress(payload + b"\x00\x00\xff\xff", _MAX_MESSAGE)


def _parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return lines[0], headers


def _header(headers, name: str) -> str | None:
    return next((v for n, v in headers if n.lower() == name), None)


# ---- the file ---------------------------------------------------------------------------------

class PcapImport:
    def __init__(self, hub, keylog=None):
        self.hub = hub
        self.keys = None
        if keylog is not None:
            from .pcap_tls import load_keys
            try:
                self.keys = load_keys(keylog)
            except (OSError, ValueError) as exc:
                raise PcapError(f"cannot use the key log {keylog}: {exc}") from None
        self.summary = ImportSummary()
        self.connections: dict[tuple, _Connection] = {}
        self._order: list[_Connection] = []

    def read(self, path: str | Path) -> ImportSummary:
        try:
            import logging
            logging.getLogger("scapy.runtime").setLevel(logging.ERROR)  # we say what matters
            # the link layers register with the reader as they are imported: Ethernet and
            # Linux cooked capture (l2), raw IPv4 / IPv6 (inet, inet6)
            for layer in ("scapy.layers.l2", "scapy.layers.inet", "scapy.layers.inet6"):
                importlib.import_module(layer)
            from scapy.error import Scapy_Exception
            from scapy.utils import PcapReader
        except ImportError:  # pragma: no cover - a build without it
            raise PcapError("reading pcap files needs scapy (pip install scapy)") from None
        try:
            reader = PcapReader(str(path))
        except (OSError, Scapy_Exception) as exc:
            raise PcapError(f"cannot read {path} as pcap or pcapng: {exc}") from None
        try:
            for packet in reader:
                self.summary.packets += 1
                self._packet(packet)
        except Scapy_Exception as exc:
            self.summary.notes.append(f"the file ends early: {exc}")
        finally:
            reader.close()
        for connection in self._order:
            connection.finish()
        self.summary.tcp_connections = len(self._order)
        if self.summary.packets and not self._order:
            self.summary.notes.append("no TCP in this capture (or a link layer scapy cannot "
                                      "decode): nothing to read")
        return self.summary

    def tls_for(self, connection: "_Connection"):
        """A decryptor for a wss:// connection, or False without a key log."""
        if self.keys is None:
            if not any("--keylog" in note for note in self.summary.notes):
                self.summary.notes.append("wss:// (TLS) connections are in this capture: give "
                                          "the key log the charger or CSMS wrote (--keylog "
                                          "FILE, SSLKEYLOGFILE) to read them")
            return False
        from .pcap_tls import TlsDecryptor
        return TlsDecryptor(self.keys)

    def _packet(self, packet) -> None:
        from scapy.layers.inet import IP, TCP
        from scapy.layers.inet6 import IPv6
        if TCP not in packet:
            return
        ip = packet[IP] if IP in packet else packet[IPv6] if IPv6 in packet else None
        if ip is None:
            return
        tcp = packet[TCP]
        source, target = (ip.src, tcp.sport), (ip.dst, tcp.dport)
        data = bytes(tcp.payload)
        syn = bool(tcp.flags & 0x02)
        key = frozenset((source, target))
        connection = self.connections.get(key)
        if connection is None or (syn and not tcp.flags & 0x10 and connection.state != "http"):
            if not data and not syn:
                return  # a bare ACK of a connection that began before the capture
            client, server = (source, target)
            if not syn and not data.startswith(b"GET "):
                # mid-connection: the side sending "HTTP/1.1" is the server
                if data.startswith(b"HTTP/"):
                    client, server = target, source
            if syn and tcp.flags & 0x10:  # SYN-ACK: the sender is the server
                client, server = target, source
            connection = _Connection(self, client, server)
            self.connections[key] = connection
            self._order.append(connection)
        direction = TO_CSMS if source == connection.client else TO_CHARGER
        connection.packet(direction, tcp.seq, data, syn, float(packet.time))


def import_pcap(path, hub, keylog=None) -> ImportSummary:
    return PcapImport(hub, keylog).read(path)
