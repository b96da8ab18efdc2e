"""`csms --site-limit KW`: the fake CSMS as a site's load manager.

The site's power is shared equally among the transactions running on it. Whenever one
starts or ends (or its charger disconnects), every running transaction gets a TxProfile
with its new share, in W: 1.6 SetChargingProfile on the transaction's connector, 2.0.1 on
its EVSE. At boot each charger gets a TxDefaultProfile (connector/EVSE 0, stack level 0)
with the share a transaction starting then would get, so a transaction that starts before
its TxProfile arrives stays within the site; a charger without smart charging refuses it,
which is a notice, not an error. With a fleet of fake chargers (which honour profiles) this
is a smart-charging test bench; against a real charger it shows whether it applies what it
is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ..smart_charging import transaction_change
from ..versions import V16

PROFILE_ID = 9_000  # one TxProfile id per transaction: PROFILE_ID + a running number
STACK_LEVEL = 1
DEFAULT_PROFILE_ID = 8_999  # the TxDefaultProfile sent at boot (one per charger)


@dataclass
class _Transaction:
    charge_point_id: str
    version: str
    where: int  # 1.6 connectorId, 2.0.1 evseId
    transaction_id: str  # as transaction_change gives it (1.6's integer as text)
    profile_id: int


class SiteLimit:
    def __init__(self, csms, limit_w: float):
        if limit_w <= 0:
            raise ValueError("the site limit must be above 0 kW")
        self.csms = csms
        self.limit_w = limit_w
        self.running: dict[tuple[str, str], _Transaction] = {}  # (cp, transaction id) -> tx
        self._profile_ids = iter(range(PROFILE_ID, PROFILE_ID + 1_000_000))
        self._tasks: set[asyncio.Task] = set()

    @property
    def share_w(self) -> float | None:
        return round(self.limit_w / len(self.running), 1) if self.running else None

    def answered(self, charge_point_id: str, version: str, frame, response: dict) -> None:
        """The fake CSMS answered `frame` with `response`: follow transactions."""
        if frame.action == "BootNotification":
            if response.get("status") == "Accepted":
                self._later(self._send_default(charge_point_id, version))
            return
        change = transaction_change(frame.action, frame.payload or {}, response)
        if change is None or change.transaction_id is None:
            return
        if change.started:
            self._started(charge_point_id, version, change.where or 1, change.transaction_id)
        else:
            self._ended(charge_point_id, change.transaction_id)

    def disconnected(self, charge_point_id: str) -> None:
        gone = [key for key in self.running if key[0] == charge_point_id]
        for key in gone:
            del self.running[key]
        if gone:
            self._rebalance()

    def _started(self, charge_point_id, version, where, transaction_id: str) -> None:
        self.running[(charge_point_id, transaction_id)] = _Transaction(
            charge_point_id, version, where, transaction_id, next(self._profile_ids))
        self._rebalance()

    def _ended(self, charge_point_id, transaction_id: str) -> None:
        if self.running.pop((charge_point_id, transaction_id), None) is not None:
            self._rebalance()

    def _rebalance(self) -> None:
        """Send every running transaction its share, after the answer that changed it."""
        self._later(self._send_shares())

    def _later(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_default(self, charge_point_id: str, version: str) -> None:
        await asyncio.sleep(0)  # after the BootNotification's CALLRESULT
        share = round(self.limit_w / (len(self.running) + 1), 1)
        action, payload = default_profile(version, share)
        await self._send(charge_point_id, action, payload, f"a TxDefaultProfile of {share:g} W",
                         refusal_level="info")

    async def _send_shares(self) -> None:
        await asyncio.sleep(0)  # the CALLRESULT that started or ended a transaction goes first
        share = self.share_w
        if share is None:
            return
        for transaction in list(self.running.values()):
            action, payload = tx_profile(transaction, share)
            await self._send(transaction.charge_point_id, action, payload,
                             f"a TxProfile of {share:g} W")

    async def _send(self, charge_point_id: str, action: str, payload: dict, what: str, *,
                    refusal_level: str = "warning") -> None:
        try:
            answer = await self.csms.call(charge_point_id, action, payload)
        except (LookupError, ConnectionError, OSError, asyncio.TimeoutError) as exc:
            self.csms.hub.notice("warning", f"site limit: {charge_point_id}: {exc}", "csms")
            return
        status = (answer.payload or {}).get("status") if answer.payload else None
        if status != "Accepted":
            self.csms.hub.notice(refusal_level, f"site limit: {charge_point_id} answered "
                                                f"{status or answer.type.value} to {what}", "csms")


def default_profile(version: str, limit_w: float) -> tuple[str, dict]:
    """The SetChargingProfile that caps every transaction of a charger at `limit_w` watts
    from its start, until its own TxProfile arrives."""
    schedule = {"chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}]}
    profile = {"stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
               "chargingProfileKind": "Relative"}
    if version == V16:
        return "SetChargingProfile", {"connectorId": 0, "csChargingProfiles": {
            "chargingProfileId": DEFAULT_PROFILE_ID, **profile, "chargingSchedule": schedule}}
    return "SetChargingProfile", {"evseId": 0, "chargingProfile": {
        "id": DEFAULT_PROFILE_ID, **profile, "chargingSchedule": [{"id": 1, **schedule}]}}


def tx_profile(transaction: _Transaction, limit_w: float) -> tuple[str, dict]:
    """The SetChargingProfile that gives a transaction `limit_w` watts."""
    schedule = {"chargingRateUnit": "W",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit_w}]}
    profile = {"stackLevel": STACK_LEVEL, "chargingProfilePurpose": "TxProfile",
               "chargingProfileKind": "Relative"}
    if transaction.version == V16:  # an integer transaction id in 1.6
        return "SetChargingProfile", {"connectorId": transaction.where, "csChargingProfiles": {
            "chargingProfileId": transaction.profile_id, **profile,
            "transactionId": int(transaction.transaction_id), "chargingSchedule": schedule}}
    return "SetChargingProfile", {"evseId": transaction.where, "chargingProfile": {
        "id": transaction.profile_id, **profile, "transactionId": transaction.transaction_id,
        "chargingSchedule": [{"id": 1, **schedule}]}}
