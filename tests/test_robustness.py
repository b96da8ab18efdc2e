"""Property-based robustness: >10,000 generated hostile frames at the codec and every role.

Nothing crashes, each receiver answers as OCPP asks (a CALLERROR for a bad CALL, nothing for a
bad response), the connection survives, and the proxy forwards byte-exact.
"""

import asyncio
import json
import threading

import pytest

from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from inspector import codec
from inspector.codec import FrameType
from inspector.events import Hub
from inspector.monitor import ConnectionMonitor
from inspector.roles.charger import ChargerOptions, FakeCharger
from tests.fuzz_strategies import binary_frames, hostile_texts
from tests.roles_helpers import csms, proxy, running

SOCKET_SETTINGS = settings(max_examples=2500, deadline=None, database=None,
                           suppress_health_check=list(HealthCheck))


@settings(max_examples=3000, deadline=None, database=None)
@given(st.one_of(hostile_texts, binary_frames))
def test_codec_and_monitor_never_raise(message):
    """Every input becomes a frame; MALFORMED ones say why; raw is kept."""
    frame = codec.parse(message, max_size=1 << 20)
    if isinstance(message, str):
        assert frame.raw == message
    if frame.type is FrameType.MALFORMED:
        assert frame.reason
    hub = Hub()
    record = ConnectionMonitor(hub.new_connection("CP", "proxy", version="2.0.1"), hub.next_seq,
                               max_size=1 << 20).observe("to_csms", message, 0.0)
    assert record.valid in (True, False, None)


def expected_answer(text: str):
    """The id a receiver must answer with (CALL or junk), or None for responses (no answer)."""
    frame = codec.parse(text, max_size=1 << 20)
    if frame.type is FrameType.CALL:
        return frame.unique_id
    if frame.type is FrameType.MALFORMED and not text.lstrip().startswith(("[3", "[4", "[5")):
        return frame.unique_id if frame.unique_id and len(frame.unique_id) <= 36 else "-1"
    return None


class LoopThread:
    """One event loop in a thread, so one connection serves every Hypothesis example.

    Nothing on it may ping: websockets draws ping payloads from the `random` module, and
    Hypothesis flags global random state that changes while it generates an example.
    """

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine, timeout=60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Peer:
    """The far end of a connection under test: sends a frame, then a sentinel CALL, and returns
    every answer that arrived before the sentinel's answer."""

    def __init__(self, ws, sentinel_action="Heartbeat", sentinel_payload="{}"):
        self.ws, self.count = ws, 0
        self.sentinel = (sentinel_action, sentinel_payload)

    async def exchange(self, message):
        self.count += 1
        marker = f"sentinel-{self.count}"
        await self.ws.send(message)
        await self.ws.send(f'[2,"{marker}","{self.sentinel[0]}",{self.sentinel[1]}]')
        got = []
        while True:
            reply = json.loads(await asyncio.wait_for(self.ws.recv(), 10))
            if reply[1] == marker:
                assert reply[0] == 3, reply
                return got
            got.append(reply)


def check_answers(text, got):
    unique_id = expected_answer(text)
    if unique_id is None:
        assert got == [], (text, got)
    else:
        assert len(got) == 1 and got[0][1] == unique_id and got[0][0] in (3, 4), (text, got)


@pytest.fixture(scope="module")
def loop_thread():
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture(scope="module")
def csms_peer(loop_thread):
    server = csms(max_size=1 << 20, ping_interval=None)

    async def open_():
        await server.start()
        return await connect(server.url + "FUZZ", subprotocols=["ocpp2.0.1"], max_size=None,
                             ping_interval=None)

    ws = loop_thread.run(open_())
    yield Peer(ws)
    loop_thread.run(ws.close())
    loop_thread.run(server.stop())


@SOCKET_SETTINGS
@given(hostile_texts)
def test_fake_csms_answers_every_hostile_frame_and_stays_up(loop_thread, csms_peer, text):
    """2,500 frames on one connection: one answer per CALL or junk, nothing for responses."""
    check_answers(text, loop_thread.run(csms_peer.exchange(text)))


async def bare_server():
    """A plain WebSocket server on loopback: (server, port, future of its first connection)."""
    ready = asyncio.get_running_loop().create_future()

    async def handler(ws):
        ready.set_result(ws)
        await ws.wait_closed()

    server = await serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"], max_size=None,
                         ping_interval=None)
    return server, server.sockets[0].getsockname()[1], ready


@pytest.fixture(scope="module")
def charger_peer(loop_thread):
    """A hostile CSMS with our fake charger connected to it; yields the CSMS side's peer."""
    connected = None

    async def open_():
        nonlocal connected
        server, port, ready = await bare_server()
        charger = FakeCharger(Hub(), ChargerOptions(url=f"ws://127.0.0.1:{port}/FUZZ"))
        await charger.connect()
        connected = (server, charger)
        return await asyncio.wait_for(ready, 10)

    ws = loop_thread.run(open_())
    yield Peer(ws, "GetConfiguration", '{"key":["HeartbeatInterval"]}')
    server, charger = connected
    assert not charger.endpoint.closed.is_set(), "the charger dropped the connection"
    loop_thread.run(charger.close())
    server.close()


@SOCKET_SETTINGS
@given(hostile_texts)
def test_fake_charger_answers_every_hostile_frame_and_stays_up(loop_thread, charger_peer, text):
    """2,500 frames from a hostile CSMS: our charger answers each CALL once and stays connected."""
    check_answers(text, loop_thread.run(charger_peer.exchange(text)))


@pytest.fixture(scope="module")
def proxy_pair(loop_thread):
    """charger-side and CSMS-side sockets joined by our proxy."""
    state = {}

    async def open_():
        state["server"], port, ready = await bare_server()
        state["proxy"] = proxy(f"ws://127.0.0.1:{port}")
        await state["proxy"].start()
        charger_side = await connect(state["proxy"].url + "FUZZ", subprotocols=["ocpp1.6"],
                                     max_size=None, ping_interval=None)
        return charger_side, await asyncio.wait_for(ready, 10)

    yield loop_thread.run(open_())
    loop_thread.run(state["proxy"].stop())
    state["server"].close()


@SOCKET_SETTINGS
@given(st.one_of(hostile_texts, binary_frames))
def test_proxy_forwards_hostile_frames_byte_exact(loop_thread, proxy_pair, message):
    """2,500 frames each way arrive unchanged: text as text, binary as binary."""
    charger_side, csms_side = proxy_pair

    async def round_trip():
        await charger_side.send(message)
        upstream = await asyncio.wait_for(csms_side.recv(), 10)
        await csms_side.send(message)
        downstream = await asyncio.wait_for(charger_side.recv(), 10)
        return upstream, downstream

    assert loop_thread.run(round_trip()) == (message, message)


async def test_invalid_utf8_text_frame_closes_with_1007():
    """A text frame that is not UTF-8 breaks the WebSocket protocol: close 1007, roles survive."""
    async with running(csms()) as server:
        async with connect(server.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
            await ws.send(b"[2,\"1\",\"Heartbeat\",{\"a\":\"\xff\xfe\"}]", text=True)
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except Exception:
                pass
            assert ws.close_code == 1007
        async with connect(server.url + "CP2", subprotocols=["ocpp1.6"]) as ws:  # still serving
            await ws.send('[2,"h","Heartbeat",{}]')
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))[0] == 3
