"""A charging station with several connectors (each its own EVSE) on one connection.

`charger --model ac-22kw-2c` (or any model with `"connectors": N`) runs one of these
instead of a single `FakeCharger`. Each connector is a `FakeCharger` for its connector /
EVSE number (its status, transaction, EV, meter, charging profiles and faults); they share
the station's one WebSocket, its configuration and its boot. CSMS-initiated calls go to the
connector they name (1.6 connectorId, 2.0.1 evseId or evse.id); a call for the whole
station (connector 0, or none) goes to every connector where that is what OCPP means
(ChangeAvailability, charging profiles on 0, TriggerMessage StatusNotification) and to the
first connector otherwise (configuration, data transfer). A remote start without a connector
takes the first free one; a remote stop finds its transaction; a Reset reboots the station:
every running transaction stops, the station reconnects, boots once and reports every
connector. The charge point's maximum profile is the station's, not each connector's: it
caps their total, shared evenly by the connectors in a transaction.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timezone

from .. import defaults
from .charger import ChargerOptions, FakeCharger
from ..smart_charging import MAX, ProfileStore, clear_criteria, limit_at
from .charger_answers import GENERAL_SETTINGS
from .charger_models import BUILT_IN
from .common import ChargerError

_START = ("RemoteStartTransaction", "RequestStartTransaction")
_STOP = ("RemoteStopTransaction", "RequestStopTransaction")
_IDLE_POLL_S = 0.2  # a scheduled reset looks this often whether every connector is free


def make_charger(hub, options: ChargerOptions):
    """A `FakeCharger`, or a `ChargingStation` when the model has several connectors."""
    model = options.model or BUILT_IN["ac-7kw"]
    return ChargingStation(hub, options) if model.connectors > 1 else FakeCharger(hub, options)


def _named_connector(payload: dict) -> int | None:
    """The connector / EVSE a CSMS-initiated call names (None: none)."""
    for key in ("connectorId", "evseId"):
        if isinstance(payload.get(key), int):
            return payload[key]
    evse = payload.get("evse")
    if isinstance(evse, dict) and isinstance(evse.get("id"), int):
        return evse["id"]
    return None


class ChargingStation:
    def __init__(self, hub, options: ChargerOptions):
        model = options.model or BUILT_IN["ac-7kw"]
        self.hub = hub
        self.options = options
        self.connectors = [FakeCharger(hub, dataclasses.replace(options, connector=number))
                           for number in range(1, model.connectors + 1)]
        self.lead = self.connectors[0]
        self.charge_point_id = self.lead.charge_point_id
        self.version = self.lead.version
        self.dialect = self.lead.dialect
        connectors_key = self.dialect.key(GENERAL_SETTINGS["connectors"])
        if connectors_key:
            self.lead.config[connectors_key] = (str(len(self.connectors)), True)
        for connector in self.connectors[1:]:
            connector.config = self.lead.config  # one station, one configuration
            # one connection, one offline queue: messages are delivered in the order they
            # were queued, whichever connector queued them, by the lead (which reconnects)
            connector.queue, connector._remap = self.lead.queue, self.lead._remap
            connector._local_ids, connector.back_online = self.lead._local_ids, self.lead.back_online
        for connector in self.connectors:
            connector.connection_peers = self.connectors
        # every CSMS-initiated call reaches the station first (an instance attribute wins
        # over FakeCharger._on_call when the lead builds its endpoint)
        self.lead._on_call = self._on_call
        self.lead._reboot = self._reboot
        # the charge point's maximum (1.6 ChargePointMaxProfile, 2.x ChargingStationMaxProfile)
        # caps the station's total: kept here, shared by the connectors in a transaction
        self.max_profiles = ProfileStore()
        for connector in self.connectors:
            connector.station_max = self.max_profiles
            connector.station_share_w = self._share_w

    # ---- what a single FakeCharger offers, for the CLI and the window ----------------------

    @property
    def endpoint(self):
        return self.lead.endpoint

    @property
    def fault_code(self) -> str | None:
        return self.lead.fault_code

    @property
    def dropped(self) -> int:
        return sum(c.dropped for c in self.connectors)

    def connector(self, number: int) -> FakeCharger | None:
        return self.connectors[number - 1] if 1 <= number <= len(self.connectors) else None

    async def connect(self):
        return await self.lead.connect()  # (which hands every connector the endpoint)

    async def boot(self, **kwargs) -> str:
        status = await self.lead.boot(**kwargs)
        for connector in self.connectors[1:]:
            connector.heartbeat_interval = self.lead.heartbeat_interval
            connector.start_clock_aligned()  # each connector reports its own meter
        return status

    async def report_connectors(self) -> None:
        for connector in self.connectors:
            await connector.send_status("Available")

    async def run_session(self) -> None:
        """Boot, every connector's status, a heartbeat, then a transaction on every
        connector at once (each with its own EV and meter)."""
        await self.boot()
        await self.report_connectors()
        await self.lead.heartbeat()
        results = await asyncio.gather(*(c.run_transaction() for c in self.connectors),
                                       return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:
            if not isinstance(failure, ChargerError):
                raise failure
        if failures:
            raise failures[0]

    @property
    def _background(self) -> set:
        return self.lead._background

    # ---- offline: one connection, one queue (charger_offline.py) ---------------------------

    async def go_offline(self, seconds: float) -> None:
        self.options.reconnect = True
        for connector in self.connectors:  # every connector queues until the lead is back
            connector.options.reconnect = True
        await self.lead.go_offline(seconds)

    def come_online(self) -> None:
        self.lead.come_online()

    @property
    def online(self) -> bool:
        return self.lead.online

    @property
    def queue(self) -> list:
        return self.lead.queue

    @property
    def delivered(self) -> int:
        return self.lead.delivered

    @property
    def queued_total(self) -> int:
        return sum(c.queued_total for c in self.connectors)

    def first_reconnect_wait(self) -> float:
        return self.lead.first_reconnect_wait()

    async def wait_delivered(self, timeout: float) -> None:
        await self.lead.wait_delivered(timeout)

    async def keep_alive(self) -> None:
        await self.lead.keep_alive()

    async def fault(self, code: str) -> None:
        await self.lead.fault(code)

    async def recover(self) -> None:
        await self.lead.recover()

    async def close(self) -> None:
        for connector in self.connectors[1:]:
            for task in list(connector._background):
                task.cancel()
        await self.lead.close()

    # ---- CSMS-initiated calls ------------------------------------------------------------

    async def _on_call(self, frame) -> dict:
        action, payload = frame.action, frame.payload or {}
        named = _named_connector(payload)
        if action in _START:
            return await self._remote_start(frame, named)
        if action in _STOP:
            return await self._by_transaction(frame, payload.get("transactionId"))
        if action == "CancelReservation":
            holder = next((c for c in self.connectors if c.reservation
                           and c.reservation.get("id") == payload.get("reservationId")), self.lead)
            return await FakeCharger._on_call(holder, frame)
        if action == "Reset":
            return await self._reset(frame)
        if named not in (None, 0):
            target = self.connector(named)
            if target is None:
                return await self._unknown_connector(frame)
            return await FakeCharger._on_call(target, frame)
        if action == "ChangeAvailability":
            answers = [await FakeCharger._on_call(c, frame) for c in self.connectors]
            scheduled = any(a.get("status") == "Scheduled" for a in answers)
            return {"status": "Scheduled" if scheduled else answers[0].get("status", "Accepted")}
        if action == "SetChargingProfile":  # on connector / EVSE 0: for every connector
            profile, answer = self.lead.check_profile(payload)
            if profile is not None and profile.purpose == MAX:  # ...but the maximum is shared
                self.max_profiles.install(profile)
                self._apply_limits()
                return answer
            answers = [await FakeCharger._on_call(c, frame) for c in self.connectors]
            refused = [a for a in answers if a.get("status") != "Accepted"]
            return refused[0] if refused else answers[0]
        if action == "ClearChargingProfile":
            answers = [await FakeCharger._on_call(c, frame) for c in self.connectors]
            cleared = self.max_profiles.clear(**clear_criteria(payload)) > 0 or \
                any(a.get("status") == "Accepted" for a in answers)
            self._apply_limits()
            return {"status": "Accepted" if cleared else "Unknown"}
        if action == "TriggerMessage" and payload.get("requestedMessage") in (
                "StatusNotification", "MeterValues"):
            for connector in self.connectors:
                await FakeCharger._on_call(connector, frame)
            return {"status": "Accepted"}
        return await FakeCharger._on_call(self.lead, frame)

    def _share_w(self, now: float) -> float | None:
        """A connector's share of the station's maximum at `now`, in W: split evenly over
        the connectors in a transaction (None: no maximum in force)."""
        lead = self.lead
        found = limit_at(self.max_profiles.profiles, now, "W", voltage=lead.meter.voltage,
                         phases=lead.meter.phases)
        if found is None:
            return None
        drawing = sum(1 for c in self.connectors if c.transaction_id is not None)
        return found[0] / max(1, drawing)

    def _apply_limits(self) -> None:
        for connector in self.connectors:
            connector.apply_limit()

    async def _remote_start(self, frame, named: int | None) -> dict:
        if named not in (None, 0):
            target = self.connector(named)
            if target is None:
                return {"status": "Rejected"}
            return await FakeCharger._on_call(target, frame)
        if named == 0 and not self.dialect.transaction_on_connector_zero:
            return {"status": "Rejected"}  # 1.6: a transaction never runs on connector 0
        free = next((c for c in self.connectors
                     if c.transaction_id is None and c.status == "Available"), None)
        if free is None:
            return {"status": "Rejected"}
        return await FakeCharger._on_call(free, frame)

    async def _by_transaction(self, frame, transaction_id) -> dict:
        holder = next((c for c in self.connectors if c.transaction_id is not None
                       and str(c.transaction_id) == str(transaction_id)), self.lead)
        return await FakeCharger._on_call(holder, frame)

    async def _unknown_connector(self, frame) -> dict:
        """A connector this station does not have: what each action answers for that."""
        action = frame.action
        if action == "UnlockConnector":
            return {"status": self.dialect.unknown_connector}
        if action in ("ChangeAvailability", "SetChargingProfile", "GetCompositeSchedule",
                      "ReserveNow", "TriggerMessage"):
            return {"status": "Rejected"}
        if action == "ClearChargingProfile":
            return {"status": "Unknown"}
        return defaults.default_response(self.version, action, frame.payload or {},
                                         now=datetime.now(timezone.utc))

    async def _reset(self, frame) -> dict:
        kind = (frame.payload or {}).get("type", "Soft")
        busy = [c for c in self.connectors if c.transaction_id is not None]
        if kind == "OnIdle" and busy:
            self.lead._later(self._reboot_when_idle(kind))  # 2.x: once every transaction is over
            return {"status": "Scheduled"}
        self.lead._later(self._reboot(kind))
        return {"status": "Accepted"}

    async def _reboot_when_idle(self, kind: str) -> None:
        while any(c.transaction_id is not None or c.status not in ("Available", "Unavailable")
                  for c in self.connectors):
            await asyncio.sleep(_IDLE_POLL_S)
        await self._reboot(kind)

    async def _reboot(self, kind: str) -> None:
        """Every transaction stops, the station reconnects, boots and reports each connector."""
        reason = f"{kind}Reset" if kind in ("Soft", "Hard", "Immediate") else "Reboot"
        for connector in self.connectors:
            if connector.transaction_id is not None:
                await connector.stop_transaction(reason)
        await self.lead.reconnect_for_reboot(self.connect)  # every connector on the new one
        await self.boot(reason=self.lead.reset_boot_reason)
        for connector in self.connectors:
            await connector.send_status("Available")
