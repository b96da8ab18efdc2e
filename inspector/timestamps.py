"""OCPP timestamps (RFC 3339) to and from epoch seconds, the one way the project reads them."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_time(text) -> float | None:
    """Epoch seconds from an OCPP timestamp ('Z' or an offset; naive means UTC); None when
    it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def iso(epoch: float) -> str:
    """'2026-11-30T10:00:00Z' (whole seconds, UTC)."""
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds") \
        .replace("+00:00", "Z")
