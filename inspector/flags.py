"""Findings about a frame's pairing and transport ("flags"): a stable code plus a message.

A flag reads as its message (it is a `str`), so consoles, reports and exports show it as
before; code that decides anything (answer NotImplemented, fail a conformance step, colour
a row) looks at `flag.code` only, never at the wording. The capture stores both.
"""

from __future__ import annotations

MALFORMED = "malformed"
DUPLICATE_ID = "duplicate-id"
SECOND_CALL = "second-call"
UNPAIRED = "unpaired-response"
UNKNOWN_ACTION = "unknown-action"
UNANSWERED = "unanswered"
NO_RESPONSE = "no-response"
BAD_UTF8 = "bad-utf8"
NOT_DELIVERED = "not-delivered"
NOT_SENT = "not-sent"
OVERSIZE = "oversize"
INSPECTION_STOPPED = "inspection-stopped"
CERTIFICATE_MISMATCH = "certificate-mismatch"  # profile 3: the CN does not hold the boot serial
# what a proxy rule did to a frame (the message names the rule)
RULE_DROPPED = "rule-dropped"
RULE_DELAYED = "rule-delayed"
RULE_CHANGED = "rule-changed"
RULE_ANSWERED = "rule-answered"  # a CALL the proxy answered itself, not forwarded
RULE_INJECTED = "rule-injected"  # a frame the proxy sent that no peer wrote
RULE_CLOSED = "rule-closed"
OTHER = "other"

# for captures written before flags had codes: the wording each code had then
_LEGACY_PREFIXES = (
    ("malformed", MALFORMED), ("duplicate unique id", DUPLICATE_ID),
    ("second CALL while", SECOND_CALL), ("no outstanding CALL", UNPAIRED),
    ("unknown action", UNKNOWN_ACTION), ("unanswered after", UNANSWERED),
    ("no response:", NO_RESPONSE), ("text frame is not valid UTF-8", BAD_UTF8),
    ("not delivered", NOT_DELIVERED), ("not sent", NOT_SENT), ("oversize", OVERSIZE),
    ("inspection stopped", INSPECTION_STOPPED),
)


class Flag(str):
    """A message with a `code` (one of the constants above)."""

    code: str

    def __new__(cls, code: str, message: str) -> "Flag":
        flag = super().__new__(cls, message)
        flag.code = code
        return flag

    def __reduce__(self):  # copies and pickles keep the code
        return (Flag, (self.code, str(self)))


def code_of(flag) -> str:
    """A flag's code; for a plain string (a capture from before codes), from its wording."""
    code = getattr(flag, "code", None)
    if code is not None:
        return code
    return next((c for prefix, c in _LEGACY_PREFIXES if str(flag).startswith(prefix)), OTHER)


def has(flags, code: str) -> bool:
    return any(code_of(f) == code for f in flags or ())


def restore(messages, codes=None) -> list[Flag]:
    """Flags read back from a capture: its stored codes, or (older files) derived ones."""
    if codes and len(codes) == len(messages):
        return [Flag(c, m) for c, m in zip(codes, messages)]
    return [Flag(code_of(m), m) for m in messages]
