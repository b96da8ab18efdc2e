"""A CSMS that refuses cards starting with BAD and asks every charger for its heartbeat
interval once it has booted.

    ocpp-inspector csms --listen 127.0.0.1:9000 --script examples/scripts/csms_checks.py
"""

from inspector.scripting import on


@on("Authorize")
async def authorize(station, payload):
    tag = payload.get("idTag") or payload.get("idToken", {}).get("idToken", "")
    if not tag.startswith("BAD"):
        return None  # the built-in answer: Accepted
    station.log(f"card {tag} refused")
    if station.version == "1.6":
        return {"idTagInfo": {"status": "Invalid"}}
    return {"idTokenInfo": {"status": "Invalid"}}


async def connected(station):
    """Runs for each charger that connects (an error here is reported; the CSMS serves on)."""
    boot = await station.wait_for("BootNotification", timeout=60)
    model = boot.get("chargePointModel") or boot.get("chargingStation", {}).get("model")
    station.log(f"booted a {model}")
    if station.version == "1.6":
        answer = await station.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
        value = answer["configurationKey"][0]["value"]
    else:
        answer = await station.call("GetVariables", {"getVariableData": [
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
        value = answer["getVariableResult"][0].get("attributeValue")
    station.log(f"heartbeat interval {value}")
