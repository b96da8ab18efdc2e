"""The proxy forwards byte-exact, in order, both ways, and flags what it cannot understand."""

import asyncio
import base64
import contextlib
import hashlib
import os
import re
import struct

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import apply_mask

from tests.conftest import exported
from tests.roles_helpers import logged_hub, proxy, raw_charger, running

pytestmark = pytest.mark.both_loops

ODD_FRAMES = [
    '{oops',                                            # not JSON
    '[2, "x1",   "BootNotification", {"bad": 1}]',      # schema-invalid, odd spacing
    '[2,"x2","Teleport",{}]',                           # unknown action
    '[2,"' + "i" * 40 + '","Heartbeat",{}]',            # id too long
    '["two"]',                                          # wrong shape
    '[2,"x3","DataTransfer",{"vendorId":"é","data":"ünïcode ✓"}]',           # non-ASCII, must stay byte-identical
]


class RecordingUpstream:
    """A bare WebSocket server standing in for a CSMS: records what arrives, can reply."""

    def __init__(self, subprotocol="ocpp1.6", replies=(), close_with=None):
        self.received, self.requests = [], []
        self.subprotocol, self.replies, self.close_with = subprotocol, list(replies), close_with
        self.done = asyncio.Event()

    async def handler(self, ws):
        self.requests.append(ws.request)
        for reply in self.replies:
            await ws.send(reply)
        if self.close_with:
            await ws.close(*self.close_with)
            return
        try:
            async for message in ws:
                self.received.append(message)
        except ConnectionClosed:
            pass
        self.done.set()

    @contextlib.asynccontextmanager
    async def serving(self):
        async with serve(self.handler, "127.0.0.1", 0, subprotocols=[self.subprotocol],
                         compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            yield f"ws://127.0.0.1:{port}/ocpp"


async def test_odd_frames_arrive_byte_identical_and_flagged(tmp_path):
    """Malformed, invalid and unknown frames are forwarded unchanged, then flagged in the log."""
    upstream = RecordingUpstream(replies=ODD_FRAMES)
    hub, writer = logged_hub(tmp_path / "p.db")
    async with upstream.serving() as url, running(proxy(url, hub)) as relay:
        async with connect(relay.url + "CP1", subprotocols=["ocpp1.6"], compression=None) as ws:
            got_back = [await asyncio.wait_for(ws.recv(), 5) for _ in ODD_FRAMES]
            for frame in ODD_FRAMES:
                await ws.send(frame)
            await ws.send(b"\x00\x01binary")
        await asyncio.wait_for(upstream.done.wait(), 5)
    writer.close()
    assert got_back == ODD_FRAMES
    assert upstream.received == ODD_FRAMES + [b"\x00\x01binary"]
    frames = exported(tmp_path / "p.db")
    to_csms = [f for f in frames if f["direction"] == "to_csms"]
    assert [f["raw"] for f in to_csms[:-1]] == ODD_FRAMES
    kinds = [(f["type"], f["valid"]) for f in to_csms]
    assert kinds == [("MALFORMED", False), ("CALL", False), ("CALL", None), ("MALFORMED", False),
                     ("MALFORMED", False), ("CALL", True), ("MALFORMED", False)]
    assert "unknown action 'Teleport' in OCPP 1.6" in to_csms[2]["flags"]
    assert "binary" in to_csms[-1]["errors"][0]["message"]


async def test_upstream_down_fails_the_handshake_with_502(tmp_path):
    """With no CSMS listening the charger gets HTTP 502 and the log says why."""
    hub, writer = logged_hub(tmp_path / "p.db")
    dead = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = dead.sockets[0].getsockname()[1]
    dead.close()
    await dead.wait_closed()
    async with running(proxy(f"ws://127.0.0.1:{port}", hub)) as relay:
        with pytest.raises(InvalidStatus) as failure:
            await connect(relay.url + "CP9", subprotocols=["ocpp1.6"])
    writer.close()
    assert failure.value.response.status_code == 502
    from inspector.store import Capture
    [connection] = Capture(tmp_path / "p.db").connections()
    assert connection["charge_point_id"] == "CP9" and "unavailable" in connection["note"]


async def test_path_subprotocol_and_authorization_pass_through():
    """Upstream sees the charger's path tail, offered subprotocols and Authorization."""
    upstream = RecordingUpstream(subprotocol="ocpp2.0.1")
    token = "Basic " + base64.b64encode(b"CP5:secret").decode()
    async with upstream.serving() as url, running(proxy(url)) as relay:
        async with connect(relay.url + "CP5", subprotocols=["ocpp2.1", "ocpp2.0.1"],
                           additional_headers={"Authorization": token}) as ws:
            assert ws.subprotocol == "ocpp2.0.1"  # what upstream chose
    [request] = upstream.requests
    assert request.path == "/ocpp/CP5"
    assert request.headers["Authorization"] == token
    assert request.headers["Sec-WebSocket-Protocol"] == "ocpp2.1, ocpp2.0.1"


async def test_close_code_and_reason_are_mirrored():
    """When the CSMS closes with a code and reason, the charger sees the same."""
    upstream = RecordingUpstream(close_with=(4001, "go away"))
    async with upstream.serving() as url, running(proxy(url)) as relay:
        async with connect(relay.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert (ws.close_code, ws.close_reason) == (4001, "go away")


async def test_many_chargers_at_once_keep_their_order():
    """50 chargers each send 20 numbered frames; upstream sees each stream complete and in order."""
    streams: dict[str, list] = {}

    async def handler(ws):
        frames = streams.setdefault(ws.request.path, [])
        with contextlib.suppress(ConnectionClosed):
            async for message in ws:
                frames.append(message)

    async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with running(proxy(url)) as relay:
            async def one(n):
                async with connect(f"{relay.url}CP{n}", subprotocols=["ocpp1.6"]) as ws:
                    for i in range(20):
                        await ws.send(f'[2,"{i}","Heartbeat",{{}}]')
            await asyncio.gather(*(one(n) for n in range(50)))
            for _ in range(100):
                if sum(len(v) for v in streams.values()) == 1000:
                    break
                await asyncio.sleep(0.02)
    assert len(streams) == 50
    for frames in streams.values():
        assert frames == [f'[2,"{i}","Heartbeat",{{}}]' for i in range(20)]


def _masked_text_frame(text: str | bytes) -> bytes:
    payload = text.encode() if isinstance(text, str) else text
    mask = os.urandom(4)
    return (bytes([0x81, 0x80 | 127]) + struct.pack("!Q", len(payload)) + mask
            + apply_mask(payload, mask))


async def _until(condition, seconds: float) -> None:
    """Poll until condition() holds or the time is up (the caller's assert says what failed)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


async def _accept_websocket(reader, writer) -> None:
    """Answer a raw WebSocket upgrade as a CSMS would, without a WebSocket library."""
    head = await reader.readuntil(b"\r\n\r\n")
    key = re.search(rb"Sec-WebSocket-Key: (\S+)", head, re.I).group(1)
    accept = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                              .digest()).decode()
    writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n"
                  "Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())


async def test_text_that_is_not_utf8_is_forwarded_as_is_and_flagged(tmp_path):
    """Invalid UTF-8 in a text frame reaches the CSMS unchanged; the log flags it."""
    received = bytearray()
    sent = _masked_text_frame(b'[2,"u1","DataTransfer",{"vendorId":"\xff\xfe"}]')

    async def csms(reader, writer):
        await _accept_websocket(reader, writer)
        while len(received) < len(sent):
            chunk = await reader.read(1 << 16)
            if not chunk:
                break
            received.extend(chunk)

    upstream = await asyncio.start_server(csms, "127.0.0.1", 0)
    hub, log = logged_hub(tmp_path / "p.db")
    url = f"ws://127.0.0.1:{upstream.sockets[0].getsockname()[1]}"
    async with running(proxy(url, hub)) as relay:
        reader, writer = await raw_charger(relay)
        writer.write(sent)
        await _until(lambda: len(received) >= len(sent), 5)
        writer.close()
    upstream.close()
    log.close()
    assert bytes(received) == sent
    [frame] = exported(tmp_path / "p.db")
    assert "text frame is not valid UTF-8" in frame["flags"]
    assert frame["action"] == "DataTransfer" and "\ufffd" in frame["raw"]


async def test_a_stalled_csms_pushes_back_on_the_charger_and_nothing_is_lost():
    """The CSMS stops reading: the proxy stops reading the charger (its buffer stays bounded,
    the rest waits in the charger's socket), then relays all 32 MB byte-exact once it resumes."""
    resume, received = asyncio.Event(), bytearray()
    message = '[2,"{}","DataTransfer",{{"vendorId":"x","data":"' + "d" * (256 * 1024) + '"}}]'
    sent = b"".join(_masked_text_frame(message.format(i)) for i in range(128))

    async def stalling_csms(reader, writer):
        await _accept_websocket(reader, writer)
        await resume.wait()
        while len(received) < len(sent):
            chunk = await reader.read(1 << 20)
            if not chunk:
                break
            received.extend(chunk)
        writer.close()

    upstream = await asyncio.start_server(stalling_csms, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{upstream.sockets[0].getsockname()[1]}"
    async with running(proxy(url)) as relay:
        reader, writer = await raw_charger(relay)
        writer.write(sent)
        # kernel buffers on loopback hold some MB; the proxy at most ~1 MiB more; what is
        # left must wait in the charger's own buffer instead of piling up in the proxy
        backlog = 0
        for _ in range(100):
            await asyncio.sleep(0.02)
            if writer.transport.get_write_buffer_size() == backlog:
                break
            backlog = writer.transport.get_write_buffer_size()
        assert backlog > 8 << 20
        resume.set()
        await asyncio.wait_for(writer.drain(), 30)
        await _until(lambda: len(received) >= len(sent), 10)
        writer.close()
    upstream.close()
    assert bytes(received) == sent
