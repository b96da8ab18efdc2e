"""The data model of the conformance engine: one import for everything a case is written with.

Cases are plain data (see `testsuites/`); nothing in the model does I/O, the runner
(`runner.py`) interprets steps against a live connection. The model lives in small
modules; this one re-exports them so `from inspector.conformance.model import ...` keeps
working for test suites, tests and front-ends:

- `terms.py`: SUT kinds (`CHARGER`, `CSMS`) and `Verdict`.
- `values.py`: placeholders (`V`, `IntV`, `NOW`, `Calc`, ...), `resolve`, `get_path`, `show`.
- `checks.py`: payload checks (`eq`, `one_of`, `not_before`, ...) and `where=` filters.
- `steps.py`: step kinds (`Expect`, `Send`, `Prompt`, ...) and replies (`answer`, ...).
- `cases.py`: `Case`.  `results.py`: `StepResult`, `CaseResult`, `RunResult`, `FrameEntry`.
"""

from __future__ import annotations

# re-exported: the public model, importable from here as before the split
from .cases import BEFORE_STATES, Case
from .checks import (Check, TimingCheck, absent, contains, eq, eq_or_absent, gt, is_datetime,
                     is_int, length, ne, nonempty_str, not_before, one_of, present, satisfies,
                     setup_check, tag_check)
from .results import CaseResult, FrameEntry, RunResult, StepResult
from .steps import (CheckSecurity, Connect, Disconnect, Expect, ExpectDisconnect, ExpectNone,
                    Handshake, NetworkDown, NetworkUp, Prompt, Reply, Send, SendRaw, Step, Wait,
                    answer, answer_error, answer_exactly)
from .terms import CHARGER, CSMS, SUT_KINDS, Verdict, worst
from .values import (MISSING, NOW, Calc, FloatV, Fmt, IntV, Now, Placeholder, StepTimeoutPlus, StrV,
                     V, get_path, resolve, show, show_json)

__all__ = [
    # terms
    "CHARGER", "CSMS", "SUT_KINDS", "Verdict", "worst",
    # values
    "MISSING", "Placeholder", "V", "Now", "NOW", "Fmt", "Calc", "IntV", "StrV", "FloatV",
    "StepTimeoutPlus", "resolve", "show", "show_json", "get_path",
    # checks
    "Check", "TimingCheck", "eq", "ne", "one_of", "eq_or_absent", "present", "absent", "gt",
    "is_int", "nonempty_str", "is_datetime", "contains", "length", "satisfies", "not_before",
    "setup_check", "tag_check",
    # steps
    "Reply", "answer", "answer_exactly", "answer_error", "Step", "Expect", "Send", "SendRaw",
    "Wait", "ExpectNone", "Prompt", "Connect", "Disconnect", "ExpectDisconnect", "Handshake",
    "CheckSecurity", "NetworkDown", "NetworkUp",
    # cases and results
    "BEFORE_STATES", "Case", "FrameEntry", "StepResult", "CaseResult", "RunResult",
]
