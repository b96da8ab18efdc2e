"""A fleet of fake chargers against the fake CSMS: everyone boots, heartbeats and charges."""

from inspector.events import Hub
from inspector.roles.fleet import Fleet, FleetOptions
from tests.conftest import exported, raw_json
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


async def test_arrivals_bring_evs_with_their_own_soc_that_leave_when_full(monkeypatch):
    """The arrivals scenario: EVs come at random, each with its own battery and SoC, and
    leave when full (tiny batteries here, so they fill within a few samples)."""
    import json

    from inspector.events import FrameLogged
    from inspector.roles import fleet as fleet_module
    monkeypatch.setattr(fleet_module, "BATTERIES_KWH", (0.002, 0.004))
    hub = Hub()
    first_soc: list[float] = []  # the SoC of each session's first meter value
    statuses: list[str] = []
    seen_in_session: set = set()

    def watch(event):
        if not isinstance(event, FrameLogged) or event.record.direction != "to_csms":
            return
        record = event.record
        message = json.loads(record.frame.raw)
        if record.action == "StatusNotification":
            statuses.append(message[3]["status"])
            if message[3]["status"] == "Preparing":
                seen_in_session.discard(record.charge_point_id)
        elif record.action == "MeterValues" and record.charge_point_id not in seen_in_session:
            seen_in_session.add(record.charge_point_id)
            for value in message[3]["meterValue"][0]["sampledValue"]:
                if value.get("measurand") == "SoC":
                    first_soc.append(float(value["value"]))
    hub.subscribe(watch)
    async with running(csms(overrides={"BootNotification": {"interval": 60}})) as server:
        fleet = Fleet(Hub(), FleetOptions(url=server.url, count=4, duration=4.0,
                                          scenario="arrivals", meter_interval=0.1,
                                          session_samples=20, arrival_mean=0.2, seed=7),
                      log_every=1, log_hub=hub)
        summary = await fleet.run()
    assert summary["booted"] == 4 and summary["errors"] == 0, summary
    assert summary["sessions_completed"] >= 4, summary
    assert summary["evs_left_full"] >= 1, summary
    assert "SuspendedEV" in statuses  # a full EV stops drawing before it leaves
    assert len(set(first_soc)) >= 3, first_soc  # every EV comes with its own SoC
    assert all(10 <= soc <= 100 for soc in first_soc)


def test_arrivals_are_random_but_repeatable_with_a_seed():
    import random

    from inspector.roles.fleet import next_arrival
    one = [next_arrival(random.Random(3), 20.0, 6) for _ in range(1)]
    again = [next_arrival(random.Random(3), 20.0, 6) for _ in range(1)]
    assert one == again
    rng = random.Random(11)
    many = [next_arrival(rng, 20.0, 6) for _ in range(4000)]
    mean_gap = sum(a.after_s for a in many) / len(many)
    assert 18.0 < mean_gap < 22.0  # exponential gaps with the mean asked for
    assert min(a.soc for a in many) >= 10 and max(a.soc for a in many) <= 60
    assert all(a.target_soc >= 80 and 3 <= a.stay_samples <= 12 for a in many)
    assert {a.battery_kwh for a in many} == {40.0, 60.0, 77.0, 100.0}


def test_the_cli_names_the_same_scenarios_as_the_fleet():
    from inspector.cli_parser import FLEET_SCENARIOS, build_parser
    from inspector.roles.fleet import SCENARIOS
    assert FLEET_SCENARIOS == SCENARIOS
    args = build_parser().parse_args(["fleet", "--url", "ws://127.0.0.1:9/", "--scenario",
                                      "arrivals", "--arrival-mean", "5", "--seed", "2"])
    assert (args.scenario, args.arrival_mean, args.seed) == ("arrivals", 5.0, 2)


async def test_field_chargers_lose_the_network_queue_and_deliver_everything():
    """The field scenario: sessions lose the network halfway, queue their transaction
    messages, refuse an unknown card offline, reconnect and deliver every queued message."""
    from inspector.roles.fleet import Fleet as FieldFleet
    async with running(csms(overrides={"BootNotification": {"interval": 60}})) as server:
        fleet = FieldFleet(Hub(), FleetOptions(
            url=server.url, count=4, duration=6.0, scenario="field", meter_interval=0.1,
            session_samples=10, pause=0.1, offline_chance=1.0, offline_for=0.4, seed=3,
            # back at once after the offline time: a busy host leaves room for every loss
            configuration={"RetryBackOffWaitMinimum": "0", "RetryBackOffRandomRange": "0"}))
        summary = await fleet.run()
    assert summary["booted"] == 4 and summary["errors"] == 0, summary
    assert summary["offline_periods"] >= 4, summary
    assert summary["refused_offline"] == summary["offline_periods"]  # unknown cards, offline
    assert summary["queued"] > 0 and summary["delivered"] == summary["queued"], summary
    assert summary["sessions_completed"] >= 4


async def test_a_fleet_of_two_connector_stations_charges_on_every_connector(tmp_path):
    """--model ac-22kw-2c: each member is one station on one connection (one boot), and
    the charging scenario runs on both of its connectors at once."""
    from inspector.roles.charger_models import BUILT_IN
    log_hub, writer = logged_hub(tmp_path / "twins.db")
    async with running(csms()) as server:
        fleet = Fleet(Hub(), FleetOptions(url=server.url, count=3, duration=3.0, scenario="charging",
                                          meter_interval=0.2, session_samples=3, pause=0.1,
                                          model=BUILT_IN["ac-22kw-2c"]),
                      log_every=1, log_hub=log_hub)
        summary = await fleet.run()
    writer.close()
    assert summary["booted"] == 3 and summary["errors"] == 0, summary
    frames = exported(tmp_path / "twins.db")
    calls = [(f["charge_point_id"], f["action"], raw_json(f)[3]) for f in frames
             if f["type"] == "CALL" and f["direction"] == "to_csms"]
    for member in ("CP0001", "CP0002", "CP0003"):
        mine = [(a, p) for cp, a, p in calls if cp == member]
        assert [a for a, _ in mine].count("BootNotification") == 1
        started = {p["connectorId"] for a, p in mine if a == "StartTransaction"}
        assert started == {1, 2}, (member, started)
    assert summary["sessions_completed"] >= 6  # at least one per connector


async def test_field_stations_lose_their_one_connection_and_deliver_every_connectors_queue():
    """A field fleet of two-connector stations: the station's connection goes (the first
    connector's sessions decide when), both connectors queue, and everything is delivered."""
    from inspector.roles.charger_models import BUILT_IN
    async with running(csms(overrides={"BootNotification": {"interval": 60}})) as server:
        fleet = Fleet(Hub(), FleetOptions(
            url=server.url, count=2, duration=6.0, scenario="field", meter_interval=0.1,
            session_samples=10, pause=0.1, offline_chance=1.0, offline_for=0.4, seed=5,
            model=BUILT_IN["ac-22kw-2c"],
            configuration={"RetryBackOffWaitMinimum": "0", "RetryBackOffRandomRange": "0"}))
        summary = await fleet.run()
    assert summary["booted"] == 2 and summary["errors"] == 0, summary
    assert summary["offline_periods"] >= 2, summary
    assert summary["queued"] > 0 and summary["delivered"] == summary["queued"], summary
    assert summary["dropped"] == 0 and summary["sessions_completed"] >= 4
