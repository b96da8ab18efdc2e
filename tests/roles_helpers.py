"""Helpers to run roles inside a test's event loop, on 127.0.0.1 port 0."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import socket
import subprocess
import time
from urllib.parse import urlsplit

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.roles.csms import FakeCsms
from inspector.roles.proxy import Proxy
from inspector.store import CaptureWriter
from tests.conftest import LOOPBACK


@contextlib.asynccontextmanager
async def running(role):
    await role.start()
    try:
        yield role
    finally:
        await role.stop()


def csms(hub=None, **kwargs) -> FakeCsms:
    return FakeCsms(hub or Hub(), LOOPBACK, **kwargs)


def proxy(upstream: str, hub=None, **kwargs) -> Proxy:
    return Proxy(hub or Hub(), LOOPBACK, upstream, **kwargs)


async def run_charger(url: str, version: str = "1.6", hub=None, **kwargs) -> FakeCharger:
    options = ChargerOptions(url=url, version=version, interval=kwargs.pop("interval", 0.01),
                             meter_values=kwargs.pop("meter_values", 2), **kwargs)
    charger = FakeCharger(hub or Hub(), options)
    await charger.connect()
    try:
        await charger.run_session()
    finally:
        await charger.close()
    return charger


def logged_hub(path) -> tuple[Hub, CaptureWriter]:
    hub = Hub()
    writer = CaptureWriter(path)
    writer.attach(hub)
    return hub, writer


async def raw_charger(role, path: str = "CP1", *, receive_buffer: int | None = None):
    """A charger on a plain socket to a listening role, past the opening handshake:
    (reader, writer), for tests that must write bytes no WebSocket library would send.
    `receive_buffer` shrinks the socket's receive buffer (a peer that reads slowly)."""
    port = urlsplit(role.url if hasattr(role, "url") else role).port
    if receive_buffer is None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n").encode())
    assert b" 101 " in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return reader, writer


def listening_url(process: subprocess.Popen, timeout: float = 20) -> str:
    """The ws:// URL a role started as `ocpp-inspector csms|proxy` prints when it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"listening on (ws://127\.0\.0\.1:\d+/)", process.stdout.readline())
        if match:
            return match.group(1)
    raise AssertionError("the role did not start listening")


def recording_hub() -> tuple[Hub, list]:
    """A hub and the list of every event published on it, in order."""
    hub, events = Hub(), []
    hub.subscribe(events.append)
    return hub, events
