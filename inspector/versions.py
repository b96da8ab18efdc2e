"""OCPP versions, their WebSocket subprotocols and RPC error codes."""

from __future__ import annotations

V16, V201, V21 = "1.6", "2.0.1", "2.1"
VERSIONS = (V16, V201, V21)

SUBPROTOCOLS = {V16: "ocpp1.6", V201: "ocpp2.0.1", V21: "ocpp2.1"}
_BY_SUBPROTOCOL = {v: k for k, v in SUBPROTOCOLS.items()}


def version_of(subprotocol: str | None) -> str | None:
    """The OCPP version a negotiated subprotocol names, or None when unknown."""
    return _BY_SUBPROTOCOL.get(subprotocol or "")


def normalise(version: str) -> str:
    """Accept '1.6', 'ocpp1.6', '16', '2.0.1', '201', '2.1', '21' and return the canonical form."""
    text = version.strip().lower().removeprefix("ocpp")
    aliases = {"16": V16, "1.6j": V16, "201": V201, "2.01": V201, "21": V21}
    text = aliases.get(text.replace(".", ""), text) if text not in VERSIONS else text
    if text not in VERSIONS:
        raise ValueError(f"unknown OCPP version {version!r}; use one of {', '.join(VERSIONS)}")
    return text


def error_code(version: str | None, generic: str) -> str:
    """Translate a 2.x error code name to what the given version calls it.

    1.6 spells two codes differently (FormationViolation, OccurenceConstraintViolation)
    and has no MessageTypeNotSupported / RpcFrameworkError.
    """
    if version == V16:
        return {
            "FormatViolation": "FormationViolation",
            "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
            "MessageTypeNotSupported": "NotImplemented",
            "RpcFrameworkError": "ProtocolError",
        }.get(generic, generic)
    return generic
