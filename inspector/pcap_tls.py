"""wss:// in a pcap: TLS records decrypted with the session keys of a key log file
(SSLKEYLOGFILE, NSS format), by scapy's TLS layer (TLS 1.2 and 1.3).

The records are cut from each direction's reassembled bytes (5-byte headers) and handed to
scapy in the order they travelled, on one TLS session seen from the receiving side, so it
follows the handshake, derives the traffic keys from the key log and decrypts the
application data, which goes on to the HTTP upgrade and WebSocket reading like ws:// bytes.
"""

from __future__ import annotations

import struct

from .events import TO_CSMS

_HANDSHAKE = 22


def looks_like_tls(first_bytes: bytes) -> bool:
    """A ClientHello record starts every TLS connection: 0x16 0x03 0x0X."""
    return len(first_bytes) >= 3 and first_bytes[0] == _HANDSHAKE and first_bytes[1] == 3


def load_keys(path):
    """The key log's secrets, in the form scapy's TLS session takes (ValueError if unreadable)."""
    from scapy.layers.tls.session import load_nss_keys
    keys = load_nss_keys(str(path))
    if not keys:
        raise ValueError(f"{path} holds no TLS secrets (NSS key log format, as SSLKEYLOGFILE writes)")
    return keys


class TlsDecryptor:
    """One TCP connection's TLS, both directions: bytes in, plaintext out."""

    def __init__(self, keys):
        from scapy.layers.tls.session import tlsSession
        # the first record is the client's, read by the server: the session starts there
        self.session = tlsSession(connection_end="server")
        self.session.nss_keys = keys
        self.last_direction = TO_CSMS
        self.buffers = {TO_CSMS: bytearray(), "to_charger": bytearray()}
        self.decrypted = False  # any application data came out readable

    def feed(self, direction: str, data: bytes) -> list[bytes]:
        """Plaintext application data completed by these bytes (in order)."""
        from scapy.layers.tls.record import TLS, TLSApplicationData
        buffer = self.buffers[direction]
        buffer += data
        out = []
        while len(buffer) >= 5:
            length = struct.unpack_from("!H", buffer, 3)[0]
            if len(buffer) < 5 + length:
                break
            record = bytes(buffer[:5 + length])
            del buffer[:5 + length]
            if direction != self.last_direction:
                self.session = self.session.mirror()
                self.last_direction = direction
            parsed = TLS(record, tls_session=self.session)
            self.session = parsed.tls_session
            if TLSApplicationData in parsed:
                out.append(bytes(parsed[TLSApplicationData].data))
        return out
