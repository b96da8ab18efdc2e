"""How a run is configured: `RunOptions`, the default run parameters, and the run's own errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Awaitable, Callable

from ..roles.common import Listen
from .events import PromptReply, PromptRequest

if TYPE_CHECKING:
    from ..tls import ClientTls, ServerTls
    from .sut_config import SutDescription

# what a front-end passes as `SuiteRunner(prompt=...)`: ask the operator, await the answer
PromptCallback = Callable[[PromptRequest], Awaitable[PromptReply]]

# Parameters every case can use (override with RunOptions.params / --param KEY=VALUE).
DEFAULT_PARAMS: dict = {
    "id_tag": "TAG0001",  # card the operator presents to a charger SUT
    "valid_tag": "TAG0001",  # idTag a CSMS SUT knows as valid
    "invalid_tag": "INVALID01",  # idTag a CSMS SUT answers Invalid
    "blocked_tag": "BLOCKED01",
    "expired_tag": "EXPIRED01",
    "connector": 1,
    "evse": 1,
    "heartbeat_interval": 10,  # seconds we grant a charger SUT at boot
    "boot_retry_interval": 5,  # interval of a Pending / Rejected boot answer
    "meter_interval": 5,  # sampled meter value interval we configure
    "quiet_period": 5,  # how long negative steps watch for a forbidden message
    "hold": 3,  # how long we hold back an answer in the "one outstanding CALL" checks
    "vendor_id": "org.ocpp-inspector.unknown",
    # after step 0 the SUT must have been quiet this long before a case's first trigger, so
    # its boot-time traffic (StatusNotification per connector, ...) is not taken as an answer
    "settle": 2,
}
AUTO_CHARGE_POINT_ID = "SUITE-CP"


class SuiteError(Exception):
    """A problem with the run itself (bad options, cannot listen): one line for the user."""


@dataclass
class RunOptions:
    version: str
    sut: str  # "charger" or "csms"
    listen: Listen | None = None  # SUT charger: where to listen
    target: str | None = None  # SUT csms: URL ending in the charge point id
    auto: bool = False  # --simulate-sut: our simulators play the SUT (never with `target`)
    step_timeout: float = 30.0
    case_timeout: float = 300.0
    connect_timeout: float = 120.0  # how long to wait for a charger (re)connection
    operator_timeout: float = 180.0  # how long a prompt waits for the operator or its effect
    params: dict = field(default_factory=dict)
    csms_overrides: dict = field(default_factory=dict)  # extra FakeCsms overrides (--auto)
    password: str | None = None  # HTTP Basic auth: what we send a CSMS SUT, what a charger SUT must send
    server_tls: "ServerTls | None" = None  # SUT charger: the listener's wss:// certificate (+ client CA)
    client_tls: "ClientTls | None" = None  # SUT csms: trust and client certificate for wss://
    max_size: int = 1 << 20
    charge_point_id: str = AUTO_CHARGE_POINT_ID  # id of the simulated charger (--auto)
    sut_config: "SutDescription | None" = None  # --sut-config: what the SUT has and can do
