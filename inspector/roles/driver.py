"""A person at a fake charger: plugs the cable in, presents a card, unplugs.

The actions compose the way a real charger reacts to them: a card presented while the cable
is in starts a transaction (before it, the charger waits for the cable); the same card again
stops it; unplugging ends a running transaction (EVDisconnected). While a transaction runs,
`metering()` sends sampled meter values at the charger's configured interval (offline too:
the charger queues them). The window's Plug in / Present card / Unplug buttons and the
conformance engine's simulated charger (conformance/auto.py) both drive chargers with it.
"""

from __future__ import annotations

import asyncio
import time

from .common import ChargerError

_POLL_S = 0.05  # how often metering() looks for a transaction and the interval


class Driver:
    def __init__(self, charger):
        self.charger = charger
        self.authorized: str | None = None  # card accepted before the cable was plugged in

    @property
    def plugged(self) -> bool:
        return self.charger.status not in ("Available", "Unavailable", "Reserved", "Faulted")

    async def plug_in(self) -> None:
        charger = self.charger
        await charger.plug_in()
        if self.authorized and charger.transaction_id is None:
            tag, self.authorized = self.authorized, None
            await charger.start_transaction(tag)

    async def present_card(self, tag: str | None = None) -> str:
        """Returns what happened: "stopped", "started", "authorized" or the refusal."""
        charger = self.charger
        if charger.transaction_id is not None:
            await charger.stop_transaction("Local")
            return "stopped"
        status = await charger.present_card(tag)
        if status != "Accepted":
            self.authorized = None
            return status
        if self.plugged:
            await charger.start_transaction(tag)
            return "started"
        self.authorized = tag or charger.options.id_tag
        return "authorized"

    async def unplug(self) -> None:
        charger = self.charger
        if charger.transaction_id is not None:
            await charger.stop_transaction("EVDisconnected")
        self.authorized = None
        await charger.unplug()

    async def metering(self) -> None:
        """Sampled meter values while a transaction runs, every configured interval (until
        cancelled)."""
        last = None
        while True:
            await asyncio.sleep(_POLL_S)
            charger = self.charger
            if charger.transaction_id is None:
                last = None
                continue
            interval = charger.sample_interval()  # MeterValueSampleInterval / TxUpdatedInterval
            if interval <= 0:
                continue
            if last is None:
                last = time.monotonic()
            elif time.monotonic() - last >= interval:
                last = time.monotonic()
                try:
                    await charger.send_meter_values()
                except ChargerError as exc:  # shown, then the next interval tries again
                    charger.hub.notice("warning", f"{charger.charge_point_id}: meter values "
                                                  f"not sent: {exc}", "charger")
