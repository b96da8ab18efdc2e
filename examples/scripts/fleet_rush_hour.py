"""Rush hour: each charger of a fleet boots, waits a random moment, charges briefly with the
first card, and leaves.

    ocpp-inspector fleet --url ws://127.0.0.1:9000/ --count 50 --duration 60 --script examples/scripts/fleet_rush_hour.py
"""

import random


async def run(cp):
    await cp.boot()
    await cp.status("Available")
    await cp.sleep(random.uniform(0.0, 1.0))
    await cp.plug_in()
    outcome = await cp.present_card("TAG0001")
    if outcome != "started":
        raise RuntimeError(f"{cp.id}: no transaction ({outcome})")
    for _ in range(2):
        await cp.meter_values()
        await cp.sleep(0.3)
    await cp.unplug()  # ends the transaction (EVDisconnected)
