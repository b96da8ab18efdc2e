"""Charger models: built-in and from a JSON file, checked on load, and what a charger of
that model says and draws, over real sockets and from the command line."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from inspector.roles.charger_models import BUILT_IN, ModelError, load_model
from inspector.store import Capture
from tests.roles_helpers import csms, running


def test_built_in_models_and_their_power():
    assert {name: round(model.power_w) for name, model in BUILT_IN.items()} == {
        "ac-7kw": 7360, "ac-11kw": 11040, "ac-22kw": 22080, "ac-22kw-2c": 22080, "dc-150kw": 150000}
    assert load_model("ac-22kw") is BUILT_IN["ac-22kw"]


@pytest.mark.parametrize("content,reason", [
    ('{"vendor": "A", "colour": "red"}', "unknown field"),
    ('{"phases": 4}', "phases"),
    ('{"current": "DC"}', "needs max_power_w"),
    ('{"max_current_a": -1}', "above 0"),
    ('{"phases": "3"}', "wrong type"),
    ('[1, 2]', "JSON object"),
    ('{"vendor": ', "cannot read"),
])
def test_bad_model_files_are_refused_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "model.json"
    path.write_text(content)
    with pytest.raises(ModelError, match=reason):
        load_model(str(path))


async def test_a_charger_of_a_model_file_boots_as_it_and_draws_its_power(tmp_path):
    path = tmp_path / "wallbox.json"
    path.write_text(json.dumps({"vendor": "Acme", "model": "Wallbox 22", "firmware": "2.4.1",
                                "phases": 3, "max_current_a": 32,
                                "configuration": {"MeterValueSampleInterval": "30"}}))
    async with running(csms()) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "inspector", "charger", "--url", server.url + "ACME1",
            "--model", str(path), "--meter-values", "2", "--interval", "0.05",
            "--db", str(tmp_path / "c.db"), "-q",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    capture = Capture(tmp_path / "c.db")
    boot = json.loads(next(capture.frames(action="BootNotification", type="CALL"))["raw"])[3]
    assert (boot["chargePointVendor"], boot["chargePointModel"], boot["firmwareVersion"]) == (
        "Acme", "Wallbox 22", "2.4.1")
    meter = json.loads(next(capture.frames(action="MeterValues", type="CALL"))["raw"])[3]
    values = {v["measurand"]: float(v["value"]) for v in meter["meterValue"][0]["sampledValue"]}
    assert 21_000 < values["Power.Active.Import"] <= 22_080
    assert 30 < values["Current.Import"] <= 32  # per phase


def test_the_cli_lists_the_built_in_models(capsys):
    from inspector.cli import main
    assert main(["charger", "--list-models"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in BUILT_IN) and "22.08 kW" in out


async def test_a_model_without_a_feature_profile_refuses_its_requests(tmp_path):
    """A model file with "features": a request of a profile it lacks is CALLERROR
    NotSupported, SupportedFeatureProfiles says what it has, and its serial is booted with."""
    import json

    from inspector.events import Hub
    from inspector.roles.charger import ChargerOptions, FakeCharger
    from tests.roles_helpers import csms, running
    from tests.test_charger_metering import Frames
    path = tmp_path / "basic.json"
    path.write_text(json.dumps({"vendor": "Acme", "model": "Basic", "serial": "SN-0042",
                                "features": ["Core", "RemoteTrigger"]}))
    model = load_model(str(path))
    assert model.features == ("Core", "RemoteTrigger") and model.serial == "SN-0042"
    hub = Hub()
    frames = Frames(hub)
    async with running(csms()) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "BASIC", model=model))
        await charger.connect()
        try:
            await charger.boot()
            refused = await server.call("BASIC", "SetChargingProfile", {
                "connectorId": 1, "csChargingProfiles": {
                    "chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Relative", "chargingSchedule": {
                        "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6}]}}})
            assert refused.type.value == "CALLERROR" and refused.error_code == "NotSupported"
            trigger = await server.call("BASIC", "TriggerMessage", {"requestedMessage": "Heartbeat"})
            assert trigger.payload == {"status": "Accepted"}
            config = await server.call("BASIC", "GetConfiguration", {"key": ["SupportedFeatureProfiles"]})
            assert config.payload["configurationKey"][0]["value"] == "Core,RemoteTrigger"
        finally:
            await charger.close()
    boot = next(p for a, p in frames.calls if a == "BootNotification")
    assert boot["chargePointSerialNumber"] == "SN-0042" and boot["chargePointVendor"] == "Acme"


def test_a_model_file_with_an_unknown_feature_is_refused(tmp_path):
    import json
    path = tmp_path / "odd.json"
    path.write_text(json.dumps({"features": ["Core", "Teleport"]}))
    with pytest.raises(ModelError, match="Teleport"):
        load_model(str(path))


async def test_a_16_model_without_local_lists_answers_as_the_spec_says(tmp_path):
    """1.6 §5.10/5.15: without LocalAuthListManagement GetLocalListVersion is -1 and
    SendLocalList NotSupported (answers, not CALLERRORs); 2.0.1 answers CALLERROR NotSupported."""
    from inspector.events import Hub
    from inspector.roles.charger import ChargerOptions, FakeCharger
    path = tmp_path / "nolist.json"
    path.write_text(json.dumps({"features": ["Core"]}))
    model = load_model(str(path))
    async with running(csms()) as server:
        for version, cp in (("1.6", "NOLIST16"), ("2.0.1", "NOLIST201")):
            charger = FakeCharger(Hub(), ChargerOptions(url=server.url + cp, version=version, model=model))
            await charger.connect()
            try:
                await charger.boot()
                version_answer = await server.call(cp, "GetLocalListVersion", {})
                send = await server.call(cp, "SendLocalList", {"listVersion": 1, "updateType": "Full"}
                                         if version == "1.6" else {"versionNumber": 1, "updateType": "Full"})
            finally:
                await charger.close()
            if version == "1.6":
                assert version_answer.payload == {"listVersion": -1}
                assert send.payload == {"status": "NotSupported"}
            else:
                assert version_answer.error_code == send.error_code == "NotSupported"


async def test_the_16_security_extension_reports_a_reboot_only_when_the_model_has_it(tmp_path):
    """1.6 with "Security" among the model's features: a Reset is reported in
    SecurityEventNotification ResetOrReboot; a plain 1.6 model sends none (a CSMS without
    the extension would answer NotImplemented)."""
    from inspector.events import Hub
    from inspector.roles.charger import ChargerOptions, FakeCharger
    from tests.test_charger_metering import Frames
    path = tmp_path / "secure.json"
    path.write_text(json.dumps({"features": ["Core", "RemoteTrigger", "Security"]}))
    secure = load_model(str(path))
    sent = {}
    async with running(csms()) as server:
        for cp, model in (("SEC16", secure), ("PLAIN16", None)):
            hub = Hub()
            frames = Frames(hub)
            charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, model=model))
            await charger.connect()
            try:
                await charger.boot()
                before = set(charger._background)
                await server.call(cp, "Reset", {"type": "Soft"})
                reboot = set(charger._background) - before  # the reboot, after the answer
                assert reboot
                await asyncio.wait(reboot, timeout=30)  # ...has run to its end
            finally:
                await charger.close()
            sent[cp] = [p.get("type") for a, p in frames.calls if a == "SecurityEventNotification"]
    assert sent == {"SEC16": ["ResetOrReboot"], "PLAIN16": []}
