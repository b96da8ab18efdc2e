"""Shared pieces of the conformance tests: fast run options and a runner wrapper."""

from __future__ import annotations

from inspector.conformance import RunOptions, SuiteRunner, catalog
from inspector.roles.common import Listen

# short intervals so a whole suite runs in seconds on loopback
FAST = {"heartbeat_interval": 1, "boot_retry_interval": 1, "meter_interval": 1,
        "quiet_period": 0.4, "hold": 0.4, "settle": 0.1}


def options(version: str, sut: str, *, auto: bool = True, step_timeout: float = 3.0,
            case_timeout: float = 30.0, **kwargs) -> RunOptions:
    params = {**FAST, **kwargs.pop("params", {})}
    listen = Listen("127.0.0.1", 0) if sut == "charger" else None
    return RunOptions(version=version, sut=sut, listen=listen, auto=auto, step_timeout=step_timeout,
                      case_timeout=case_timeout, params=params, **kwargs)


async def run(version: str, sut: str, ids=None, *, hub=None, prompt=None, on_event=None,
              charger_factory=None, csms_factory=None, **kwargs):
    runner = SuiteRunner(options(version, sut, **kwargs), hub=hub, prompt=prompt,
                         on_event=on_event, charger_factory=charger_factory,
                         csms_factory=csms_factory)
    try:
        return await runner.run(catalog.select(version, sut, ids))
    finally:
        runner.close()


def by_id(result) -> dict:
    return {case.case_id: case for case in result.cases}


def failures(result) -> str:
    return "\n\n".join(case.log(frames=False) for case in result.cases if not case.passed)
