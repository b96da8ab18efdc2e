"""Schema checks of OCPP payloads against the OCA JSON schemas, per version and action.

Validation reports findings; it never raises into the relay. Validators are compiled
once per (version, action, kind) and cached.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import jsonschema
import jsonschema_rs
from jsonschema import validators

from . import schemas
from .versions import V16, error_code

# OCPP error code a receiver would answer with, per JSON-schema rule broken.
_RULE_TO_ERROR = {
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",
    "minLength": "TypeConstraintViolation",
    "format": "TypeConstraintViolation",
    "enum": "PropertyConstraintViolation",
    "minimum": "PropertyConstraintViolation",
    "maximum": "PropertyConstraintViolation",
    "multipleOf": "PropertyConstraintViolation",
    "const": "PropertyConstraintViolation",
    "pattern": "PropertyConstraintViolation",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken rule: where (JSON path), what (message), which rule, and its OCPP error code."""

    path: str
    message: str
    rule: str
    ocpp_error: str

    def as_dict(self) -> dict:
        return {"path": self.path, "message": self.message, "rule": self.rule,
                "ocpp_error": self.ocpp_error}


def _multiple_of(validator, divisor, instance, schema):
    """multipleOf on decimals: 1.6 limits use 0.1 steps, which binary floats cannot hit.

    Compare in decimal arithmetic on the number's shortest repr so 7.3 is a multiple of 0.1.
    """
    if not validator.is_type(instance, "number"):
        return
    try:
        quotient = Decimal(repr(instance)) / Decimal(repr(divisor))
    except (InvalidOperation, ValueError):
        return
    if quotient != quotient.to_integral_value():
        yield jsonschema.ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _validator_class(version: str):
    base = jsonschema.Draft4Validator if version == V16 else jsonschema.Draft6Validator
    return validators.extend(base, {"multipleOf": _multiple_of})


@functools.cache
def compiled(version: str, action: str, kind: str):
    """A ready validator for a request/response of an action, or None when no schema applies."""
    schema = schemas.load(version, action, kind)
    if schema is None:
        return None
    # OCA schemas carry an "id"/"$id" URN that some drafts would try to resolve; drop it.
    schema = {k: v for k, v in schema.items() if k not in ("id", "$id")}
    return _validator_class(version)(schema)


@functools.cache
def _fast(version: str, action: str, kind: str):
    """A compiled (Rust) check that says "valid" 10-20x faster than fastjsonschema did.

    Used only to say "valid" quickly: it is stricter on float multipleOf, so any failure is
    re-checked by the jsonschema validator, which makes the verdict and writes the
    findings. Valid frames (the vast majority) never pay for jsonschema.
    """
    schema = schemas.load(version, action, kind)
    schema = {k: v for k, v in schema.items() if k not in ("id", "$id")}
    try:
        # formats off: jsonschema (which gives the verdict) does not check them either
        return jsonschema_rs.validator_for(schema, validate_formats=False, offline=True).is_valid
    except Exception:  # a schema construct it cannot compile: always use jsonschema
        return None


def json_path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def validate(version: str | None, action: str | None, kind: str, payload) -> list[Finding] | None:
    """Findings for a payload, [] when valid, None when no schema applies (unknown action/version)."""
    if version is None or action is None:
        return None
    validator = compiled(version, action, kind)
    if validator is None:
        return None
    fast = _fast(version, action, kind)
    if fast is not None:
        try:
            if fast(payload):
                return []
        except Exception:  # never let the fast path break validation
            pass
    try:
        return _findings(validator, version, payload)
    except RecursionError:  # nested deeper than the interpreter's stack: invalid, never a crash
        return [Finding("$", "nested too deep to validate", "depth",
                        error_code(version, "FormatViolation"))]


_MESSAGE_LIMIT = 300  # jsonschema quotes the offending value: a huge one must not bloat a row


def _findings(validator, version: str, payload) -> list[Finding]:
    findings = []
    for error in validator.iter_errors(payload):
        rule = error.validator
        path = list(error.absolute_path)
        message = error.message
        if rule == "required":
            # name the missing property in the path, which is what a tester looks for
            missing = message.split("'")[1] if "'" in message else ""
            path = path + [missing] if missing else path
            message = f"required property {missing!r} is missing" if missing else message
        elif rule == "additionalProperties":
            message = message.replace("Additional properties are not allowed",
                                      "property not allowed by the schema")
        generic = _RULE_TO_ERROR.get(rule, "FormatViolation")
        if len(message) > _MESSAGE_LIMIT:
            message = message[:_MESSAGE_LIMIT - 3] + "..."
        findings.append(Finding(json_path(path), message, rule, error_code(version, generic)))
    findings.sort(key=lambda f: f.path)
    return findings


def is_known_action(version: str | None, action: str) -> bool:
    return version is not None and action in _action_set(version)


@functools.cache
def _action_set(version: str) -> frozenset[str]:
    return frozenset(schemas.actions(version))  # a hash lookup per frame, not a scan
