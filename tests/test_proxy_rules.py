"""Proxy rules over real sockets: fake charger -> proxy (with rules) -> fake CSMS, one capture."""

import asyncio
import contextlib
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from inspector import flags
from inspector.events import Hub
from inspector.rules import RuleBook, load_rules, parse_rules
from inspector.roles.charger import ChargerError, ChargerOptions, FakeCharger
from tests.conftest import exported, raw_json
from tests.roles_helpers import csms, listening_url, logged_hub, proxy, running

CLI = [sys.executable, "-m", "inspector"]

pytestmark = pytest.mark.both_loops


def rules(toml: str) -> RuleBook:
    return RuleBook(parse_rules(toml, toml=True))


@contextlib.asynccontextmanager
async def chain(tmp_path, book: RuleBook, **charger_options):
    """A fake CSMS behind a proxy with `book`, and a fake 1.6 charger connected through it;
    yields (charger, csms, proxy); the capture is written to tmp_path / 'c.db'."""
    hub, writer = logged_hub(tmp_path / "c.db")
    try:
        async with running(csms(hub)) as server, \
                running(proxy(server.url.rstrip("/"), hub, rules=book)) as relay:
            options = ChargerOptions(url=relay.url + "CP1", version="1.6", **charger_options)
            charger = FakeCharger(hub, options)
            await charger.connect()
            try:
                yield charger, server, relay
            finally:
                await charger.close()
    finally:
        writer.close()


def frames_of(tmp_path, role: str) -> list[dict]:
    return [f for f in exported(tmp_path / "c.db")
            if f["connection_id"] in _connections_of(tmp_path, role)]


def _connections_of(tmp_path, role: str) -> set[int]:
    from inspector.store import Capture
    capture = Capture(tmp_path / "c.db")
    try:
        return {c["id"] for c in capture.connections() if c["role"] == role}
    finally:
        capture.close()


def codes(frame: dict) -> list[str]:
    return frame["flag_codes"]


async def test_delayed_heartbeat_answers_show_the_delay_everywhere(tmp_path):
    """A rule holding Heartbeat answers 2 s: the charger waits 2 s, and both the proxy's and
    the charger's log show about 2 s of latency for it."""
    book = rules('[[rule]]\nname = "slow"\ndirection = "to_charger"\ntype = "CALLRESULT"\n'
                 'action = "Heartbeat"\ndo = "delay"\nms = 2000\n')
    async with chain(tmp_path, book) as (charger, _, _):
        await charger.boot()
        started = asyncio.get_running_loop().time()
        await charger.heartbeat()
        waited = asyncio.get_running_loop().time() - started
    assert waited >= 1.9
    for role in ("proxy", "charger"):
        answer = next(f for f in frames_of(tmp_path, role)
                      if f["type"] == "CALLRESULT" and f["action"] == "Heartbeat")
        assert answer["latency_ms"] >= 1900, role
    proxied = [f for f in frames_of(tmp_path, "proxy") if f["action"] == "Heartbeat"]
    assert flags.RULE_DELAYED in codes(proxied[-1])
    boot_answer = next(f for f in frames_of(tmp_path, "proxy")
                       if f["type"] == "CALLRESULT" and f["action"] == "BootNotification")
    assert boot_answer["latency_ms"] < 1000 and not codes(boot_answer)  # untouched


async def test_boot_answered_with_a_callerror_makes_the_charger_report_it(tmp_path):
    """A callerror rule on BootNotification: the CSMS never sees it, the charger gets the
    CALLERROR and says so; the capture shows the call as answered by the rule and the
    injected CALLERROR as sent by the proxy."""
    book = rules('[[rule]]\nname = "no boot"\ntype = "CALL"\naction = "BootNotification"\n'
                 'do = "callerror"\nerror_code = "InternalError"\ndescription = "down for test"\n')
    async with chain(tmp_path, book) as (charger, server, _):
        with pytest.raises(ChargerError, match="InternalError: down for test"):
            await charger.boot(retries=0)
    csms_frames = frames_of(tmp_path, "csms")
    assert not [f for f in csms_frames if f["action"] == "BootNotification"]
    proxied = frames_of(tmp_path, "proxy")
    call = next(f for f in proxied if f["type"] == "CALL")
    assert codes(call) == [flags.RULE_ANSWERED] and "no boot" in call["flags"][0]
    error = next(f for f in proxied if f["type"] == "CALLERROR")
    assert error["direction"] == "to_charger" and codes(error) == [flags.RULE_INJECTED]
    assert raw_json(error)[1] == raw_json(call)[1] and raw_json(error)[2] == "InternalError"
    assert error["action"] == "BootNotification" and error["latency_ms"] is not None


async def test_a_dropped_answer_leaves_the_csms_unanswered(tmp_path):
    """Dropping the charger's answer to a CSMS call: the CSMS times out, and the proxy's
    capture has the answer logged as dropped."""
    book = rules('[[rule]]\nname = "mute"\ndirection = "to_csms"\ntype = "CALLRESULT"\n'
                 'action = "GetConfiguration"\ndo = "drop"\n')
    async with chain(tmp_path, book) as (charger, server, _):
        await charger.boot()
        with pytest.raises(Exception) as raised:
            await server.call("CP1", "GetConfiguration", {}, timeout=1.5)
        assert "GetConfiguration" in str(raised.value) or isinstance(raised.value, TimeoutError)
        await charger.heartbeat()  # traffic goes on
    proxied = frames_of(tmp_path, "proxy")
    answer = next(f for f in proxied if f["type"] == "CALLRESULT"
                  and f["action"] == "GetConfiguration")
    assert codes(answer) == [flags.RULE_DROPPED] and "mute" in answer["flags"][0]
    assert not [f for f in frames_of(tmp_path, "csms") if f["type"] == "CALLRESULT"
                and f["action"] == "GetConfiguration"]
    assert [f for f in frames_of(tmp_path, "csms") if f["action"] == "Heartbeat"]


async def test_a_patched_answer_reaches_the_charger_with_the_original_kept(tmp_path):
    """A patch rule turns the CSMS's Authorize answer Invalid: the charger gets Invalid,
    the capture shows the patched frame with the CSMS's original beside it."""
    book = rules('[[rule]]\nname = "refuse"\ntype = "CALLRESULT"\naction = "Authorize"\n'
                 'where = \'$.idTagInfo.status == "Accepted"\'\ndo = "patch"\n'
                 'set = { "$.idTagInfo.status" = "Invalid" }\n')
    async with chain(tmp_path, book) as (charger, _, _):
        await charger.boot()
        answer = await charger.call("Authorize", {"idTag": "TAG1"})
    assert answer["idTagInfo"]["status"] == "Invalid"
    proxied = next(f for f in frames_of(tmp_path, "proxy")
                   if f["type"] == "CALLRESULT" and f["action"] == "Authorize")
    assert raw_json(proxied)[2]["idTagInfo"]["status"] == "Invalid"
    assert '"Accepted"' in proxied["original"] and proxied["valid"] is True
    assert codes(proxied) == [flags.RULE_CHANGED]
    seen_by_csms = next(f for f in frames_of(tmp_path, "csms")
                        if f["type"] == "CALLRESULT" and f["action"] == "Authorize")
    assert raw_json(seen_by_csms)[2]["idTagInfo"]["status"] == "Accepted"


async def test_first_only_and_every_nth(tmp_path):
    """`first = 1` acts once per connection; frames after it pass untouched."""
    book = rules('[[rule]]\nname = "once"\ntype = "CALL"\naction = "Heartbeat"\n'
                 'do = "duplicate"\nfirst = 1\n')
    async with chain(tmp_path, book) as (charger, _, _):
        await charger.boot()
        for _ in range(3):
            await charger.heartbeat()
    csms_calls = [f for f in frames_of(tmp_path, "csms")
                  if f["type"] == "CALL" and f["action"] == "Heartbeat"]
    assert len(csms_calls) == 4  # one copy of the first
    assert flags.DUPLICATE_ID in codes(csms_calls[1])
    injected = [f for f in frames_of(tmp_path, "proxy") if flags.RULE_INJECTED in codes(f)]
    assert len(injected) == 1


@pytest.mark.parametrize("do, code", [("close", 4001), ("cut", 1006)])
async def test_close_and_cut_end_the_connection(tmp_path, do, code):
    """close sends both sides a close frame with the rule's code; cut drops TCP without one."""
    extra = 'close_code = 4001\nreason = "rule test"\n' if do == "close" else ""
    book = rules(f'[[rule]]\nname = "end"\ntype = "CALL"\naction = "Heartbeat"\ndo = "{do}"\n'
                 + extra)
    async with chain(tmp_path, book) as (charger, _, _):
        await charger.boot()
        with pytest.raises(ChargerError):
            await charger.heartbeat()
        await asyncio.wait_for(charger.endpoint.closed.wait(), 10)
    proxied = frames_of(tmp_path, "proxy")
    call = [f for f in proxied if f["action"] == "Heartbeat"][0]
    assert codes(call) == [flags.RULE_CLOSED, flags.NO_RESPONSE]
    from inspector.store import Capture
    capture = Capture(tmp_path / "c.db")
    try:
        closed = {c["role"]: c["close_code"] for c in capture.connections()}
    finally:
        capture.close()
    assert closed["proxy"] == code
    assert closed["charger"] == code  # what the charger saw: our close frame, or none

async def test_rules_edited_live_take_effect_on_open_connections(tmp_path):
    """Replacing the book's rules mid-connection: the next frame obeys the new rules, and
    emptying them returns the connection to the byte pipe."""
    book = RuleBook()
    async with chain(tmp_path, book) as (charger, _, relay):
        await charger.boot()
        book.replace(parse_rules('[[rule]]\nname = "late"\ndo = "delay"\nms = 300\n'
                                 'type = "CALLRESULT"\naction = "Heartbeat"\n', toml=True))
        await charger.heartbeat()
        book.replace([])
        await charger.heartbeat()
    answers = [f for f in frames_of(tmp_path, "proxy")
               if f["type"] == "CALLRESULT" and f["action"] == "Heartbeat"]
    assert codes(answers[0]) == [flags.RULE_DELAYED] and answers[0]["latency_ms"] >= 280
    assert codes(answers[1]) == []


# ---- the CLI and the shipped examples ----------------------------------------------------

EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "rules").iterdir())


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_shipped_rules_example_loads(path):
    assert load_rules(path)


def test_proxy_cli_runs_a_rules_file_and_refuses_a_broken_one(tmp_path):
    """`proxy --rules`: a rule that cannot work is one line and exit 1 before anything
    listens; a good file is listed when the proxy starts and acts on the traffic."""
    broken = tmp_path / "broken.toml"
    broken.write_text('[[rule]]\nname = "x"\ndo = "delay"\naction = "Hearbeat"\nms = 5\n')
    result = subprocess.run([*CLI, "proxy", "--upstream", "ws://127.0.0.1:1", "--rules",
                             str(broken), "--no-log"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "rule 'x': no OCPP action 'Hearbeat' (did you mean Heartbeat?)" in result.stderr
    intercept = tmp_path / "intercept.toml"
    intercept.write_text('[[rule]]\nname = "look"\ndo = "intercept"\n')
    result = subprocess.run([*CLI, "proxy", "--upstream", "ws://127.0.0.1:1", "--rules",
                             str(intercept), "--no-log"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "needs the window" in result.stderr
    rules_file = Path(__file__).parent.parent / "examples" / "rules" / "slow-heartbeat.toml"
    with subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--no-log"],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as server:
        upstream = listening_url(server)
        with subprocess.Popen([*CLI, "proxy", "--listen", "127.0.0.1:0", "--upstream", upstream,
                               "--rules", str(rules_file), "--db", str(tmp_path / "p.db")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as relay:
            lines = []
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any("listening on" in l for l in lines):
                lines.append(relay.stdout.readline())
            url = re.search(r"listening on (ws://\S+/)", "".join(lines)).group(1)
            line = relay.stdout.readline()
            assert "rule 'slow heartbeat answers': to_charger, CALLRESULT, Heartbeat -> " \
                   "delay 2000 ms" in line
            charger = subprocess.run([*CLI, "charger", "--url", url + "CP7", "--no-log",
                                      "--meter-values", "1", "-q"],
                                     capture_output=True, text=True, timeout=120)
            relay.send_signal(signal.SIGINT)
            relay.wait(20)
            server.send_signal(signal.SIGINT)
            server.wait(20)
    assert charger.returncode == 0, charger.stderr
    heartbeat = [f for f in exported(tmp_path / "p.db")
                 if f["type"] == "CALLRESULT" and f["action"] == "Heartbeat"]
    assert heartbeat and all(f["latency_ms"] >= 1900 for f in heartbeat)
    assert all(codes(f) == [flags.RULE_DELAYED] for f in heartbeat)


# ---- intercept ----------------------------------------------------------------------------

async def test_intercepted_frames_wait_for_a_decision_and_hold_only_their_connection(tmp_path):
    """An intercept rule pauses CP1's StatusNotification: CP2 goes on meanwhile; an edit
    reaches the CSMS with the original kept; a dropped frame never does."""
    from inspector.intercept import EDITED, DROPPED, FramePaused, Interceptor, PauseEnded

    hub, writer = logged_hub(tmp_path / "c.db")
    events = []
    hub.subscribe(lambda e: events.append(e) if type(e) in (FramePaused, PauseEnded) else None)
    interceptor = Interceptor(hub)
    book = rules('[[rule]]\nname = "look"\ncharge_point = "CP1"\ntype = "CALL"\n'
                 'action = "StatusNotification"\ndo = "intercept"\n')
    try:
        async with running(csms(hub)) as server, \
                running(proxy(server.url.rstrip("/"), hub, rules=book,
                              interceptor=interceptor)) as relay:
            chargers = {}
            for name in ("CP1", "CP2"):
                chargers[name] = FakeCharger(hub, ChargerOptions(
                    url=relay.url + name, version="1.6", call_timeout=2))
                await chargers[name].connect()
                await chargers[name].boot()
            first = asyncio.ensure_future(chargers["CP1"].send_status("Available"))
            paused = await _next_pause(events)
            assert paused.connection.charge_point_id == "CP1" and paused.rule == "look"
            assert '"Available"' in paused.text
            await chargers["CP2"].send_status("Available")  # another connection flows
            await chargers["CP2"].heartbeat()
            assert not first.done()
            assert interceptor.forward(paused.id, paused.text.replace("Available", "Faulted"))
            await asyncio.wait_for(first, 10)
            assert events[-1].outcome == EDITED
            second = asyncio.ensure_future(chargers["CP1"].send_status("Preparing"))
            paused = await _next_pause(events)
            assert interceptor.drop(paused.id)
            with pytest.raises(ChargerError):
                await asyncio.wait_for(second, 10)  # unanswered: the call times out
            assert events[-1].outcome == DROPPED and not interceptor.paused
            for charger in chargers.values():
                await charger.close()
    finally:
        writer.close()
    seen = [raw_json(f)[3]["status"] for f in frames_of(tmp_path, "csms")
            if f["type"] == "CALL" and f["action"] == "StatusNotification"
            and f["charge_point_id"] == "CP1"]
    assert seen == ["Faulted"]
    edited = next(f for f in frames_of(tmp_path, "proxy") if flags.RULE_CHANGED in codes(f))
    assert '"Available"' in edited["original"] and "edited by you" in edited["flags"][0]
    dropped = next(f for f in frames_of(tmp_path, "proxy") if flags.RULE_DROPPED in codes(f))
    assert '"Preparing"' in dropped["raw"]


async def _next_pause(events, timeout=10):
    """The next paused frame not yet settled (waits for it, bounded)."""
    from inspector.intercept import FramePaused, PauseEnded
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        ended = {e.paused.id for e in events if type(e) is PauseEnded}
        waiting = [e.paused for e in events if type(e) is FramePaused and e.paused.id not in ended]
        if waiting:
            return waiting[0]
        await asyncio.sleep(0.01)
    raise AssertionError("nothing was paused")


async def test_a_connection_closing_ends_its_pauses(tmp_path):
    from inspector.intercept import CONNECTION_CLOSED, FramePaused, Interceptor, PauseEnded

    hub, events = Hub(), []
    hub.subscribe(lambda e: events.append(e) if type(e) in (FramePaused, PauseEnded) else None)
    interceptor = Interceptor(hub)
    book = rules('[[rule]]\nname = "all calls"\ntype = "CALL"\ndo = "intercept"\n')
    async with running(csms(hub)) as server, \
            running(proxy(server.url.rstrip("/"), hub, rules=book,
                          interceptor=interceptor)) as relay:
        charger = FakeCharger(hub, ChargerOptions(url=relay.url + "CP9", version="1.6"))
        await charger.connect()
        boot = asyncio.ensure_future(charger.boot())
        for _ in range(1000):
            if events:
                break
            await asyncio.sleep(0.01)
        assert type(events[0]) is FramePaused
        await charger.close()
        with pytest.raises(ChargerError):
            await asyncio.wait_for(boot, 10)
        for _ in range(1000):
            if len(events) > 1:
                break
            await asyncio.sleep(0.01)
    assert type(events[1]) is PauseEnded and events[1].outcome == CONNECTION_CLOSED
    assert not interceptor.paused
