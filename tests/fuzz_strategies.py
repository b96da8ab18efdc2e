"""Hypothesis strategies for hostile OCPP-J input: random JSON, wrong shapes, huge ids,
deep nesting, near-valid frames and oversize payloads."""

import json

from hypothesis import strategies as st

ACTIONS = ["BootNotification", "Heartbeat", "Authorize", "StatusNotification", "MeterValues",
           "DataTransfer", "TransactionEvent", "StartTransaction", "Teleport", ""]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=8)
unique_ids = st.one_of(st.text(min_size=0, max_size=50), st.integers(), st.none(),
                       st.just("x" * 37), st.just("x" * 36))
small_payloads = st.dictionaries(st.sampled_from(["idTag", "status", "vendorId", "data", "x", ""]),
                                 json_scalars, max_size=4)
frame_like = st.builds(
    lambda number, unique_id, action, payload, tail, arity: json.dumps(
        [number, unique_id, action, payload, tail][:arity]),
    st.sampled_from([2, 3, 4, 5, 6, 7, 0, "2", 2.0, None]), unique_ids,
    st.one_of(st.sampled_from(ACTIONS), json_scalars),
    st.one_of(small_payloads, json_scalars, st.lists(json_scalars, max_size=3)),
    st.one_of(small_payloads, json_scalars),
    st.integers(1, 5),
)


def _nest(depth: int) -> str:
    return "[" * depth + "]" * depth


hostile_texts = st.one_of(
    frame_like,
    json_values.map(json.dumps),
    st.text(max_size=200),  # arbitrary text, mostly not JSON
    st.integers(1, 200_000).map(_nest),  # deep nesting
    st.integers(0, 3000).map(lambda n: json.dumps([2, "big", "DataTransfer",
                                                   {"vendorId": "V", "data": "y" * (n * 100)}])),
)
binary_frames = st.binary(min_size=0, max_size=300)
