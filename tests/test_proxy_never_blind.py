"""The proxy never forwards a frame it does not log: oversize messages, broken fragmentation
and undecodable frames leave a flagged row, and reading goes on with the next frame."""

from __future__ import annotations

import os
import struct

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from inspector.wsframes import (HEAD_KEPT, FrameReader, Message, OP_CONTINUATION, OP_TEXT,
                                Oversize, StreamError)
from tests.conftest import exported
from tests.roles_helpers import logged_hub, proxy, running


def frame(opcode: int, payload: bytes, *, fin: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return head + payload
    mask = os.urandom(4)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def feed_in_pieces(reader: FrameReader, data: bytes, size: int) -> list:
    events = []
    for start in range(0, len(data), size):
        events += reader.feed(data[start:start + size])
    return events


def test_an_oversize_frame_is_measured_and_reading_goes_on():
    big = b'[2,"big","DataTransfer",{"data":"' + b"x" * 5000 + b'"}]'
    stream = (frame(OP_TEXT, b'[2,"a","Heartbeat",{}]') + frame(OP_TEXT, big)
              + frame(OP_TEXT, b'[2,"b","Heartbeat",{}]'))
    for piece in (len(stream), 7, 1000):  # whole, tiny reads, reads that cut the big frame
        events = feed_in_pieces(FrameReader(max_message=1000), stream, piece)
        assert [type(e) for e in events] == [Message, Oversize, Message], piece
        assert events[1].size == len(big) and events[1].head == big[:HEAD_KEPT]
        assert events[2].payload == b'[2,"b","Heartbeat",{}]'


def test_an_oversize_fragmented_message_and_a_broken_fragmentation_are_survived():
    part = b"y" * 800
    stream = (frame(OP_TEXT, b'[2,"f","DataTransfer",{"data":"' + part, fin=False)
              + frame(OP_CONTINUATION, part, fin=False) + frame(OP_CONTINUATION, b'"}]')
              # a fragmented message cut short by a new message: one finding, then reading on
              + frame(OP_TEXT, b'[2,"cut"', fin=False) + frame(OP_TEXT, b'[2,"n1","Heartbeat",{}]')
              + frame(OP_TEXT, b'[2,"n2","Heartbeat",{}]')
              # an extension nobody negotiated: skipped with a finding
              + frame(OP_TEXT, b"compressed?", rsv=0x40) + frame(OP_TEXT, b'[2,"n3","Heartbeat",{}]'))
    events = feed_in_pieces(FrameReader(max_message=1000), stream, 13)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["Oversize", "StreamError", "Message", "Message", "StreamError", "Message"], kinds
    assert events[0].size == 2 * 800 + len(b'[2,"f","DataTransfer",{"data":"') + 3
    assert "began before the previous fragmented one ended" in events[1].reason
    assert "reserved bits" in events[4].reason
    assert not any(isinstance(e, StreamError) and e.fatal for e in events)


async def test_the_proxy_logs_an_oversize_message_and_every_frame_after_it(tmp_path):
    async def upstream_csms(ws):  # takes any size, answers every CALL
        async for text in ws:
            uid = text.split('"')[1]
            await ws.send(f'[3,"{uid}",{{"currentTime":"2026-01-01T00:00:00Z"}}]')

    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    big = '[2,"big","DataTransfer",{"vendorId":"v","data":"' + "x" * (17 << 20) + '"}]'
    try:
        async with serve(upstream_csms, "127.0.0.1", 0, subprotocols=["ocpp1.6"], max_size=None) as server:
            port = server.sockets[0].getsockname()[1]
            async with running(proxy(f"ws://127.0.0.1:{port}", hub)) as role:
                async with connect(role.url + "CP1", subprotocols=["ocpp1.6"], max_size=None) as ws:
                    for message in ('[2,"h1","Heartbeat",{}]', big, '[2,"h2","Heartbeat",{}]'):
                        await ws.send(message)
                        await ws.recv()  # every one crossed the proxy and was answered
        writer.flush()
    finally:
        writer.close()
    to_csms = [f for f in exported(path) if f["direction"] == "to_csms"]
    assert [f["unique_id"] for f in to_csms] == ["h1", "big", "h2"]
    oversize = to_csms[1]
    assert oversize["type"] == "MALFORMED" and oversize["raw"].startswith('[2,"big","DataTransfer"')
    assert f"oversize: {len(big)} bytes, logged truncated" in oversize["flags"]
    assert "above the inspection limit" in oversize["errors"][0]["message"]
    answers = [f for f in exported(path) if f["direction"] == "to_charger"]
    assert len(answers) == 3


async def test_very_deep_json_is_an_invalid_frame_not_a_dropped_connection(tmp_path):
    from tests.roles_helpers import csms
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    answers = []
    try:
        async with running(csms(hub)) as role:
            async with connect(role.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
                for depth in (900, 5000):  # deep enough for the validator, and for the decoder
                    deep = '{"a":' * depth + "1" + "}" * depth
                    await ws.send(f'[2,"deep{depth}","DataTransfer",{{"vendorId":"v","data":{deep}}}]')
                    answers.append(await ws.recv())
                await ws.send('[2,"after","Heartbeat",{}]')
                assert '"after"' in await ws.recv()
        writer.flush()
    finally:
        writer.close()
    # refused with a CALLERROR carrying its id; the connection lived
    assert answers[0].startswith('[4,"deep900"') and answers[1].startswith('[4,"deep5000"')
    rows = {f["unique_id"]: f for f in exported(path) if f["direction"] == "to_csms"}
    assert rows["deep900"]["valid"] is False and rows["deep5000"]["type"] == "MALFORMED"
    assert rows["after"]["valid"] is True


async def test_the_proxy_refuses_dot_segments_and_bare_line_breaks(tmp_path):
    """Nothing it was not asked to carry goes upstream: a '..' tail or a header with a bare
    LF is refused with 400, logged, and the CSMS never sees it."""
    import asyncio
    import base64
    from inspector.events import Hub
    from tests.roles_helpers import csms
    seen = []
    upstream_hub = Hub()
    upstream_hub.subscribe(lambda e: seen.append(e))
    hub = Hub()
    notices = []
    hub.subscribe(lambda e: notices.append(e.text) if hasattr(e, "text") else None)
    async with running(csms(upstream_hub)) as upstream:
        async with running(proxy(upstream.url + "ocpp", hub)) as role:
            port = int(role.url.rsplit(":", 1)[1].strip("/"))
            for path, extra in (("/../admin/CP1", ""), ("/%2e%2e/CP1", ""),
                                ("/CP1", "X-Note: a\nInjected: yes\r\n")):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                key = base64.b64encode(b"0123456789abcdef").decode()
                writer.write((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                              f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                              f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n"
                              f"{extra}\r\n").encode())
                status = await asyncio.wait_for(reader.readline(), 10)
                assert status.startswith(b"HTTP/1.1 400 "), (path, status)
                writer.close()
    assert not [e for e in seen if type(e).__name__ == "ConnectionOpened"]  # nothing reached it
    assert any("'..' segments" in n for n in notices) and any("bare line break" in n for n in notices)
