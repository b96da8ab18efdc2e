"""Reading WebSocket frames from a byte stream, sans-I/O (RFC 6455, no extensions).

The proxy relays raw bytes between charger and CSMS and only *reads* the stream beside
that, so what it forwards is exactly what arrived (masking, fragmentation, pings and
close frames included). `FrameReader.feed()` takes whatever bytes arrived and returns the
complete messages and control frames they finished.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass

try:  # websockets' C helper: unmasking in Python was the proxy's costliest per-frame step
    from websockets.speedups import apply_mask as _unmask
except ImportError:  # pragma: no cover - a build without the C extension
    from websockets.utils import apply_mask as _unmask

OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


@dataclass(slots=True)
class Message:
    """A complete data message: text (UTF-8 bytes) or binary (one per frame, so not frozen:
    a frozen dataclass's __init__ is three times slower)."""

    text: bool
    payload: bytes


@dataclass(frozen=True, slots=True)
class Close:
    code: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class StreamError:
    """The stream is not valid WebSocket framing; inspection stops, forwarding does not."""

    reason: str


class FrameReader:
    """Incremental frame parser for one direction of a connection."""

    def __init__(self, max_message: int):
        self.max_message = max_message
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self._fragment_size = 0
        self.broken: str | None = None

    def feed(self, data: bytes) -> list:
        if self.broken:
            return []
        # the usual read holds whole frames: parse it in place and keep only a tail
        buffer = data
        if self._buffer:
            self._buffer += data
            buffer = self._buffer
        events = []
        position = 0
        while True:
            frame = self._next_frame(buffer, position)
            if frame is None:
                break
            if isinstance(frame, StreamError):
                self.broken = frame.reason
                self._buffer = bytearray()
                events.append(frame)
                return events
            fin, opcode, payload, position = frame
            event = self._assemble(fin, opcode, payload)
            if event is not None:
                events.append(event)
        if buffer is self._buffer:
            del buffer[:position]
        elif position < len(data):
            self._buffer = bytearray(data[position:])
        return events

    def _next_frame(self, buffer, start: int):
        available = len(buffer) - start
        if available < 2:
            return None
        first, second = buffer[start], buffer[start + 1]
        fin, opcode, masked, length = first & 0x80, first & 0x0F, second & 0x80, second & 0x7F
        offset = 2
        if length == 126:
            if available < 4:
                return None
            length = struct.unpack_from("!H", buffer, start + 2)[0]
            offset = 4
        elif length == 127:
            if available < 10:
                return None
            length = struct.unpack_from("!Q", buffer, start + 2)[0]
            offset = 10
        if first & 0x70:
            return StreamError("reserved bits set (an extension nobody negotiated)")
        if length > self.max_message:
            return StreamError(f"frame of {length} bytes is too large to inspect")
        if masked:
            if available < offset + 4:
                return None
            offset += 4
        end = offset + length
        if available < end:
            return None
        if masked:
            mask = bytes(buffer[start + offset - 4:start + offset])
            payload = _unmask(memoryview(buffer)[start + offset:start + end], mask)
        else:
            payload = bytes(buffer[start + offset:start + end])
        return bool(fin), opcode, payload, start + end

    def _assemble(self, fin: bool, opcode: int, payload: bytes):
        if opcode == OP_CLOSE:
            if len(payload) >= 2:
                code = struct.unpack_from("!H", payload)[0]
                return Close(code, payload[2:].decode("utf-8", errors="replace"))
            return Close(None, "")
        if opcode in (OP_PING, OP_PONG):
            return None
        if opcode in (OP_TEXT, OP_BINARY):
            if self._fragments:
                return StreamError("new message before the previous one ended")
            if fin:
                return Message(opcode == OP_TEXT, payload)
            self._fragments, self._fragment_text, self._fragment_size = [payload], opcode == OP_TEXT, len(payload)
            return None
        if opcode == OP_CONTINUATION:
            if not self._fragments:
                return StreamError("continuation frame without a message")
            self._fragments.append(payload)
            self._fragment_size += len(payload)
            if self._fragment_size > self.max_message:
                return StreamError(f"message of over {self.max_message} bytes is too large to inspect")
            if fin:
                message = Message(self._fragment_text, b"".join(self._fragments))
                self._fragments = []
                return message
            return None
        return StreamError(f"unknown opcode {opcode}")


def close_frame(code: int, reason: str, *, masked: bool) -> bytes:
    """A close frame we send ourselves when a peer vanished without one."""
    body = struct.pack("!H", code) + reason.encode("utf-8")[:123]
    if not masked:
        return bytes([0x88, len(body)]) + body
    mask = os.urandom(4)
    return bytes([0x88, 0x80 | len(body)]) + mask + _unmask(body, mask)
