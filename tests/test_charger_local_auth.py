"""Local authorization over real sockets: SendLocalList (full, differential, versions),
GetLocalListVersion, ClearCache, and offline authorization from the list, then the cache,
in 1.6 and 2.0.1."""

from __future__ import annotations

import pytest

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from tests.roles_helpers import csms, running


def entry(version: str, tag: str, status: str | None, expiry: str | None = None) -> dict:
    info = None if status is None else {"status": status, **({"expiryDate": expiry} if expiry and version == "1.6" else {}),
                                        **({"cacheExpiryDateTime": expiry} if expiry and version != "1.6" else {})}
    if version == "1.6":
        return {"idTag": tag, **({"idTagInfo": info} if info else {})}
    return {"idToken": {"idToken": tag, "type": "ISO14443"}, **({"idTokenInfo": info} if info else {})}


def send(version: str, list_version: int, update: str, entries: list) -> dict:
    key = "listVersion" if version == "1.6" else "versionNumber"
    return {key: list_version, "updateType": update, "localAuthorizationList": entries}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_local_list_is_kept_versioned_and_used_offline(version):
    async with running(csms()) as server:
        cp = f"LIST{version[0]}"
        charger = FakeCharger(Hub(), ChargerOptions(url=server.url + cp, version=version,
                                                    reconnect=True))
        await charger.connect()
        try:
            await charger.boot()
            version_key = "listVersion" if version == "1.6" else "versionNumber"
            answer = await server.call(cp, "GetLocalListVersion", {})
            assert answer.payload == {version_key: 0}  # no list yet
            full = send(version, 3, "Full", [entry(version, "GOOD1", "Accepted"),
                                             entry(version, "BAD1", "Blocked"),
                                             entry(version, "OLD1", "Accepted", "2020-01-01T00:00:00Z")])
            assert (await server.call(cp, "SendLocalList", full)).payload == {"status": "Accepted"}
            assert (await server.call(cp, "GetLocalListVersion", {})).payload == {version_key: 3}
            stale = send(version, 3, "Differential", [entry(version, "NEW1", "Accepted")])
            assert (await server.call(cp, "SendLocalList", stale)).payload == {"status": "VersionMismatch"}
            diff = send(version, 4, "Differential", [entry(version, "NEW1", "Accepted"),
                                                     entry(version, "GOOD1", None)])  # removed
            assert (await server.call(cp, "SendLocalList", diff)).payload == {"status": "Accepted"}
            assert sorted(charger.local_list) == ["BAD1", "NEW1", "OLD1"]
            await charger.present_card("CACHED1")  # the CSMS accepts it: into the cache
            await charger.go_offline(600)
            assert await charger.present_card("NEW1") == "Accepted"  # from the list
            assert await charger.present_card("BAD1") == "Blocked"  # the list's own status
            assert await charger.present_card("OLD1") == "Invalid"  # expired on the list
            assert await charger.present_card("GOOD1") == "Invalid"  # removed, never cached
            assert await charger.present_card("CACHED1") == "Accepted"  # from the cache
            charger.come_online()
            await charger.wait_delivered(30)
            assert (await server.call(cp, "ClearCache", {})).payload == {"status": "Accepted"}
            await charger.go_offline(600)
            assert await charger.present_card("CACHED1") == "Invalid"  # the cache is empty
            charger.come_online()
            await charger.wait_delivered(30)
            bad = send(version, 5, "Full", [entry(version, "NOSTATUS", None)])
            assert (await server.call(cp, "SendLocalList", bad)).payload == {"status": "Failed"}
            assert (await server.call(cp, "GetLocalListVersion", {})).payload == {version_key: 4}
        finally:
            await charger.close()


async def test_a_disabled_list_is_version_minus_one_in_16():
    async with running(csms()) as server:
        charger = FakeCharger(Hub(), ChargerOptions(
            url=server.url + "NOLIST", configuration={"LocalAuthListEnabled": "false"}))
        await charger.connect()
        try:
            await charger.boot()
            assert (await server.call("NOLIST", "GetLocalListVersion", {})).payload == {"listVersion": -1}
            answer = await server.call("NOLIST", "SendLocalList", send("1.6", 1, "Full", []))
            assert answer.payload == {"status": "NotSupported"}
        finally:
            await charger.close()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_local_pre_authorize_skips_the_authorize_for_a_card_the_cache_accepts(version):
    """LocalPreAuthorize true: online, a card the cache holds as Accepted is accepted at
    once (no Authorize); false (the default): every card is asked about."""
    from tests.test_charger_metering import Frames
    key = "LocalPreAuthorize" if version == "1.6" else "AuthCtrlr/LocalPreAuthorize"
    for pre in ("false", "true"):
        hub = Hub()
        frames = Frames(hub)
        async with running(csms()) as server:
            charger = FakeCharger(hub, ChargerOptions(url=server.url + "PRE" + pre, version=version))
            charger.config[key] = (pre, False)
            await charger.connect()
            try:
                await charger.boot()
                assert await charger.present_card("CARD9") == "Accepted"  # asked: into the cache
                assert await charger.present_card("CARD9") == "Accepted"
                assert await charger.present_card("OTHER") == "Accepted"  # unknown: asked
            finally:
                await charger.close()
        asked = [a for a, _ in frames.calls].count("Authorize")
        assert asked == (2 if pre == "true" else 3), (pre, asked)
