"""A fleet of fake chargers against the fake CSMS: everyone boots, heartbeats and charges."""

from inspector.events import Hub
from inspector.roles.fleet import Fleet, FleetOptions
from tests.conftest import exported
from tests.roles_helpers import csms, logged_hub, running


async def test_fleet_boots_heartbeats_and_charges(tmp_path):
    """20 chargers, mixed scenario: all boot, sessions complete, no errors, no missed interval."""
    log_hub, writer = logged_hub(tmp_path / "fleet.db")
    async with running(csms(overrides={"BootNotification": {"interval": 1}})) as server:
        fleet = Fleet(Hub(), FleetOptions(url=server.url, count=20, duration=3.0, scenario="mixed",
                                          meter_interval=0.2, session_samples=3, pause=0.1,
                                          ramp_up=0.5),
                      log_every=5, log_hub=log_hub)
        summary = await fleet.run()
    writer.close()
    assert summary["booted"] == 20 and summary["errors"] == 0, summary
    assert summary["sessions_completed"] >= 10
    assert summary["missed_intervals"] == 0
    assert summary["latency_p50_ms"] is not None and summary["frames"] > 200
    logged = {f["charge_point_id"] for f in exported(tmp_path / "fleet.db")}
    assert logged == {"CP0001", "CP0006", "CP0011", "CP0016"}  # every 5th charger only


async def test_fleet_reports_a_csms_that_is_down():
    """Unreachable CSMS: nobody boots and the errors say why."""
    fleet = Fleet(Hub(), FleetOptions(url="ws://127.0.0.1:1", count=3, duration=0.5))
    summary = await fleet.run()
    assert summary["booted"] == 0 and summary["errors"] == 3
    assert "cannot connect" in summary["last_errors"][0]


async def test_an_idle_fleet_holds_its_connections_for_the_whole_duration():
    """A 300 s heartbeat never falls due in a 2 s run: the chargers still stay connected
    until --duration ends, and the live count says so."""
    import asyncio
    import time
    async with running(csms()) as server:  # grants the default 300 s heartbeat
        fleet = Fleet(Hub(), FleetOptions(url=server.url, count=5, duration=2.0, scenario="idle",
                                          ramp_up=0.1))
        started = time.monotonic()
        run = asyncio.create_task(fleet.run())
        while fleet.stats.booted < 5:
            assert time.monotonic() - started < 10, "the fleet did not boot"
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.5)
        assert fleet.stats.connected == 5 and len(server.stations) == 5
        summary = await run
    assert time.monotonic() - started >= 1.9  # the whole duration, not 0.03 s
    assert summary["booted"] == 5 and summary["errors"] == 0
