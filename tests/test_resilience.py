"""Peers that vanish, half-open connections, a CSMS restart, 1,000 connections, kill -9."""

import asyncio
import gc
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from inspector.events import Hub
from inspector.roles.common import Listen
from inspector.roles.csms import FakeCsms
from tests.conftest import exported
from tests.roles_helpers import csms, logged_hub, proxy, raw_charger, run_charger, running


@pytest.mark.both_loops
async def test_csms_vanishing_mid_call_is_flagged_and_mirrored(tmp_path):
    """The CSMS dies with a CALL outstanding: the charger gets 1001, the CALL is flagged."""
    hub, writer = logged_hub(tmp_path / "p.db")

    async def dying_csms(ws):
        await ws.recv()
        ws.transport.abort()  # no close frame: the TCP connection just goes away

    async with serve(dying_csms, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        async with running(proxy(url, hub)) as relay:
            async with connect(relay.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
                await ws.send('[2,"c1","Heartbeat",{}]')
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 5)
                assert ws.close_code == 1001
    writer.close()
    [call] = exported(tmp_path / "p.db")
    assert call["flags"] == ["no response: the connection closed"]


@pytest.mark.both_loops
async def test_half_open_peers_are_found_by_tcp_keepalive():
    """Relayed sockets get TCP keepalive, so a peer whose network vanished (no FIN) is dropped
    by the OS without the proxy touching the frame stream."""
    from inspector.roles.proxy import _keepalive

    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
    _keepalive(writer, 30)
    sock = writer.get_extra_info("socket")
    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    if hasattr(socket, "TCP_KEEPIDLE"):
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 30
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
    writer.close()
    server.close()


async def test_fake_csms_drops_a_silent_half_open_charger():
    """A charger that completes the handshake and then never answers pings is dropped,
    and the log records the closed connection."""
    events = []
    hub = Hub()
    hub.subscribe(events.append)
    async with running(csms(hub, ping_interval=0.2)) as server:
        reader, writer = await raw_charger(server, "SILENT")
        for _ in range(100):  # no pong ever: ping timeout, then the connection is closed
            if any(type(e).__name__ == "ConnectionClosed" for e in events):
                break
            await asyncio.sleep(0.05)
        writer.close()
    [closed] = [e for e in events if type(e).__name__ == "ConnectionClosed"]
    assert closed.connection.charge_point_id == "SILENT" and closed.connection.close_code == 1006


@pytest.mark.both_loops
async def test_csms_restart_under_the_proxy():
    """The CSMS goes away and comes back on the same port; chargers reconnect through the proxy."""
    hub = Hub()
    first = FakeCsms(hub, Listen("127.0.0.1", 0))
    await first.start()
    port = first.port
    async with running(proxy(f"ws://127.0.0.1:{port}")) as relay:
        async with connect(relay.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
            await first.stop()
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1001  # going away, mirrored from the CSMS
        second = FakeCsms(hub, Listen("127.0.0.1", port))
        await second.start()
        try:
            await run_charger(relay.url + "CP1", meter_values=1)
        finally:
            await second.stop()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
async def test_thousand_connections_through_the_proxy_without_loss_or_leaks():
    """1,000 chargers x 5 frames: all arrive in order; afterwards no task or fd is left over."""
    streams: dict[str, list] = {}

    async def upstream(ws):
        frames = streams.setdefault(ws.request.path, [])
        try:
            async for message in ws:
                frames.append(message)
                await ws.send(message.replace("[2,", "[3,", 1).rsplit(",", 2)[0] + ",{}]")
        except ConnectionClosed:
            pass

    async with serve(upstream, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None,
                     ping_interval=None) as server:
        url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        relay = proxy(url)
        await relay.start()
        gc.collect()
        tasks_before, fds_before = len(asyncio.all_tasks()), open_fds()
        gate = asyncio.Semaphore(200)  # bounded concurrent handshakes

        async def one(n):
            async with gate:
                ws = await connect(f"{relay.url}CP{n}", subprotocols=["ocpp1.6"], compression=None,
                                   ping_interval=None, open_timeout=30)
            async with ws:
                for i in range(5):
                    await ws.send(f'[2,"{i}","Heartbeat",{{}}]')
                    await asyncio.wait_for(ws.recv(), 30)

        await asyncio.gather(*(one(n) for n in range(1000)))
        for _ in range(300):
            if relay.active == 0:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        gc.collect()
        assert relay.active == 0
        assert len(asyncio.all_tasks()) <= tasks_before + 1
        assert open_fds() <= fds_before + 5
        await relay.stop()
    assert len(streams) == 1000
    assert all(frames == [f'[2,"{i}","Heartbeat",{{}}]' for i in range(5)] for frames in streams.values())


def test_kill_9_keeps_a_consistent_capture(tmp_path):
    """kill -9 of a logging CSMS mid-traffic: the capture opens, is intact, and misses at most
    the last moments of traffic the charger saw."""
    csms_db, charger_db = tmp_path / "csms.db", tmp_path / "charger.db"
    cli = [sys.executable, "-m", "inspector"]
    server = subprocess.Popen([*cli, "csms", "--listen", "127.0.0.1:0", "--db", str(csms_db)],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = None
    while url is None:
        line = server.stdout.readline()
        if "listening on" in line:
            url = line.split("listening on ")[1].split("<")[0].strip()
    charger = subprocess.Popen([*cli, "charger", "--url", url + "CP1", "--meter-values", "100000",
                                "--interval", "0.002", "--db", str(charger_db), "-q"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    killed_at = time.time()
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    _, err = charger.communicate(timeout=20)
    assert charger.returncode == 1 and "Traceback" not in err
    db = sqlite3.connect(csms_db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    survived = {(f["direction"], f["unique_id"]) for f in exported(csms_db)}
    seen_by_charger = [f for f in exported(charger_db)]
    assert len(survived) > 100
    # every answer the CSMS had sent (so had logged) up to 100 ms (+50 ms slack) before the
    # kill is in its capture, with the CALL it answered
    from datetime import datetime
    horizon = killed_at - 0.15
    expected = set()
    for f in seen_by_charger:
        stamp = datetime.fromisoformat(f["time"].replace("Z", "+00:00")).timestamp()
        if f["direction"] == "to_charger" and stamp < horizon:
            expected |= {("to_charger", f["unique_id"]), ("to_csms", f["unique_id"])}
    missing = expected - survived
    assert not missing, f"{len(missing)} frames lost beyond the last 150 ms"
