"""Mutated simulators make the right cases fail, with a reason a tester understands."""

from __future__ import annotations

from inspector import codec
from inspector.conformance import Verdict
from inspector.roles.charger import FakeCharger
from inspector.rpc import NoReply, new_unique_id

from suite_helpers import by_id, run


def factory(cls):
    return lambda hub, options: cls(hub, options)


class WrongEnumCharger(FakeCharger):
    """Reports 'Chargng' instead of 'Charging': not in the schema's enum."""

    async def send_status(self, status, connector=None):
        if status == "Charging":
            connector = self.options.connector if connector is None else connector
            self.status = status
            await self.call("StatusNotification", {"connectorId": connector, "errorCode": "NoError",
                                                   "status": "Chargng"})
            return
        await super().send_status(status, connector)


class SuspendedCharger(FakeCharger):
    """Never reports Charging: says SuspendedEVSE (a valid value, just the wrong one)."""

    async def send_status(self, status, connector=None):
        await super().send_status("SuspendedEVSE" if status == "Charging" else status, connector)


class SilentCharger(FakeCharger):
    """Never answers GetConfiguration."""

    async def _handle_GetConfiguration(self, payload):
        raise NoReply()


class ImpatientCharger(FakeCharger):
    """Sends its Heartbeat without waiting for the answer, so its next CALL overlaps."""

    async def heartbeat(self):
        await self.endpoint.send_frame(codec.call(new_unique_id(), "Heartbeat", {}))


class EagerCharger(FakeCharger):
    """Retries a rejected BootNotification at once instead of after the interval."""

    async def boot(self, *, retries=3, reason=None, retry_rejected=False):
        for _ in range(retries + 1):
            answer = await self.call("BootNotification", {
                "reason": reason or "PowerUp",
                "chargingStation": {"model": "M", "vendorName": "V"}})
            if answer["status"] == "Accepted":
                return "Accepted"
        return answer["status"]


class ForgetfulCharger(FakeCharger):
    """Always boots with reason PowerUp, even after a Reset."""

    async def boot(self, *, retries=3, reason=None, retry_rejected=False):
        return await super().boot(retries=retries, retry_rejected=retry_rejected)


async def test_schema_invalid_status_notification_fails_the_step_that_received_it():
    result = await run("1.6", "charger", ["TC_001_CS", "TC_003_CS", "TC_012_CS"],
                       charger_factory=factory(WrongEnumCharger))
    cases = by_id(result)
    assert cases["TC_001_CS"].verdict is Verdict.PASS  # no Charging there
    for case_id in ("TC_003_CS", "TC_012_CS"):
        case = cases[case_id]
        assert case.verdict is Verdict.FAIL
        failed = next(s for s in case.steps if s.verdict is Verdict.FAIL)
        assert "Charging" in failed.title  # the step expecting the Charging status
        assert failed.reason.startswith("the SUT's StatusNotification request is schema-invalid: "
                                        "$.status: 'Chargng' is not one of")
        assert any(f.valid is False and f.used for f in failed.frames)
        assert case.reason == f"step {failed.index}: {failed.reason}"
        later = case.steps[failed.index + 1:]
        assert later and all(s.verdict is Verdict.INCONCLUSIVE and s.reason.startswith("not run")
                             for s in later)


async def test_wrong_status_value_times_out_with_what_was_seen_instead():
    result = await run("1.6", "charger", ["TC_003_CS"], step_timeout=1,
                       charger_factory=factory(SuspendedCharger))
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert case.reason.endswith("expected StatusNotification with connectorId 1, "
                                "status Charging within 1 s, got SuspendedEVSE")


async def test_csms_boot_answer_missing_interval_fails_with_the_schema_finding():
    broken = {"BootNotification": {"$replace": {"status": "Accepted",
                                                "currentTime": "2025-01-01T00:00:00.000Z"}}}
    result = await run("1.6", "csms", ["TC_001_CSMS", "TC_003_CSMS"], csms_overrides=broken)
    cases = by_id(result)
    expected = ("the SUT's BootNotification response is schema-invalid: "
                "$.interval: required property 'interval' is missing")
    boot = cases["TC_001_CSMS"]
    assert boot.verdict is Verdict.FAIL and boot.reason == f"step 2: {expected}"
    # a case that needs a booted station fails in its precondition, for the same reason
    session = cases["TC_003_CSMS"]
    assert session.verdict is Verdict.FAIL and session.reason == f"step 0: {expected}"


async def test_csms_that_never_answers_times_out():
    result = await run("2.0.1", "csms", ["TC_B_01_CSMS"], step_timeout=0.5,
                       csms_overrides={"Heartbeat": {"$noreply": True}})
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert case.reason == "step 4: no response to Heartbeat within 0.5 s"


async def test_csms_accepting_an_invalid_card_fails_the_authorization_case():
    result = await run("1.6", "csms", ["TC_023_1_CSMS"],
                       csms_overrides={"Authorize": {"idTagInfo": {"status": "Accepted"}}})
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert case.reason.endswith("Authorize response: idTagInfo.status is 'Accepted', expected Invalid")


async def test_charger_that_never_answers_times_out():
    result = await run("1.6", "charger", ["TC_019_CS", "TC_013_CS"], step_timeout=0.5,
                       charger_factory=factory(SilentCharger))
    cases = by_id(result)
    assert cases["TC_019_CS"].reason == "step 1: no response to GetConfiguration within 0.5 s"
    assert cases["TC_013_CS"].verdict is Verdict.PASS


async def test_second_call_while_one_is_outstanding_fails_the_rpc_case():
    result = await run("2.0.1", "charger", ["RPC_03_CS"], charger_factory=factory(ImpatientCharger))
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert "the SUT sent StatusNotification while its previous CALL" in case.reason
    assert "(one outstanding CALL at a time)" in case.reason


async def test_rejected_boot_retried_before_the_interval_fails():
    result = await run("2.0.1", "charger", ["TC_B_03_CS"], charger_factory=factory(EagerCharger))
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert "BootNotification: " in case.reason and "before the interval of 1 s" in case.reason


async def test_boot_reason_after_reset_is_checked():
    result = await run("2.0.1", "charger", ["TC_B_20_CS"], charger_factory=factory(ForgetfulCharger))
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert case.reason.endswith("BootNotification: reason is 'PowerUp', expected RemoteReset")
