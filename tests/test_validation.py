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


@pytest.mark.parametrize("version,action", CASES, ids=[f"{v}-{a}" for v, a in CASES])
def test_verdict_matches_jsonschema(version, action):
    """For templates and their mutations, validate() agrees with the jsonschema validator."""
    slow = validation.compiled(version, action, schemas.REQUEST)
    template = defaults.request_template(version, action, now=NOW)
    for payload in [template, *mutations(template)]:
        expected_valid = not any(True for _ in slow.iter_errors(payload))
        findings = validation.validate(version, action, schemas.REQUEST, payload)
        assert (findings == []) == expected_valid, (payload, findings)


def test_unknown_version_or_action_has_no_verdict():
    """No schema applies: None, not an empty list."""
    assert validation.validate(None, "Heartbeat", "request", {}) is None
    assert validation.validate("1.6", "Teleport", "request", {}) is None
