"""The UI's in-memory frame log: numpy columns plus one byte buffer of raw texts. No Qt.

A million frames as Python objects would cost gigabytes and filtering them would take
seconds, so each frame becomes one row of small numpy columns (interned codes for charge
point, action, direction, type; validity; latency; pairing) and its raw text is appended
to a single uint8 buffer, rows separated by a NUL byte. Filters are then vectorised:
comparisons of code columns, and a free-text search that scans the whole buffer with numpy
(ASCII case-insensitive) and maps hit offsets back to rows with `searchsorted`.

Rows are only ever appended (plus flag updates for unanswered CALLs), so a filter can be
applied incrementally to the rows added since the last time (`select(filter, start=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple

import numpy as np

from inspector.store import INDEX_TYPES, iso_time

TYPES = ("CALL", "CALLRESULT", "CALLERROR", "CALLRESULTERROR", "SEND", "MALFORMED")
TYPE_CODE = {name: code for code, name in enumerate(TYPES)}
RESPONSE_TYPES = (TYPE_CODE["CALLRESULT"], TYPE_CODE["CALLERROR"])
DIRECTIONS = ("to_csms", "to_charger")
DIRECTION_CODE = {name: code for code, name in enumerate(DIRECTIONS)}
VALID_CODE = {None: -1, False: 0, True: 1}
VALID_VALUE = {-1: None, 0: False, 1: True}
_SEPARATOR = b"\x00"
_CHUNK = 1 << 24  # bytes scanned per numpy pass in text search
_SMALL_CANDIDATES = 20_000  # below this many rows, check the text row by row


class RowInput(NamedTuple):
    """What the store needs to know about one frame (from a live record or a capture row)."""

    seq: int
    time: float
    connection_id: int
    charge_point_id: str
    action: str | None
    direction: str
    type: str
    valid: bool | None
    latency_ms: float | None
    request_seq: int | None
    unique_id: str | None
    raw: str
    errors: list[dict] | None = None  # [{path, message, rule, ocpp_error}]
    flags: list[str] | None = None


class Row(NamedTuple):
    """One stored frame, as read back for display."""

    index: int
    seq: int
    time: float
    connection_id: int
    charge_point_id: str
    role: str  # of the connection that logged it: proxy, csms, charger
    action: str
    direction: str
    type: str
    valid: bool | None
    latency_ms: float | None
    request_seq: int | None
    unique_id: str | None
    errors: list[dict]
    flags: list[str]


@dataclass(frozen=True)
class FrameFilter:
    """Empty strings mean "any". `text` is searched in the raw frame, ASCII case-insensitive."""

    charge_point: str = ""
    action: str = ""
    direction: str = ""
    type: str = ""
    invalid_only: bool = False
    text: str = ""

    def is_empty(self) -> bool:
        return not (self.charge_point or self.action or self.direction or self.type
                    or self.invalid_only or self.text)


class _Column:
    """A growable numpy array (amortised O(1) append)."""

    __slots__ = ("data", "n")

    def __init__(self, dtype, capacity: int = 4096):
        self.data = np.empty(capacity, dtype=dtype)
        self.n = 0

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.data.dtype)
        need = self.n + len(values)
        if need > len(self.data):
            grown = np.empty(max(need, 2 * len(self.data)), dtype=self.data.dtype)
            grown[:self.n] = self.data[:self.n]
            self.data = grown
        self.data[self.n:need] = values
        self.n = need

    @property
    def view(self) -> np.ndarray:
        return self.data[:self.n]


class Interner:
    """Strings <-> small integer codes; code 0 is the empty string (None)."""

    def __init__(self) -> None:
        self.names: list[str] = [""]
        self.codes: dict[str, int] = {"": 0}

    def code(self, name: str | None) -> int:
        name = name or ""
        code = self.codes.get(name)
        if code is None:
            code = self.codes[name] = len(self.names)
            self.names.append(name)
        return code

    def lookup(self, name: str | None) -> int | None:
        return self.codes.get(name or "")

    def values(self) -> list[str]:
        """Every non-empty name seen, sorted."""
        return sorted(self.names[1:])


class FrameStore:
    def __init__(self) -> None:
        self._seq = _Column(np.int64)
        self._time = _Column(np.float64)
        self._conn = _Column(np.int32)
        self._cp = _Column(np.int32)
        self._action = _Column(np.int32)
        self._direction = _Column(np.int8)
        self._type = _Column(np.int8)
        self._valid = _Column(np.int8)
        self._flagged = _Column(np.bool_)
        self._latency = _Column(np.float64)
        self._request = _Column(np.int64)  # -1: none
        self._start = _Column(np.int64)  # offset of the raw text in _raw
        self._length = _Column(np.int32)
        self._raw = _Column(np.uint8, 1 << 20)
        # unique ids are read back from the raw text ('[2,"<id>",...'); only those that
        # cannot be (none, escaped, spaced JSON) are kept here: ~90 bytes a frame saved
        self._odd_uids: dict[int, str | None] = {}
        self._errors: dict[int, list[dict]] = {}  # sparse: only rows with findings
        self._flags: dict[int, list[str]] = {}
        self._seq_sorted = True
        self.charge_points = Interner()
        self.actions = Interner()
        self.connection_roles: dict[int, str] = {}  # connection id -> role, for display

    # ---- writing ------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._seq.n

    @property
    def count(self) -> int:
        return self._seq.n

    def append(self, rows: Iterable[RowInput]) -> range:
        """Append frames; returns the range of new row indices."""
        rows = list(rows)
        first = self.count
        if not rows:
            return range(first, first)
        cp_code, action_code = self.charge_points.code, self.actions.code
        nan = float("nan")
        seqs, times, conns, cps, actions, directions, types, valids = [], [], [], [], [], [], [], []
        flagged, latencies, requests, starts, lengths, parts = [], [], [], [], [], []
        offset = self._raw.n
        for i, r in enumerate(rows, first):
            seqs.append(r.seq)
            times.append(r.time)
            conns.append(r.connection_id)
            cps.append(cp_code(r.charge_point_id))
            actions.append(action_code(r.action))
            directions.append(DIRECTION_CODE.get(r.direction, 0))
            types.append(TYPE_CODE.get(r.type, TYPE_CODE["MALFORMED"]))
            valids.append(VALID_CODE.get(r.valid, -1))
            flagged.append(bool(r.flags))
            latencies.append(nan if r.latency_ms is None else r.latency_ms)
            requests.append(-1 if r.request_seq is None else r.request_seq)
            data = r.raw.encode("utf-8", "surrogatepass")
            starts.append(offset)
            lengths.append(len(data))
            parts.append(data)
            offset += len(data) + 1
            if not _uid_in_place(r.raw, r.unique_id):
                self._odd_uids[i] = r.unique_id
            if r.errors:
                self._errors[i] = list(r.errors)
            if r.flags:
                self._flags[i] = list(r.flags)
        if self._seq.n and seqs[0] <= self._seq.data[self._seq.n - 1]:
            self._seq_sorted = False
        if self._seq_sorted and any(b <= a for a, b in zip(seqs, seqs[1:])):
            self._seq_sorted = False
        parts.append(b"")
        self._raw.extend(np.frombuffer(_SEPARATOR.join(parts), dtype=np.uint8))
        for column, values in ((self._seq, seqs), (self._time, times), (self._conn, conns),
                               (self._cp, cps), (self._action, actions),
                               (self._direction, directions), (self._type, types),
                               (self._valid, valids), (self._flagged, flagged),
                               (self._latency, latencies), (self._request, requests),
                               (self._start, starts), (self._length, lengths)):
            column.extend(values)
        return range(first, self.count)

    def set_flags(self, seq: int, flags: list[str]) -> int | None:
        """Replace the flags of the frame with this seq (an unanswered CALL); returns its row."""
        row = self.row_of_seq(seq)
        if row is not None:
            if flags:
                self._flags[row] = list(flags)
            else:
                self._flags.pop(row, None)
            self._flagged.data[row] = bool(flags)
        return row

    # ---- reading ------------------------------------------------------------------------

    def raw_bytes(self, row: int) -> bytes:
        start = int(self._start.data[row])
        return self._raw.data[start:start + int(self._length.data[row])].tobytes()

    def raw(self, row: int) -> str:
        return self.raw_bytes(row).decode("utf-8", "surrogatepass")

    def row(self, row: int) -> Row:
        latency = float(self._latency.data[row])
        request = int(self._request.data[row])
        connection = int(self._conn.data[row])
        return Row(row, int(self._seq.data[row]), float(self._time.data[row]),
                   connection, self.charge_points.names[self._cp.data[row]],
                   self.connection_roles.get(connection, ""),
                   self.actions.names[self._action.data[row]],
                   DIRECTIONS[self._direction.data[row]], TYPES[self._type.data[row]],
                   VALID_VALUE[int(self._valid.data[row])],
                   None if latency != latency else latency,
                   None if request < 0 else request, self.unique_id(row),
                   self._errors.get(row, []), self._flags.get(row, []))

    def unique_id(self, row: int) -> str | None:
        if row in self._odd_uids:
            return self._odd_uids[row]
        raw = self.raw(row)
        return raw[4:raw.index('"', 4)]

    def seq(self, row: int) -> int:
        return int(self._seq.data[row])

    def last_time(self) -> float:
        """The time of the last frame (0.0 when there is none)."""
        return float(self._time.data[self.count - 1]) if self.count else 0.0

    def type_name(self, row: int) -> str:
        return TYPES[self._type.data[row]]

    def row_of_seq(self, seq: int) -> int | None:
        seqs = self._seq.view
        if self._seq_sorted:
            i = int(np.searchsorted(seqs, seq))
            return i if i < len(seqs) and seqs[i] == seq else None
        hits = np.flatnonzero(seqs == seq)
        return int(hits[0]) if len(hits) else None

    def paired_row(self, row: int) -> int | None:
        """The response of a CALL, or the CALL of a response, if logged."""
        request = int(self._request.data[row])
        if request >= 0:
            return self.row_of_seq(request)
        if TYPES[self._type.data[row]] != "CALL":
            return None
        seq = self._seq.data[row]
        later = self._request.view[row + 1:]
        hits = np.flatnonzero(later == seq)
        return row + 1 + int(hits[0]) if len(hits) else None

    def export_row(self, row: int) -> dict:
        """The same dict `inspector.store.Capture.frames()` yields, for JSONL export."""
        r = self.row(row)
        return {"id": r.seq, "time": iso_time(r.time), "charge_point_id": r.charge_point_id,
                "connection_id": r.connection_id, "direction": r.direction, "type": r.type,
                "unique_id": r.unique_id, "action": r.action or None, "latency_ms": r.latency_ms,
                "valid": r.valid, "errors": r.errors, "flags": r.flags, "raw": self.raw(row)}

    # ---- filtering ----------------------------------------------------------------------

    def select(self, flt: FrameFilter, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Row indices in [start, stop) matching the filter, ascending (int64)."""
        stop = self.count if stop is None else min(stop, self.count)
        if start >= stop:
            return np.empty(0, dtype=np.int64)
        if flt.is_empty():
            return np.arange(start, stop, dtype=np.int64)
        mask: np.ndarray | None = None

        def narrow(condition: np.ndarray) -> None:
            nonlocal mask
            if mask is None:
                mask = condition
            else:
                mask &= condition

        empty = np.empty(0, dtype=np.int64)
        window = slice(start, stop)
        for column, interner, value in ((self._cp, self.charge_points, flt.charge_point),
                                        (self._action, self.actions, flt.action)):
            if value:
                code = interner.lookup(value)
                if code is None:
                    return empty
                narrow(column.data[window] == code)
        if flt.direction:
            if flt.direction not in DIRECTION_CODE:
                return empty
            narrow(self._direction.data[window] == DIRECTION_CODE[flt.direction])
        if flt.type:
            if flt.type not in TYPE_CODE:
                return empty
            narrow(self._type.data[window] == TYPE_CODE[flt.type])
        if flt.invalid_only:
            narrow((self._valid.data[window] == 0) | self._flagged.data[window])
        needle = flt.text.encode("utf-8", "surrogatepass").replace(_SEPARATOR, b"").lower()
        if not needle:
            if mask is None:
                return np.arange(start, stop, dtype=np.int64)
            return np.flatnonzero(mask).astype(np.int64) + start
        if mask is not None:
            candidates = np.flatnonzero(mask).astype(np.int64) + start
            if len(candidates) <= max(_SMALL_CANDIDATES, (stop - start) // 50):
                return self._text_rows_each(needle, candidates)
        hits = self._text_rows_scan(needle, start, stop)
        if mask is None:
            return hits
        keep = np.zeros(stop - start, dtype=np.bool_)
        keep[hits - start] = True
        mask &= keep
        return np.flatnonzero(mask).astype(np.int64) + start

    def _text_rows_each(self, needle: bytes, rows: np.ndarray) -> np.ndarray:
        raw = self._raw.data
        starts, lengths = self._start.data, self._length.data
        found = [r for r in rows.tolist()
                 if needle in raw[starts[r]:starts[r] + lengths[r]].tobytes().lower()]
        return np.asarray(found, dtype=np.int64)

    def _text_rows_scan(self, needle: bytes, start: int, stop: int) -> np.ndarray:
        starts = self._start.data[start:stop]
        first = int(starts[0])
        end = int(self._start.data[stop - 1]) + int(self._length.data[stop - 1])
        positions = find_all(self._raw.data[first:end], needle) + first
        if not len(positions):
            return np.empty(0, dtype=np.int64)
        rows = np.searchsorted(starts, positions, side="right") - 1
        rows = rows[np.concatenate(([True], rows[1:] != rows[:-1]))]
        return rows.astype(np.int64) + start


def _uid_in_place(raw: str, unique_id: str | None) -> bool:
    """Does `raw` begin '[<type>,"<unique_id>"' with no escape in the id (so the id can be
    read back from the raw text)?"""
    return (unique_id is not None and raw[:1] == "[" and raw[1:2] in "23456" and raw[1:2] != ""
            and raw[2:4] == ',"' and raw[4:4 + len(unique_id)] == unique_id
            and raw[4 + len(unique_id):5 + len(unique_id)] == '"'
            and '"' not in unique_id and "\\" not in unique_id)


class CaptureFrameStore(FrameStore):
    """The frames of a capture file: the compact columns in memory (tens of bytes a frame),
    raw texts and unique ids read from the file when a view needs them, text search done
    by SQLite. `capture` (an inspector.store.Capture) stays open for the store's life."""

    _PREFETCH = 128  # rows read from the file at once when a view asks for one
    _CACHE = 8192

    def __init__(self, capture) -> None:
        super().__init__()
        self.capture = capture
        self._texts: dict[int, tuple[str, str | None]] = {}  # seq -> (raw, unique id)

    def append_index(self, columns, charge_point_of: dict[int, str], actions: list) -> range:
        """Append `Capture.frame_index()` rows given as columns (zip(*rows)); `actions` is
        the capture's action list their action numbers point into."""
        first = self.count
        if not columns or not len(columns[0]):
            return range(first, first)
        (ids, connections, times, to_charger, types, action_numbers, latencies, valids,
         flagged, requests) = columns
        seqs = np.asarray(ids, dtype=np.int64)
        if self._seq.n and seqs[0] <= self._seq.data[self._seq.n - 1]:
            self._seq_sorted = False
        connection_ids = np.asarray(connections, dtype=np.int32)
        # per connection and per action, not per frame: a lookup table and numpy's take
        cp_table = np.zeros(int(connection_ids.max()) + 1, dtype=np.int32)
        for connection in np.unique(connection_ids).tolist():
            cp_table[connection] = self.charge_points.code(charge_point_of.get(connection, ""))
        action_table = np.array([self.actions.code(a) for a in actions] + [0], dtype=np.int32)
        type_table = np.array([TYPE_CODE.get(t, TYPE_CODE["MALFORMED"]) for t in INDEX_TYPES]
                              + [TYPE_CODE["MALFORMED"]], dtype=np.int8)
        for column, values in (
                (self._seq, seqs), (self._time, np.asarray(times, dtype=np.float64)),
                (self._conn, connection_ids), (self._cp, cp_table[connection_ids]),
                (self._action, action_table[np.asarray(action_numbers, dtype=np.int64)]),
                (self._direction, np.asarray(to_charger, dtype=np.int8)),
                (self._type, type_table[np.asarray(types, dtype=np.int64)]),
                (self._valid, np.array(valids, dtype=np.float64)),  # None -> nan, below -1
                (self._flagged, np.asarray(flagged, dtype=np.bool_)),
                (self._latency, np.array(latencies, dtype=np.float64)),  # None -> nan
                (self._request, np.array(requests, dtype=np.float64))):  # None -> nan
            if values.dtype == np.float64 and column in (self._valid, self._request):
                values = np.where(np.isnan(values), -1, values)
            column.extend(values)
        return range(first, self.count)

    def set_findings(self, seq: int, errors: list, flags: list) -> None:
        row = self.row_of_seq(seq)
        if row is not None:
            if errors:
                self._errors[row] = errors
            if flags:
                self._flags[row] = flags

    def _text(self, row: int) -> tuple[str, str | None]:
        seq = int(self._seq.data[row])
        text = self._texts.get(seq)
        if text is None:
            if len(self._texts) > self._CACHE:
                self._texts.clear()
            stop = min(self.count, row + self._PREFETCH)
            self._texts.update(self.capture.texts(self._seq.data[row:stop].tolist()))
            text = self._texts.get(seq, ("", None))
        return text

    def raw(self, row: int) -> str:
        return self._text(row)[0]

    def raw_bytes(self, row: int) -> bytes:
        return self.raw(row).encode("utf-8", "surrogatepass")

    def unique_id(self, row: int) -> str | None:
        return self._text(row)[1]

    def _text_rows_scan(self, needle: bytes, start: int, stop: int) -> np.ndarray:
        seqs = self._seq.view
        ids = self.capture.search(needle.decode("utf-8", "surrogatepass"), int(seqs[start]),
                                  int(seqs[stop - 1]))
        if not ids:
            return np.empty(0, dtype=np.int64)
        ids = np.asarray(ids, dtype=np.int64)
        rows = np.searchsorted(seqs, ids)
        return rows[(rows < len(seqs)) & (seqs[np.minimum(rows, len(seqs) - 1)] == ids)] \
            .astype(np.int64)

    def _text_rows_each(self, needle: bytes, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.empty(0, dtype=np.int64)
        hits = self._text_rows_scan(needle, int(rows[0]), int(rows[-1]) + 1)
        return np.intersect1d(rows, hits).astype(np.int64)


def _equal(values: np.ndarray, byte: int) -> np.ndarray:
    """values == byte, ASCII case-insensitively when byte is a lowercase letter."""
    if 97 <= byte <= 122:
        return (values | 0x20) == byte
    return values == byte


def find_all(buffer: np.ndarray, needle: bytes) -> np.ndarray:
    """Start offsets of every occurrence of `needle` (lowercase) in a uint8 buffer.

    Vectorised: one pass over the buffer for the needle's rarest byte, then each other
    byte of the needle only narrows the candidate offsets by a gather.
    """
    m, n = len(needle), len(buffer)
    if m == 0 or n < m:
        return np.empty(0, dtype=np.int64)
    sample = buffer[n // 2:n // 2 + (1 << 20)] if n > (1 << 21) else buffer
    folded = np.where((sample >= 65) & (sample <= 90), sample | 0x20, sample)
    frequency = np.bincount(folded, minlength=256)
    order = sorted(range(m), key=lambda j: (frequency[needle[j]], j))
    pivot = order[0]
    found = []
    last = n - m + 1  # candidate start offsets are [0, last)
    for a in range(0, last, _CHUNK):
        b = min(last, a + _CHUNK)
        candidates = np.flatnonzero(_equal(buffer[a + pivot:b + pivot], needle[pivot]))
        if not len(candidates):
            continue
        candidates += a
        for j in order[1:]:
            candidates = candidates[_equal(buffer[candidates + j], needle[j])]
            if not len(candidates):
                break
        if len(candidates):
            found.append(candidates)
    if not found:
        return np.empty(0, dtype=np.int64)
    return np.concatenate(found).astype(np.int64)
