"""A role that has gone idle gives memory back: the departed connections' cycles are
collected (and, on glibc, freed heap returned) once no charger has been connected for a
while, and never while one is."""

from __future__ import annotations

import asyncio
import gc

import pytest

from inspector.memory import IdleRelease
from tests.roles_helpers import csms, proxy, run_charger, running


@pytest.mark.both_loops
@pytest.mark.parametrize("role", ["csms", "proxy"])
async def test_memory_is_released_after_the_last_charger_leaves(role):
    async with running(csms()) as server:
        if role == "proxy":
            async with running(proxy(server.url)) as relay:
                await _check(relay, relay.url)
        else:
            await _check(server, server.url)


async def _check(listener, url):
    listener.idle.delay = 0.2
    collected = asyncio.Event()
    gc.callbacks.append(lambda phase, info: phase == "stop" and info["generation"] == 2
                        and collected.set())
    try:
        await run_charger(url + "CP1", meter_values=2)
        for _ in range(200):  # bounded: 10 s
            if listener.idle.releases:
                break
            await asyncio.sleep(0.05)
        assert listener.idle.releases == 1
        assert collected.is_set()  # it was a full collection
    finally:
        gc.callbacks.pop()


async def test_no_release_while_a_charger_is_connected():
    release = IdleRelease(delay=0.05)
    release.connections_now(1)
    await asyncio.sleep(0.2)
    assert release.releases == 0
    release.connections_now(0)
    release.connections_now(1)  # one came back before the delay ran out
    await asyncio.sleep(0.2)
    assert release.releases == 0
    release.connections_now(0)
    for _ in range(100):
        if release.releases:
            break
        await asyncio.sleep(0.05)
    assert release.releases == 1
