"""Rules as TOML text one rule at a time, for editors: split a file into rules, join them
back, write a rule read from JSON as TOML, switch a rule on or off without losing its
comments. Python reads TOML (tomllib) but does not write it; rules hold only text,
numbers, true/false and JSON-like lists and tables, which is all this writes.
"""

from __future__ import annotations

import json
import re

from pathlib import Path

from .rules import Rule, RuleError, parse_rules

_HEADER = re.compile(r"^\s*\[\[\s*rules?\s*\]\]\s*(#.*)?$")
_ENABLED = re.compile(r"^enabled\s*=.*$", re.MULTILINE)
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def split_rules(text: str) -> list[str]:
    """The rules of a TOML rules file, each as its text without the [[rule]] line
    (comments before the first rule go with it)."""
    snippets: list[list[str]] = []
    preamble: list[str] = []
    for line in text.splitlines():
        if _HEADER.match(line):
            snippets.append(preamble if not snippets else [])
            preamble = []
        elif snippets:
            snippets[-1].append(line)
        else:
            preamble.append(line)
    return ["\n".join(lines).strip("\n") for lines in snippets]


def join_rules(snippets: list[str]) -> str:
    return "".join(f"[[rule]]\n{snippet.strip()}\n\n" for snippet in snippets)


def parse_snippet(snippet: str) -> Rule:
    """One rule's text (RuleError, naming the rule, when it cannot work)."""
    (rule,) = parse_rules("[[rule]]\n" + snippet, toml=True, where="this rule")
    return rule


def rules_as_toml(path: str | Path) -> str:
    """A rules file's text as TOML (a JSON file is written out rule by rule)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleError(f"cannot read rules file {path}: {exc.strerror}") from None
    if path.suffix.lower() == ".toml":
        return text
    rules = parse_rules(text, toml=False, where=f"rules file {path}")
    return join_rules([rule_toml(rule.source) for rule in rules])


def set_enabled(snippet: str, enabled: bool) -> str:
    line = f"enabled = {'true' if enabled else 'false'}"
    if _ENABLED.search(snippet):
        return _ENABLED.sub(line, snippet, count=1)
    return f"{line}\n{snippet}"  # top-level keys come before any [rule.set] table


def rule_toml(source: dict) -> str:
    """A rule (as read from JSON) written as the TOML lines of its table."""
    return "\n".join(f"{_key(key)} = {_value(value)}" for key, value in source.items())


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"TOML has no null: {value!r} cannot be written (use JSON rules for it)")
