"""The fake charger's per-version behaviour is chosen once (inspector/roles/charger_dialect.py):
its concerns never test the version themselves, and each version's dialect speaks that
version's schemas and configuration names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from inspector.roles.charger_answers import GENERAL_SETTINGS
from inspector.roles.charger_dialect import Ocpp16, Ocpp2, dialect_for
from inspector.roles.charger_local_auth import LOCAL_AUTH_SETTINGS
from inspector.roles.charger_metering import METERING_SETTINGS
from inspector.roles.charger_models import BUILT_IN
from inspector.roles.charger_offline import OFFLINE_SETTINGS
from inspector.roles.charger_smart import SMART_CHARGING_SETTINGS
from inspector.roles.meter import Meter
from inspector.validation import validate
from inspector.versions import V16, V201, V21

ROLES = Path(__file__).resolve().parents[1] / "inspector" / "roles"
# the charger's concerns: the dialect is where versions differ, nowhere else
CONCERNS = sorted(p for p in ROLES.glob("charger*.py") if p.name != "charger_dialect.py") + \
    [ROLES / "station.py"]
TABLES = (GENERAL_SETTINGS, METERING_SETTINGS, SMART_CHARGING_SETTINGS, OFFLINE_SETTINGS,
          LOCAL_AUTH_SETTINGS)


def _version_tests(path: Path) -> list[str]:
    """Comparisons with a version (V16, "2.0.1", ...) and uses of a `self.v16` flag."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Compare):
            for operand in (node.left, *node.comparators):
                if (isinstance(operand, ast.Name) and operand.id in ("V16", "V201", "V21")) or \
                        (isinstance(operand, ast.Constant) and operand.value in ("1.6", "2.0.1", "2.1")):
                    found.append(f"{path.name}:{node.lineno}")
        if isinstance(node, ast.Attribute) and node.attr == "v16" and \
                isinstance(node.value, ast.Name) and node.value.id == "self":
            found.append(f"{path.name}:{node.lineno} self.v16")
    return found


def test_no_concern_of_the_charger_tests_the_version():
    assert len(CONCERNS) >= 8
    offenders = [hit for path in CONCERNS for hit in _version_tests(path)]
    assert not offenders, "version tested outside the dialect: " + ", ".join(offenders)


def test_the_structural_check_can_fail(tmp_path):
    mutant = tmp_path / "charger_mutant.py"
    mutant.write_text("def f(self):\n    if self.v16:\n        return 1\n"
                      "    return self.version == V16 or version != '2.0.1'\n")
    assert len(_version_tests(mutant)) == 3


@pytest.mark.parametrize("version", [V16, V201, V21])
def test_requests_are_schema_valid(version):
    dialect = dialect_for(version)
    model = BUILT_IN["ac-22kw-2c"]
    sample = Meter(power_w=11000, voltage=230, phases=3, battery_wh=60000, soc=20).sample()
    requests = [("BootNotification", dialect.boot_request(model, "SN-1", "1.2.3", None)),
                ("Authorize", dialect.authorize_request("TAG1"))]
    requests += [("StatusNotification", dialect.status_request(status, 1, "NoError"))
                 for status in ("Available", "Preparing", "Charging", "SuspendedEV", "Faulted")]
    for action, payload in requests:
        assert validate(version, action, "request", payload) == [], (action, payload)
    values = dialect.sampled_values(sample, "Sample.Clock", None)
    assert values and all(v.get("context") == "Sample.Clock" for v in values)


def test_each_version_names_its_settings():
    v16, v2 = Ocpp16().configuration(*TABLES), Ocpp2(V201).configuration(*TABLES)
    assert "MeterValueSampleInterval" in v16 and "SampledDataCtrlr/TxUpdatedInterval" in v2
    assert "NumberOfConnectors" in v16 and not any("NumberOfConnectors" in k for k in v2)
    assert v16["ChargingScheduleAllowedChargingRateUnit"] == ("Current,Power", True)
    assert v2["SmartChargingCtrlr/RateUnit"] == ("A,W", True)
    assert all("/" in key for key in v2) and not any("/" in key for key in v16)
    # every setting a version has appears once, under that version's name
    for dialect, config in ((Ocpp16(), v16), (Ocpp2(V201), v2)):
        expected = [dialect.key(s) for table in TABLES for s in table.values() if dialect.key(s)]
        assert sorted(expected) == sorted(config)


def test_offline_answers_and_authorization_per_version():
    assert Ocpp16().offline_answer("StartTransaction", -1) == {
        "transactionId": -1, "idTagInfo": {"status": "Accepted"}}
    assert Ocpp16().queues("MeterValues", {"connectorId": 1}) is False  # not a transaction's
    assert Ocpp16().queues("MeterValues", {"connectorId": 1, "transactionId": 3}) is True
    assert Ocpp2(V201).queues("TransactionEvent", {}) and not Ocpp2(V201).queues("MeterValues", {})
    assert Ocpp2(V201).offline_authorization("Invalid") == {"idTokenInfo": {"status": "Invalid"}}
    assert Ocpp2(V201).card_of({"idToken": {"idToken": "T", "type": "ISO14443"}}) == "T"
    assert Ocpp16().card_of({"idTag": "T"}) == "T"
