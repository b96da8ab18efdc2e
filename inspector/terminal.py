"""Text from the wire, made safe to print on a terminal.

A charge point id, an action, a unique id or a reason can carry ESC, NUL, newlines or a
lone surrogate (`%1B` in a URL path, `\\u001b` in JSON): printed raw they would set the
terminal's title, forge table rows, or crash `print` on a UTF-8 console. `printable`
writes every such character as a visible escape, so what a peer sent is still readable.
"""

from __future__ import annotations

import re

_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text) -> str:
    """`text` (any value; None is "") with control characters and lone surrogates escaped."""
    if text is None:
        return ""
    text = str(text)
    if text.isascii() and text.isprintable():
        return text
    return _UNPRINTABLE.sub(_escape, text)
