"""The state `SuiteRunner` shares with its parts, declared once.

`SuiteRunner` (runner.py) is one object assembled from mixins kept in their own modules
(connections, preconditions, step handlers, --auto). They all read and write the same
attributes, which `SuiteRunner.__init__` sets up; `RunnerState` only declares them, for
readers and type checkers. The parts also call each other's methods through `self`
(e.g. `note` and `_publish` from runner.py, `_open_client` and `_call_sut` from
connections.py, `_auto_prompt` from auto_mode.py).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ..events import Hub
    from ..rpc import Endpoint
    from .auto import AutoCharger, AutoCsms
    from .matching import CaseRun
    from .options import PromptCallback, RunOptions
    from .sut_config import SutDescription


class RunnerState:
    options: RunOptions
    version: str
    sut: str  # CHARGER or CSMS
    hub: Hub
    prompt: PromptCallback | None  # asks the operator (unused with options.auto)
    on_event: Callable[[object], None] | None
    charger_factory: Callable | None  # FakeCharger factory for tests (None: the real one)
    csms_factory: Callable | None  # FakeCsms factory for tests (None: the real one)
    params: dict
    description: SutDescription | None  # --sut-config, or what our simulators declare
    incoming: str  # hub direction of frames from the SUT
    endpoint: str  # URL shown to the user: where we listen, or the target
    target: str | None  # SUT csms: where we connect (a simulated CSMS changes it per case)

    # connections
    current: Endpoint | None  # the connection steps talk to
    _live: set[Endpoint]
    _conn_ids: set[int]  # our connections on the (possibly shared) hub
    _server: object  # SUT charger: the WebSocket server
    _client_tasks: set[asyncio.Task]  # SUT csms: receive loops of our client connections
    _charge_point_ids: list[str]  # ids of the chargers that connected (report header)
    _rejected: list[str]  # why clients were refused, for "did not connect" reasons
    _booted: set[int]  # connections whose BootNotification we Accepted
    _last_sut_call: float  # monotonic time of the SUT's last non-periodic CALL (settling)
    _waited_in_vain: bool  # a charger never came: later cases do not wait as long again

    # answers and transactions
    _transaction_ids: itertools.count
    _open_transactions: dict  # transactions the SUT has open, for the teardown to stop

    # the run
    _run: CaseRun | None  # the running case, None between cases
    _started: bool
    _cancelled: bool
    _case_task: asyncio.Task | None

    # --auto
    _auto_charger: AutoCharger | None  # SUT charger: drives a FakeCharger at our listener
    _auto_csms: AutoCsms | None  # SUT csms: a FakeCsms per case on 127.0.0.1:0
