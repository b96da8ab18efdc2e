"""Proxy rules without sockets: loading, matching, occurrence, what acting rules send, and
the rule gate's bytes (playbook style: bytes in, bytes out)."""

import json
import os
import struct
from types import SimpleNamespace

import pytest

from inspector import codec, flags
from inspector.events import TO_CHARGER, TO_CSMS, ConnectionInfo, Hub
from inspector.jsonpaths import PathError, parse_condition, parse_path
from inspector.monitor import ConnectionMonitor
from inspector.roles.proxy import _Leg
from inspector.rules import (RuleBook, RuleError, Subject, changed_text, error_answer,
                             parse_rules)
from websockets.frames import apply_mask as mask_bytes


def rule_list(toml: str):
    return parse_rules(toml, toml=True)


def subject(raw: str, *, direction=TO_CSMS, cp="CP1", action=None, now=100.0, opened=90.0,
            connection=1):
    frame = codec.parse(raw)
    return Subject(direction, cp, connection, frame, action or frame.action, opened, now)


# ---- paths and conditions ------------------------------------------------------------------

def test_paths_read_set_and_remove_one_field():
    document = {"idTagInfo": {"status": "Accepted"}, "list": [1, 2], "a.b": 3}
    assert parse_path("$.idTagInfo.status").get(document) == "Accepted"
    assert parse_path('$["a.b"]').get(document) == 3
    assert parse_path("$.list[-1]").get(document) == 2
    assert parse_path("$.nothing.here").get(document, None) is None
    assert parse_path("$.idTagInfo.status").set(document, "Invalid")
    assert document["idTagInfo"]["status"] == "Invalid"
    assert not parse_path("$.missing.status").set(document, 1)
    assert parse_path("$.list[0]").remove(document) and document["list"] == [2]


@pytest.mark.parametrize("text, problem", [
    ("status", r"must start with \$"), ("$.a..b", "cannot read"), ("$.a[x]", "cannot read")])
def test_bad_paths_say_why(text, problem):
    with pytest.raises(PathError, match=problem):
        parse_path(text)


def test_conditions_compare_fields_with_json_values():
    payload = {"status": "Accepted", "connectorId": 2}
    assert parse_condition('$.status == "Accepted"').holds(payload)
    assert not parse_condition('$.status != "Accepted"').holds(payload)
    assert parse_condition("$.connectorId > 1").holds(payload)
    assert not parse_condition('$.connectorId > "1"').holds(payload)  # another type: no match
    assert parse_condition("$.status exists").holds(payload)
    assert not parse_condition("$.idTag exists").holds(payload)
    with pytest.raises(PathError, match="double quotes"):
        parse_condition("$.status == Accepted")


# ---- loading ---------------------------------------------------------------------------------

@pytest.mark.parametrize("toml, problem", [
    ('[[rule]]\ndo = "dorp"\n', "did you mean 'drop'"),
    ('[[rule]]\ndo = "drop"\nms = 5\n', "unknown key 'ms'"),
    ('[[rule]]\ndo = "delay"\n', "ms must be a positive"),
    ('[[rule]]\ndo = "drop"\naction = "Hearbeat"\n', "did you mean Heartbeat"),
    ('[[rule]]\ndo = "drop"\ndirection = "up"\n', "direction must be"),
    ('[[rule]]\ndo = "drop"\ntype = "RESULT"\n', "type must be one of"),
    ('[[rule]]\ndo = "drop"\nfirst = 0\n', "first must be 1 or more"),
    ('[[rule]]\ndo = "drop"\nprobability = 2\n', "between 0 and 1"),
    ('[[rule]]\ndo = "drop"\nevery = "2"\n', "every must be a whole number"),
    ('[[rule]]\ndo = "patch"\n', "patch needs set"),
    ('[[rule]]\ndo = "patch"\nset = { "$" = 1 }\n', "names a field"),
    ('[[rule]]\ndo = "replace"\n', "exactly one of frame"),
    ('[[rule]]\ndo = "callerror"\ntype = "CALLRESULT"\n', "answers a CALL"),
    ('[[rule]]\ndo = "close"\nclose_code = 1005\n', "cannot be sent"),
    ('[[rule]]\nname = "x"\ndo = "drop"\n[[rule]]\nname = "x"\ndo = "cut"\n', "named 'x'"),
    ('[[rules]]\ndo = "drop"\n', None),  # "rules" is accepted as well
    ('rule = 3\n', "must be a list"),
    ('[[rule\n', "not valid TOML"),
])
def test_a_rule_that_cannot_work_is_refused_when_loading(toml, problem):
    if problem is None:
        assert rule_list(toml)[0].do == "drop"
        return
    with pytest.raises(RuleError, match=problem):
        rule_list(toml)


def test_json_rules_load_like_toml():
    text = json.dumps({"rules": [{"name": "j", "do": "delay", "ms": 10, "action": "Heart*"}]})
    (rule,) = parse_rules(text, toml=False)
    assert (rule.name, rule.do, rule.ms, rule.action) == ("j", "delay", 10, "Heart*")
    assert parse_rules("", toml=False) == []


# ---- matching and occurrence ---------------------------------------------------------------

def test_a_rule_matches_on_direction_cp_type_action_and_condition():
    (rule,) = rule_list('[[rule]]\ndo = "drop"\ndirection = "to_charger"\ncharge_point = "CP*"\n'
                        'type = "CALLRESULT"\naction = "Auth*"\n'
                        'where = \'$.idTagInfo.status == "Accepted"\'\n')
    answer = '[3,"1",{"idTagInfo":{"status":"Accepted"}}]'
    assert rule.matches(subject(answer, direction=TO_CHARGER, action="Authorize"))
    assert not rule.matches(subject(answer, direction=TO_CSMS, action="Authorize"))
    assert not rule.matches(subject(answer, direction=TO_CHARGER, action="Authorize", cp="X1"))
    assert not rule.matches(subject(answer, direction=TO_CHARGER, action="Heartbeat"))
    assert not rule.matches(subject('[3,"1",{"idTagInfo":{"status":"Blocked"}}]',
                                    direction=TO_CHARGER, action="Authorize"))
    assert not rule.matches(subject('[2,"1","Authorize",{"idTag":"A"}]', direction=TO_CHARGER))


def test_the_first_matching_rule_acts_and_occurrence_counts_per_connection():
    book = RuleBook(rule_list('[[rule]]\nname = "first two"\ndo = "drop"\nfirst = 2\n'
                              '[[rule]]\nname = "every third"\ndo = "cut"\nevery = 3\n'))
    call = '[2,"1","Heartbeat",{}]'
    decided = [getattr(book.decide(subject(call)), "name", None) for _ in range(8)]
    # matches 1-2: the first rule; 3-8 fall through to the second, which counts its own
    # matches (3rd..8th are its 1st..6th): it acts on its 3rd and 6th
    assert decided == ["first two", "first two", None, None, "every third", None, None,
                       "every third"]
    assert book.decide(subject(call, connection=2)).name == "first two"  # its own count
    book.forget(1)
    assert book.decide(subject(call)).name == "first two"


def test_after_and_probability():
    (late,) = rule_list('[[rule]]\ndo = "drop"\nafter = 30\n')
    call = '[2,"1","Heartbeat",{}]'
    assert not late.matches(subject(call, opened=90.0, now=100.0))
    assert late.matches(subject(call, opened=60.0, now=100.0))
    book = RuleBook(rule_list('[[rule]]\ndo = "drop"\nprobability = 0.25\n'), seed=7)
    hits = sum(book.decide(subject(call)) is not None for _ in range(4000))
    assert 850 < hits < 1150
    never = RuleBook(rule_list('[[rule]]\ndo = "drop"\nprobability = 0\n'))
    assert all(never.decide(subject(call)) is None for _ in range(200))


def test_disabled_rules_neither_match_nor_watch():
    book = RuleBook(rule_list('[[rule]]\ndo = "drop"\nenabled = false\n'
                              '[[rule]]\ndo = "cut"\ndirection = "to_csms"\n'))
    assert book.watches(TO_CSMS) and not book.watches(TO_CHARGER)
    assert book.decide(subject('[2,"1","Heartbeat",{}]')).do == "cut"
    assert not RuleBook()


# ---- what acting rules send ---------------------------------------------------------------

def test_patch_replace_and_callerror_texts():
    frame = codec.parse('[3,"42",{"idTagInfo":{"status":"Accepted"},"x":1}]')
    (patch,) = rule_list('[[rule]]\ndo = "patch"\nremove = ["$.x"]\n[rule.set]\n'
                         '"$.idTagInfo.status" = "Invalid"\n"$.nope.deep" = 1\n')
    text, problems = changed_text(patch, frame)
    assert json.loads(text) == [3, "42", {"idTagInfo": {"status": "Invalid"}}]
    assert problems == ["$.nope.deep not set (no such place)"]
    (replace,) = rule_list('[[rule]]\ndo = "replace"\nframe = [3, "*", {status = "Rejected"}]\n')
    assert json.loads(changed_text(replace, frame)[0]) == [3, "42", {"status": "Rejected"}]
    (verbatim,) = rule_list('[[rule]]\ndo = "replace"\ntext = "[3, oops"\n')
    assert changed_text(verbatim, frame)[0] == "[3, oops"
    error = codec.parse('[4,"7","GenericError","was",{}]')
    (patch_error,) = rule_list('[[rule]]\ndo = "patch"\nset = { "$.errorCode" = "NotSupported" }\n')
    assert json.loads(changed_text(patch_error, error)[0]) == [4, "7", "NotSupported", "was", {}]
    (answer,) = rule_list('[[rule]]\nname = "n"\ndo = "callerror"\nerror_code = "NotSupported"\n')
    assert json.loads(error_answer(answer, codec.parse('[2,"9","Heartbeat",{}]'))) == \
        [4, "9", "NotSupported", "answered by proxy rule 'n'", {}]


# ---- the gate: bytes in, bytes out ---------------------------------------------------------

class _Transport:
    def __init__(self):
        self.written = bytearray()
        self.closing = False

    def write(self, data):
        self.written += data

    def is_closing(self):
        return self.closing

    def close(self):
        self.closing = True

    abort = close


def _masked(opcode: int, payload: bytes, fin=True) -> bytes:
    mask = os.urandom(4)
    head = bytes([(0x80 if fin else 0) | opcode])
    head += bytes([0x80 | len(payload)]) if len(payload) < 126 else \
        bytes([0x80 | 126]) + struct.pack("!H", len(payload))
    return head + mask + mask_bytes(payload, mask)


def _gate_leg(book: RuleBook):
    hub, events = Hub(), []
    hub.subscribe(events.append)
    counter = iter(range(1, 10_000))
    monitor = ConnectionMonitor(ConnectionInfo(1, "CP1", "proxy", version="1.6", opened_at=0.0),
                                lambda: next(counter))
    proxy = SimpleNamespace(hub=hub, max_size=1 << 20, write_timeout=None, rules=book,
                            interceptor=None)
    source, target = _Transport(), _Transport()
    lost = SimpleNamespace(done=lambda: True)
    return _Leg(proxy, monitor, TO_CSMS, source, target, lost), source, target, events


_HEARTBEAT = b'[2,"h1","Heartbeat",{}]'
_BOOT = b'[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]'
_DATA = b'[2,"d1","DataTransfer",{"vendorId":"x"}]'


def _stream() -> tuple[bytes, bytes, bytes]:
    """A fragmented Heartbeat with a ping inside it, a BootNotification, a DataTransfer:
    masked as a charger writes them. Returns (before, boot, after)."""
    before = (_masked(0x1, _HEARTBEAT[:10], fin=False) + _masked(0x9, b"ping")
              + _masked(0x0, _HEARTBEAT[10:]))
    return before, _masked(0x1, _BOOT), _masked(0x1, _DATA)


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_untouched_frames_leave_the_gate_byte_exact_whatever_the_chunking(chunk):
    """With a rule that matches nothing, the bytes out are the bytes in, exactly."""
    leg, _, target, events = _gate_leg(RuleBook(rule_list(
        '[[rule]]\ndo = "drop"\naction = "Reset"\n')))
    data = b"".join(_stream())
    for i in range(0, len(data), chunk):
        leg.data_received(data[i:i + chunk])
    assert bytes(target.written) == data
    assert [e.record.frame.action for e in events] == ["Heartbeat", "BootNotification",
                                                       "DataTransfer"]


@pytest.mark.parametrize("chunk", [1, 5, 1000])
def test_a_dropped_message_is_cut_out_and_everything_else_is_byte_exact(chunk):
    leg, _, target, events = _gate_leg(RuleBook(rule_list(
        '[[rule]]\nname = "no boot"\ndo = "drop"\naction = "BootNotification"\n')))
    before, boot, after = _stream()
    data = before + boot + after
    for i in range(0, len(data), chunk):
        leg.data_received(data[i:i + chunk])
    assert bytes(target.written) == before + after
    logged = [e.record for e in events]
    assert [r.frame.action for r in logged] == ["Heartbeat", "BootNotification", "DataTransfer"]
    assert [flags.code_of(f) for f in logged[1].flags][-1] == flags.RULE_DROPPED


def test_a_callerror_rule_answers_the_sender_unmasked_and_forwards_nothing():
    leg, source, target, events = _gate_leg(RuleBook(rule_list(
        '[[rule]]\nname = "n"\ndo = "callerror"\naction = "BootNotification"\n')))
    leg.data_received(_stream()[1])
    assert target.written == b""
    answer = bytes(source.written)
    assert answer[0] == 0x81 and not answer[1] & 0x80  # a server's frame: not masked
    assert json.loads(answer[2:])[:3] == [4, "b1", "GenericError"]
    assert [e.record.direction for e in events] == [TO_CSMS, TO_CHARGER]


def test_a_patched_frame_goes_out_masked_towards_the_csms():
    leg, _, target, events = _gate_leg(RuleBook(rule_list(
        '[[rule]]\ndo = "patch"\naction = "DataTransfer"\nset = { "$.vendorId" = "y" }\n')))
    leg.data_received(_stream()[2])
    out = bytes(target.written)
    assert out[0] == 0x81 and out[1] & 0x80  # masked: a client's frame
    length = out[1] & 0x7F
    assert json.loads(mask_bytes(out[6:6 + length], out[2:6]))[3] == {"vendorId": "y"}
    assert events[0].record.original == _DATA.decode()
