"""The fast validity path never disagrees with jsonschema's verdict."""

from datetime import datetime, timezone

import pytest

from inspector import defaults, schemas, validation

NOW = datetime(2026, 11, 25, tzinfo=timezone.utc)
CASES = [(v, a) for v in ("1.6", "2.0.1", "2.1") for a in schemas.actions(v)]


def mutations(payload: dict):
    """Payloads one step away from valid: a key removed, a value of the wrong type, an extra key."""
    for key in payload:
        yield {k: v for k, v in payload.items() if k != key}
        yield {**payload, key: [] if not isinstance(payload[key], list) else "x"}
    yield {**payload, "notInTheSchema": 1}


def _leaf_variants(value):
    """Wrong or out-of-range values for one leaf: what breaks enums, limits, lengths and types."""
    if isinstance(value, bool):
        return ["true", 1]
    if isinstance(value, (int, float)):
        return [-1, -0.5, 10 ** 12, 0.3, str(value), None]
    if isinstance(value, str):
        return ["NotAValueOfThisEnum", "x" * 2000, "", 7]
    return []


def deep_mutations(value):
    """Every nested leaf replaced by each of its variants, one at a time (the rest kept)."""
    if isinstance(value, dict):
        for key, item in value.items():
            for variant in deep_mutations(item):
                yield {**value, key: variant}
    elif isinstance(value, list):
        for index, item in enumerate(value):
            for variant in deep_mutations(item):
                yield [*value[:index], variant, *value[index + 1:]]
        yield []
    else:
        yield from _leaf_variants(value)


@pytest.mark.parametrize("version,action", CASES, ids=[f"{v}-{a}" for v, a in CASES])
def test_verdict_matches_jsonschema(version, action):
    """For templates and their mutations, validate() agrees with the jsonschema validator."""
    slow = validation.compiled(version, action, schemas.REQUEST)
    template = defaults.request_template(version, action, now=NOW)
    for payload in [template, *mutations(template)]:
        expected_valid = not any(True for _ in slow.iter_errors(payload))
        findings = validation.validate(version, action, schemas.REQUEST, payload)
        assert (findings == []) == expected_valid, (payload, findings)


@pytest.mark.parametrize("kind", [schemas.REQUEST, schemas.RESPONSE])
def test_fast_path_never_calls_an_invalid_payload_valid(kind):
    """Nested mutations of every action's example: the compiled fast path agrees with jsonschema."""
    for version, action in CASES:
        slow = validation.compiled(version, action, kind)
        if slow is None:
            continue
        example = defaults.example(version, action, kind, now=NOW)
        for payload in [example, *deep_mutations(example)]:
            expected_valid = not any(True for _ in slow.iter_errors(payload))
            findings = validation.validate(version, action, kind, payload)
            assert (findings == []) == expected_valid, (version, action, payload, findings)


def test_unknown_version_or_action_has_no_verdict():
    """No schema applies: None, not an empty list."""
    assert validation.validate(None, "Heartbeat", "request", {}) is None
    assert validation.validate("1.6", "Teleport", "request", {}) is None
