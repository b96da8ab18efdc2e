"""A peer that sends but never reads cannot make a role buffer without bound or stall the
others: answers in flight are capped (reading pauses), and after the write-stall timeout
the peer is dropped, with the reason in the capture."""

from __future__ import annotations

import asyncio
import time

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from inspector.rpc import MAX_ANSWERS_IN_FLIGHT
from tests.conftest import exported
from tests.roles_helpers import csms, logged_hub, proxy, raw_charger, running


# answers of 8 KB: the buffers between us and a deaf peer fill after a few hundred of them
BIG_ANSWERS = {"Heartbeat": {"$replace": {"currentTime": "2026-01-01T00:00:00Z", "pad": "x" * 8192}}}


def masked_text(payload: bytes) -> bytes:
    mask = b"\x00\x00\x00\x00"  # a zero mask is valid and leaves the payload as it is
    return bytes([0x81, 0x80 | len(payload)]) + mask + payload


async def deaf_charger(url: str, path: str = "DEAF"):
    """A client with a tiny receive buffer that will never read after the handshake."""
    return await raw_charger(url, path, receive_buffer=4096)


async def flood(writer, count: int) -> int:
    """Pipeline Heartbeats without reading; returns how many went out before the peer
    stopped taking them or dropped us."""
    sent = 0
    try:
        for i in range(count):
            writer.write(masked_text(f'[2,"f{i}","Heartbeat",{{}}]'.encode()))
            sent += 1
            if i % 200 == 0:
                await asyncio.wait_for(writer.drain(), 20)
    except (ConnectionError, asyncio.TimeoutError):
        pass
    return sent


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_a_charger_that_never_reads_is_capped_then_dropped_and_others_go_on(tmp_path):
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    role = csms(hub, write_timeout=2.0, overrides=BIG_ANSWERS)
    try:
        async with running(role):
            reader, deaf = await deaf_charger(role.url)
            flooding = asyncio.create_task(flood(deaf, 1_000_000))
            await until(lambda: "DEAF" in role.stations, 10, "the deaf charger")
            endpoint = role.stations["DEAF"]
            peak = 0
            healthy = FakeCharger(Hub(), ChargerOptions(url=role.url + "OK1", call_timeout=20))
            await healthy.connect()
            await healthy.boot()
            deadline = time.monotonic() + 30
            while not endpoint.closed.is_set() and time.monotonic() < deadline:
                peak = max(peak, len(endpoint._tasks))
                await healthy.heartbeat()  # the others keep being answered meanwhile
                await asyncio.sleep(0.05)
            assert endpoint.closed.is_set(), "the deaf charger was not dropped"
            assert peak <= MAX_ANSWERS_IN_FLIGHT  # answers in flight stay capped
            await healthy.heartbeat()
            await healthy.close()
            flooding.cancel()
            deaf.close()
        writer.flush()
    finally:
        writer.close()
    from inspector.store import Capture
    capture = Capture(path)
    notes = [c["note"] or "" for c in capture.connections() if c["charge_point_id"] == "DEAF"]
    capture.close()
    assert any("stopped reading: nothing could be sent for 2 s" in n for n in notes), notes
    flagged = [f for f in exported(path) if any("not sent: the peer stopped reading" in x
                                                for x in f["flags"])]
    assert flagged  # the answer that could not go out is logged, flagged


async def test_the_proxy_drops_a_charger_that_never_reads(tmp_path):
    async with running(csms(Hub(), write_timeout=None, overrides=BIG_ANSWERS)) as upstream:
        hub = Hub()
        notices = []
        hub.subscribe(lambda e: notices.append(e.text) if hasattr(e, "text") else None)
        async with running(proxy(upstream.url.rstrip("/"), hub, write_timeout=2.0)) as role:
            reader, deaf = await deaf_charger(role.url)
            flooding = asyncio.create_task(flood(deaf, 1_000_000))
            await until(lambda: any("the charger stopped reading" in n for n in notices), 60,
                        "the proxy's stall notice")
            flooding.cancel()
            deaf.close()
            await until(lambda: role.active == 0, 10, "the proxy to let both sides go")
    assert any("nothing could be sent to it for 2 s; both sides dropped" in n for n in notices)
