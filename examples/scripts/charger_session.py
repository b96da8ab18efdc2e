"""A driver's session, step by step, and a charger that refuses to reset meanwhile.

    ocpp-inspector charger --url ws://127.0.0.1:9000/CP001 --script examples/scripts/charger_session.py
"""

from inspector.scripting import on


@on("Reset")
async def refuse_reset(cp, payload):
    cp.log(f"Reset {payload} refused: someone is charging")
    return {"status": "Rejected"}  # the answer; return None for the built-in one


async def run(cp):
    await cp.boot()
    await cp.status("Available")
    outcome = await cp.present_card("TAG0001")  # before the cable: the card is remembered
    if outcome != "authorized":
        raise RuntimeError(f"the card was not accepted: {outcome}")
    await cp.plug_in()  # the accepted card and the cable start the transaction
    cp.log(f"charging, transaction {cp.transaction_id()}")
    for _ in range(3):
        await cp.meter_values()
        await cp.sleep(0.2)
    assert await cp.present_card("TAG0001") == "stopped"  # the same card stops it
    await cp.unplug()
    answer = await cp.call("DataTransfer", {"vendorId": "com.example", "messageId": "SessionDone"})
    cp.log(f"DataTransfer answered {answer['status']}")
