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
    # where its frames lie in the stream fed (byte offsets, end exclusive): a proxy acting
    # on a message forwards the bytes around it untouched and replaces just these
    start: int = 0
    end: int = 0
    compressed: bool = False  # RSV1: permessage-deflate (only when the reader accepts it)


@dataclass(frozen=True, slots=True)
class Close:
    code: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class StreamError:
    """Something in the stream is not valid WebSocket framing. Forwarding never stops; the
    reader resumes at the next frame it can delimit (`fatal` only when it cannot: then
    nothing more of this direction can be read)."""

    reason: str
    fatal: bool = False


@dataclass(slots=True)
class Oversize:
    """A data message above the inspection limit: forwarded whole, read only in part."""

    text: bool
    size: int  # bytes of the whole message
    head: bytes  # its first HEAD_KEPT bytes, for the log


HEAD_KEPT = 512


@dataclass(slots=True)
class _Skip:
    """A frame whose payload is passed unread (too large to inspect, or undecodable)."""

    fin: bool
    opcode: int
    length: int
    start: int
    offset: int  # header size: the payload begins at start + offset
    mask: bytes | None
    problem: str = ""


class FrameReader:
    """Incremental frame parser for one direction of a connection."""

    def __init__(self, max_message: int, *, compressed_ok: bool = False):
        self.max_message = max_message
        # permessage-deflate was negotiated (a capture read afterwards; the proxy drops the
        # offer): RSV1 marks a compressed message instead of an unreadable frame
        self._reserved = 0x30 if compressed_ok else 0x70
        self._rsv1 = False
        self._message_compressed = False
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_text = False
        self._fragment_size = 0
        self._skipping = 0  # payload bytes of an oversize frame still to pass unread
        self._skip_mask: bytes | None = None  # that frame's mask, and how far into it we are
        self._skip_done = 0
        self._oversize: Oversize | None = None  # the oversize message being skipped
        self._oversize_fin = False  # its last frame is the one being skipped
        self.broken: str | None = None
        self.fed = 0  # bytes fed so far (stream offset of the next byte)
        self._frame_start = self._frame_end = 0  # the frame being assembled
        self._message_start = 0  # the first frame of a fragmented message
        self._unparsed = 0  # offset of the first byte no complete frame has covered yet

    @property
    def settled(self) -> int:
        """Stream offset before which no data message is still incomplete: bytes up to here
        can be forwarded without cutting into a message a rule may yet act on (an oversize
        message is never held: rules cannot read it)."""
        if self.broken or self._skipping or self._oversize is not None:
            return self.fed
        if self._fragments:
            return self._message_start
        return self._unparsed

    def feed(self, data: bytes) -> list:
        origin = self.fed  # stream offset of data[0]
        self.fed += len(data)
        if self.broken:
            return []
        events = []
        if self._skipping:  # the rest of an oversize frame: pass it unread
            taken = self._skip(data, 0, events)
            data = data[taken:]
            origin += taken
            if self._skipping:
                return events
        # the usual read holds whole frames: parse it in place and keep only a tail
        buffer = data
        base = origin
        if self._buffer:
            base -= len(self._buffer)
            self._buffer += data
            buffer = self._buffer
        position = 0
        while True:
            self._frame_start = base + position
            frame = self._next_frame(buffer, position)
            if frame is None:
                break
            if isinstance(frame, StreamError):
                if frame.fatal:
                    self.broken = frame.reason
                    self._buffer = bytearray()
                    events.append(frame)
                    return events
                events.append(frame)
                continue
            if type(frame) is _Skip:
                # an oversize frame: keep its head, pass the rest of its payload unread
                position = self._start_skip(frame, events)
                position += self._skip(buffer, position, events)
                if self._skipping:
                    break
                continue
            fin, opcode, payload, position = frame
            self._frame_end = base + position
            event = self._assemble(fin, opcode, payload)
            if type(event) is list:
                events += event
            elif event is not None:
                events.append(event)
        self._unparsed = base + position
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
        if masked:
            if available < offset + 4:
                return None
            offset += 4
        if length > self.max_message or (self._oversize is not None and opcode == OP_CONTINUATION):
            return _Skip(bool(fin), opcode, length, start, offset,
                         bytes(buffer[start + offset - 4:start + offset]) if masked else None)
        if first & self._reserved:
            # unreadable as a message (an extension nobody negotiated), but delimited: skip it
            return _Skip(bool(fin), opcode, length, start, offset, None,
                         problem="reserved bits set (an extension nobody negotiated)")
        end = offset + length
        if available < end:
            return None
        self._rsv1 = bool(first & 0x40)
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
                # the unfinished message is dropped (the receiver will fail the connection);
                # reading goes on with this one
                dropped = self._fragment_size
                self._fragments, self._fragment_size = [], 0
                following = self._assemble(fin, opcode, payload)
                error = StreamError(f"a new message began before the previous fragmented one "
                                    f"ended ({dropped} bytes of it not logged as a message)")
                return [error, following] if following is not None else error
            if fin:
                return Message(opcode == OP_TEXT, payload, self._frame_start, self._frame_end,
                               self._rsv1)
            self._fragments, self._fragment_text, self._fragment_size = [payload], opcode == OP_TEXT, len(payload)
            self._message_start = self._frame_start
            self._message_compressed = self._rsv1
            return None
        if opcode == OP_CONTINUATION:
            if not self._fragments:
                return StreamError("continuation frame without a message")
            self._fragments.append(payload)
            self._fragment_size += len(payload)
            if self._fragment_size > self.max_message:
                # from here on the message is only measured, not kept
                head = b"".join(self._fragments)[:HEAD_KEPT]
                self._oversize = Oversize(self._fragment_text, self._fragment_size, head)
                self._fragments, self._fragment_size = [], 0
                if fin:
                    message, self._oversize = self._oversize, None
                    return message
                return None
            if fin:
                message = Message(self._fragment_text, b"".join(self._fragments),
                                  self._message_start, self._frame_end, self._message_compressed)
                self._fragments = []
                return message
            return None
        return StreamError(f"unknown opcode {opcode}")

    def _start_skip(self, frame: "_Skip", events: list) -> int:
        """Begin passing an oversize (or unreadable) frame's payload; returns where it begins."""
        self._skipping, self._skip_mask, self._skip_done = frame.length, frame.mask, 0
        self._oversize_fin = False
        if frame.problem:
            events.append(StreamError(f"{frame.problem}: a frame of {frame.length} bytes not "
                                      f"logged as a message"))
            self._skip_mask = b""  # nothing of it is kept
        elif frame.opcode == OP_CONTINUATION and self._oversize is not None:
            self._oversize.size += frame.length
        elif frame.opcode == OP_CONTINUATION and self._fragments:
            kept = b"".join(self._fragments)[:HEAD_KEPT]
            self._oversize = Oversize(self._fragment_text, self._fragment_size + frame.length, kept)
            self._fragments, self._fragment_size = [], 0
        elif frame.opcode in (OP_TEXT, OP_BINARY):
            if self._fragments:
                events.append(StreamError("a new message began before the previous fragmented "
                                          "one ended"))
                self._fragments, self._fragment_size = [], 0
            self._oversize = Oversize(frame.opcode == OP_TEXT, frame.length, b"")
        else:  # a control or unknown frame this large is not valid WebSocket
            events.append(StreamError(f"a frame of opcode {frame.opcode} with {frame.length} "
                                      f"bytes (not a data frame) skipped"))
            self._skip_mask = b""
        if self._oversize is not None and self._skip_mask != b"":
            self._oversize_fin = frame.fin
        return frame.start + frame.offset

    def _skip(self, data, position: int, events: list) -> int:
        """Pass up to the rest of the skipped payload from data[position:]; keep the head of
        an oversize message. Returns how many bytes were passed."""
        taken = min(self._skipping, len(data) - position)
        oversize = self._oversize
        if oversize is not None and self._skip_mask != b"" and len(oversize.head) < HEAD_KEPT:
            want = min(taken, HEAD_KEPT - len(oversize.head))
            piece = bytes(data[position:position + want])
            if self._skip_mask is not None:
                turn = self._skip_done % 4  # the mask runs on from where the frame's payload is
                piece = _unmask(piece, self._skip_mask[turn:] + self._skip_mask[:turn])
            oversize.head += piece
        self._skipping -= taken
        self._skip_done += taken
        if not self._skipping and self._oversize_fin:
            events.append(oversize)
            self._oversize, self._oversize_fin = None, False
        return taken


def close_frame(code: int, reason: str, *, masked: bool) -> bytes:
    """A close frame we send ourselves when a peer vanished without one."""
    body = struct.pack("!H", code) + reason.encode("utf-8")[:123]
    if not masked:
        return bytes([0x88, len(body)]) + body
    mask = os.urandom(4)
    return bytes([0x88, 0x80 | len(body)]) + mask + _unmask(body, mask)


def data_frame(text: str, *, masked: bool) -> bytes:
    """One unfragmented text frame, masked when it goes to a server (RFC 6455 5.3): what a
    proxy rule sends in place of, or beside, a peer's message."""
    payload = text.encode("utf-8")
    length = len(payload)
    if length < 126:
        header = bytes([0x81, (0x80 if masked else 0) | length])
    elif length < 1 << 16:
        header = bytes([0x81, (0x80 if masked else 0) | 126]) + struct.pack("!H", length)
    else:
        header = bytes([0x81, (0x80 if masked else 0) | 127]) + struct.pack("!Q", length)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + _unmask(payload, mask)
