"""The codec turns any text into a frame; bad input becomes MALFORMED with a reason."""

import pytest

from inspector import codec
from inspector.codec import FrameType

from tests.factories import a_call, a_result


def test_call_is_parsed_with_action_and_payload():
    """A CALL exposes its id, action and payload."""
    frame = codec.parse('[2,"abc","Heartbeat",{}]')
    assert (frame.type, frame.unique_id, frame.action, frame.payload) == (FrameType.CALL, "abc", "Heartbeat", {})


def test_raw_text_is_kept_exactly():
    """Whitespace and key order survive: raw is the received text."""
    text = '[2, "a",   "Authorize", {"idTag" : "X", "b":1}]'
    assert codec.parse(text).raw == text


@pytest.mark.parametrize("text,frame_type", [
    ('[3,"1",{"status":"Accepted"}]', FrameType.CALLRESULT),
    ('[4,"1","NotImplemented","no",{}]', FrameType.CALLERROR),
    ('[5,"1","FormatViolation","bad result",{}]', FrameType.CALLRESULTERROR),
    ('[6,"1","NotifyPeriodicEventStream",{}]', FrameType.SEND),
])
def test_every_frame_type_is_recognised(text, frame_type):
    """CALLRESULT, CALLERROR and 2.1's CALLRESULTERROR and SEND parse."""
    assert codec.parse(text).type is frame_type


@pytest.mark.parametrize("text,reason", [
    ("{not json", "not valid JSON"),
    ("NaN", "not valid JSON"),
    ('{"a":1}', "not a JSON array but a object"),
    ("[]", "empty array"),
    ('[9,"1","X",{}]', "unknown message type 9"),
    ('["2","1","X",{}]', "unknown message type"),
    ('[2,"1","Heartbeat"]', "CALL must have 4 elements, got 3"),
    ('[2,1,"Heartbeat",{}]', "unique id must be a string, got number"),
    ('[2,"' + "x" * 37 + '","Heartbeat",{}]', "unique id of 37 characters exceeds 36"),
    ('[2,"1",5,{}]', "action must be a non-empty string, got number"),
    ('[2,"1","Heartbeat",[]]', "payload must be a JSON object, got array"),
    ('[3,"1","x"]', "payload must be a JSON object, got string"),
    ('[4,"1",1,"d",{}]', "error code must be a string, got number"),
    ('[4,"1","GenericError","d",null]', "error details must be a JSON object, got null"),
])
def test_malformed_frames_get_a_precise_reason(text, reason):
    """Each kind of bad frame names what is wrong and keeps its raw text."""
    frame = codec.parse(text)
    assert frame.type is FrameType.MALFORMED
    assert reason in frame.reason
    assert frame.raw == text


def test_binary_frames_are_malformed():
    """Binary WebSocket frames are never OCPP."""
    frame = codec.parse(b"\x00\xff[2]")
    assert frame.type is FrameType.MALFORMED and frame.binary
    assert "binary" in frame.reason


def test_oversize_frame_is_flagged():
    """A frame over the configured size gets a clear reason."""
    frame = codec.parse(a_call("DataTransfer", {"data": "x" * 100}), max_size=50)
    assert frame.is_malformed and "exceeds the limit of 50 bytes" in frame.reason
    assert frame.unique_id == "1"


def test_deep_nesting_does_not_crash():
    """Pathological nesting is a MALFORMED frame, not a RecursionError."""
    frame = codec.parse("[" * 100000 + "]" * 100000)
    assert frame.type is FrameType.MALFORMED


def test_builders_round_trip():
    """Frames we build parse back to the same frame."""
    for built in (codec.call("7", "Heartbeat", {}), codec.call_result("7", {"a": 1}),
                  codec.call_error("7", "NotImplemented", "x"), codec.send("7", "X", {})):
        parsed = codec.parse(built.raw)
        assert (parsed.type, parsed.unique_id, parsed.payload) == (built.type, built.unique_id, built.payload)
    assert codec.parse(a_result()).type is FrameType.CALLRESULT
