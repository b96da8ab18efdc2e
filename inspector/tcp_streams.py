"""One direction of a TCP connection put back together from captured segments, the way a
receiver does: in sequence order, retransmissions dropped, a segment that came early kept
until the gap before it is filled (or, when the capture ends without it, given up on)."""

from __future__ import annotations


class TcpDirection:
    """One direction of a TCP connection, reassembled as a receiver would."""

    def __init__(self):
        self.next: int | None = None  # next expected sequence number
        self.early: dict[int, bytes] = {}  # segments past a gap, by sequence number

    def receive(self, seq: int, data: bytes, syn: bool) -> list[bytes | None]:
        """Bytes now in order (None marks a gap given up on, see `flush`)."""
        if syn:
            self.next = (seq + 1) & 0xFFFFFFFF
            seq = self.next
        if not data:
            return []
        if self.next is None:  # the capture began mid-connection: take it from here
            self.next = seq
        offset = (seq - self.next) & 0xFFFFFFFF
        if offset >= 1 << 31:  # starts before what we have: a retransmission, maybe longer
            behind = (self.next - seq) & 0xFFFFFFFF
            if behind >= len(data):
                return []
            data, seq, offset = data[behind:], self.next, 0
        if offset:
            self.early.setdefault(seq, data)
            return []
        out = [data]
        self.next = (self.next + len(data)) & 0xFFFFFFFF
        while self.early:
            follow = self._take_early()
            if follow is None:
                break
            out.append(follow)
        return out

    def _take_early(self) -> bytes | None:
        for seq in list(self.early):
            behind = (self.next - seq) & 0xFFFFFFFF
            data = self.early[seq]
            if behind < 1 << 31:  # at or before next
                del self.early[seq]
                if behind < len(data):
                    rest = data[behind:]
                    self.next = (self.next + len(rest)) & 0xFFFFFFFF
                    return rest
        return None

    def flush(self) -> list[bytes | None]:
        """The capture ended with a gap: give up on the missing bytes, then what followed."""
        out: list[bytes | None] = []
        while self.early:
            self.next = min(self.early, key=lambda s: (s - self.next) & 0xFFFFFFFF)
            out.append(None)
            while True:
                piece = self._take_early()
                if piece is None:
                    break
                out.append(piece)
        return out
