"""Engine behaviour a front-end relies on: events, prompts, timeouts, cancellation, helpers."""

from __future__ import annotations

import asyncio
import time

from inspector.conformance import (CaseFinished, CaseStarted, PromptReply, PromptRequested,
                                   StepFinished, StepStarted, SuiteFinished, SuiteRunner, SuiteStarted,
                                   Verdict)
from inspector.conformance.model import (MISSING, Case, Expect, Prompt, Send, Wait, contains, eq,
                                         get_path, one_of, present)
from inspector.events import FrameLogged, Hub

from suite_helpers import options, run


def test_paths_and_checks_explain_themselves():
    payload = {"a": {"b": [{"c": 1}, {"c": 2}]}, "s": "Accepted"}
    assert get_path(payload, "a.b[1].c") == 2
    assert get_path(payload, "a.b[*].c") == [1, 2]
    assert get_path(payload, "a.x") is MISSING
    assert eq("s", "Accepted").evaluate(payload, None) is None
    assert eq("s", "Rejected").evaluate(payload, None) == "s is 'Accepted', expected Rejected"
    assert one_of("s", ["A", "B"]).evaluate(payload, None) == "s is 'Accepted', expected one of A, B"
    assert contains("a.b[*].c", 3).evaluate(payload, None) == "a.b[*].c does not contain 3 (got [1,2])"
    assert eq("missing", 1).evaluate(payload, None) == "missing is absent, expected 1"
    keys = {"configurationKey": [{"key": "HeartbeatInterval", "value": "300"},
                                 {"key": "NumberOfConnectors", "value": "2"}]}
    assert get_path(keys, "configurationKey[key=NumberOfConnectors].value") == "2"
    assert get_path(keys, "configurationKey[key=Nope].value") is MISSING
    assert present("a").evaluate({"a": []}, None) == "a is an empty list"
    assert present("a").evaluate({}, None) == "a is missing"


def test_long_reasons_are_summarised_and_capped():
    from inspector.conformance.frames import REASON_LIMIT, clip_reason, count_actions
    assert count_actions(["MeterValues"] * 35 + ["Heartbeat"] * 2) == "MeterValues x35, Heartbeat x2"
    assert count_actions(list("abcdef")) == "a, b, c, d, 2 other action(s)"
    clipped = clip_reason("x" * 60_000)
    assert len(clipped) <= REASON_LIMIT and clipped.endswith("more characters)")


async def test_events_and_prompts_for_a_front_end():
    """A GUI sees each case and step as it happens and answers prompts asynchronously."""
    seen, prompts = [], []
    hub = Hub()
    frames = []
    hub.subscribe(lambda e: frames.append(e) if isinstance(e, FrameLogged) else None)

    async def operator(request):
        prompts.append(request)
        await asyncio.sleep(0.01)  # a person takes a moment
        return PromptReply.done("done by the test operator")

    # SUT csms in auto mode: the simulated CSMS plays the SUT, this operator is not asked;
    # with auto=False the runner asks our callback and we play the CSMS's side ourselves.
    result = await run("1.6", "csms", ["TC_001_CSMS", "TC_054_CSMS"], hub=hub, on_event=seen.append)
    kinds = [type(e) for e in seen]
    assert kinds[0] is SuiteStarted and kinds[-1] is SuiteFinished
    assert kinds.count(CaseStarted) == kinds.count(CaseFinished) == 2
    assert kinds.count(StepStarted) == kinds.count(StepFinished)
    assert PromptRequested in kinds  # TC_054_CSMS asks for a TriggerMessage
    finished = [e.result for e in seen if isinstance(e, StepFinished)]
    assert all(step.verdict is Verdict.PASS for step in finished)
    assert frames, "frames go through the hub (and so to a capture file)"
    assert result.passed

    # a real (non-auto) charger run asks the prompt callback
    runner = SuiteRunner(options("1.6", "charger", auto=False, connect_timeout=0.5), prompt=operator)
    case = Case("TC_TEST_CS", "prompt only", "1.6", "charger", "test",
                [Prompt("Wave at connector {connector}", action="plug_in", args={"n": 1})], before="none")
    try:
        outcome = await runner.run([case])
    finally:
        runner.close()
    assert outcome.passed
    assert prompts[0].text == "Wave at connector 1" and prompts[0].action == "plug_in"
    assert prompts[0].args == {"n": 1} and prompts[0].case_id == "TC_TEST_CS"
    assert outcome.cases[0].steps[1].reason == "done by the test operator"


async def test_prompt_answers_map_to_verdicts():
    replies = iter([PromptReply.failed("cable stuck"), PromptReply.skip("no card here")])

    async def operator(request):
        return next(replies)

    steps = [Prompt("first")]
    cases = [Case(f"TC_P{i}_CS", "p", "1.6", "charger", "t", steps, before="none") for i in (1, 2)]
    runner = SuiteRunner(options("1.6", "charger", auto=False), prompt=operator)
    try:
        result = await runner.run(cases)
    finally:
        runner.close()
    assert result.cases[0].verdict is Verdict.FAIL
    assert result.cases[0].reason == "step 1: operator reported a failure: cable stuck"
    assert result.cases[1].verdict is Verdict.INCONCLUSIVE
    assert result.exit_code == 1


async def test_without_an_operator_every_unobservable_prompt_is_inconclusive_at_once():
    """No prompt handler (a non-interactive run): each prompt that leaves no observable trace
    ends inconclusive at once, the first and every later one; never a hang."""
    runner = SuiteRunner(options("1.6", "charger", auto=False, operator_timeout=60))
    cases = [Case(f"TC_Q{i}_CS", "q", "1.6", "charger", "t", [Prompt("do something"), Wait(seconds=0)],
                  before="none") for i in range(3)]
    started = time.monotonic()
    try:
        result = await asyncio.wait_for(runner.run(cases), 20)
    finally:
        runner.close()
    assert time.monotonic() - started < 15  # not the 60 s operator timeout, not the case limit
    for case in result.cases:
        assert case.verdict is Verdict.INCONCLUSIVE
        assert case.reason == "step 1: needs an operator: do something (non-interactive run)"
    assert result.exit_code == 1


async def _raw_charger_at(url: str):
    from websockets.asyncio.client import connect
    return await connect(url, subprotocols=["ocpp1.6"])


async def test_an_observed_prompt_ends_by_itself_without_a_key_press():
    """The operator never answers; the SUT does what the prompt asked (its next step sees
    it), so the prompt ends as passed, the front-end is told to close it, and the
    operator callback is cancelled."""
    import json
    from inspector.conformance import PromptDismissed
    asked, cancelled, seen = [], [], []

    async def operator(request):
        asked.append(request)
        try:
            await asyncio.Event().wait()  # a person who never presses a key
        except asyncio.CancelledError:
            cancelled.append(request.step_index)
            raise

    case = Case("TC_OBS_CS", "observed", "1.6", "charger", "t", [
        Prompt("Plug the cable into connector {connector}"),
        Expect("StatusNotification", where={"status": "Preparing"}),
    ], before="none")
    runner = SuiteRunner(options("1.6", "charger", auto=False, operator_timeout=60),
                         prompt=operator, on_event=seen.append)
    ws = None
    try:
        await runner.start()
        task = asyncio.ensure_future(runner.run([case]))
        while not asked:
            await asyncio.sleep(0.02)
        assert asked[0].observe == "the SUT sending StatusNotification with status Preparing"
        assert asked[0].timeout == 60
        ws = await _raw_charger_at(runner.endpoint + "CP1")
        await ws.send(json.dumps([2, "s1", "StatusNotification",
                                  {"connectorId": 1, "errorCode": "NoError", "status": "Preparing"}]))
        result = await asyncio.wait_for(task, 20)
    finally:
        if ws is not None:
            await ws.close()
        await runner.stop()
        runner.close()
    assert result.passed, result.cases[0].log(frames=False)
    prompt_step = result.cases[0].steps[1]
    assert prompt_step.reason == "observed: the SUT sending StatusNotification with status Preparing"
    assert cancelled == [1]
    assert [e.reason for e in seen if isinstance(e, PromptDismissed)] == [prompt_step.reason]


async def test_an_unanswered_prompt_ends_inconclusive_after_the_operator_timeout():
    async def operator(request):
        await asyncio.Event().wait()

    case = Case("TC_SLOWOP_CS", "nobody", "1.6", "charger", "t", [Prompt("do it")], before="none")
    runner = SuiteRunner(options("1.6", "charger", auto=False, operator_timeout=0.5), prompt=operator)
    try:
        result = await asyncio.wait_for(runner.run([case]), 20)
    finally:
        runner.close()
    assert result.cases[0].verdict is Verdict.INCONCLUSIVE
    assert result.cases[0].reason == "step 1: no answer from the operator within 0.5 s"


def test_simulating_the_sut_never_replaces_a_named_target():
    import pytest
    from inspector.conformance import RunOptions, SuiteError
    with pytest.raises(SuiteError, match="not ws://csms.example/CP1"):
        SuiteRunner(RunOptions(version="1.6", sut="csms", target="ws://csms.example/CP1", auto=True))


async def test_case_time_limit_stops_a_case_and_the_run_continues():
    slow = Case("TC_SLOW_CSMS", "slow", "2.0.1", "csms", "t", [Wait(seconds=30)])
    quick = Case("TC_QUICK_CSMS", "quick", "2.0.1", "csms", "t",
                 [Send("Heartbeat", {}, checks=[eq("currentTime", "x")])])
    runner = SuiteRunner(options("2.0.1", "csms", case_timeout=0.5))
    started = time.monotonic()
    try:
        result = await runner.run([slow, quick])
    finally:
        runner.close()
    assert time.monotonic() - started < 5
    first, second = result.cases
    assert first.verdict is Verdict.ERROR
    assert first.reason == "step 1: the case time limit of 0.5 s was reached"
    assert second.verdict is Verdict.FAIL and "currentTime is '" in second.reason


async def test_expect_times_out_with_what_arrived():
    case = Case("TC_T_CS", "t", "1.6", "charger", "t",
                [Expect("Authorize", timeout=0.3)])
    runner = SuiteRunner(options("1.6", "charger"))
    try:
        result = await runner.run([case])
    finally:
        runner.close()
    assert result.cases[0].reason == "step 1: expected Authorize within 0.3 s, got nothing"


async def test_cancel_ends_the_run_with_an_error_and_reports_what_ran():
    runner = SuiteRunner(options("2.0.1", "csms"))
    cases = [Case(f"TC_W{i}_CSMS", "w", "2.0.1", "csms", "t", [Wait(seconds=30)]) for i in range(3)]
    task = asyncio.create_task(runner.run(cases))
    await asyncio.sleep(0.5)
    runner.cancel()
    try:
        result = await asyncio.wait_for(task, 5)
    finally:
        runner.close()
    assert len(result.cases) == 1
    assert result.cases[0].verdict is Verdict.ERROR and "cancelled" in result.cases[0].reason


async def test_cancelling_the_run_task_leaves_nothing_running():
    """A GUI may simply cancel the task that awaits run(): the case and sockets go too."""
    runner = SuiteRunner(options("1.6", "charger"))
    case = Case("TC_W_CS", "w", "1.6", "charger", "t", [Wait(seconds=30)])
    task = asyncio.create_task(runner.run([case]))
    await asyncio.sleep(0.5)
    task.cancel()
    try:
        await asyncio.wait_for(task, 5)
    except asyncio.CancelledError:
        pass
    finally:
        runner.close()
    assert not runner.connections.listening and runner._case_task.done()
