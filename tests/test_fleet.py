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
