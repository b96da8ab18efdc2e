"""Against a CSMS that refuses BAD cards (csms_checks.py): the refused card starts nothing,
the good one does, and a CALLERROR from the CSMS comes back as CallRefused.

    ocpp-inspector charger --url ws://127.0.0.1:9000/CP002 --script examples/scripts/charger_refused_card.py
"""

from inspector.scripting import CallRefused


async def run(cp):
    await cp.boot()
    await cp.status("Available")
    await cp.plug_in()
    refused = await cp.present_card("BAD0001")
    if refused == "started":
        raise RuntimeError("a BAD card started a transaction")
    cp.log(f"BAD0001: {refused}")
    if await cp.present_card("TAG0001") != "started":
        raise RuntimeError("the good card did not start a transaction")
    await cp.meter_values()
    await cp.unplug()
    try:
        await cp.call("DataTransfer", {"vendorId": "unknown.vendor"})
    except CallRefused as refusal:  # a CSMS may answer an unknown vendor with a CALLERROR
        cp.log(f"DataTransfer refused: {refusal.code}")
