"""A charger that loses its connection and carries on, as a real one does.

A mixin of `FakeCharger`. While offline (the CSMS went away, or `go_offline(seconds)` cut
the connection without a close frame, as a network loss does):

- transactions go on and meter: the transaction messages (1.6 StartTransaction,
  MeterValues of a transaction, StopTransaction; 2.0.1 TransactionEvent, marked
  `offline: true`, its seqNo running on) are queued, in order, and answered locally (1.6: a
  StartTransaction gets a local, negative transaction id);
- a card is authorized locally (1.6 LocalAuthorizeOffline; 2.0.1
  AuthCtrlr.LocalAuthorizeOffline): with the status the Local Authorization List gives it,
  else the authorization cache's (AuthorizationCacheEnabled / AuthCacheCtrlr.Enabled; both
  in charger_local_auth.py); a card neither knows is Accepted only when unknown cards may
  charge offline (AllowOfflineTxForUnknownId / AuthCtrlr.OfflineTxForUnknownIdEnabled),
  otherwise Invalid;
- StatusNotification and Heartbeat are not sent (the current status goes out on return).

It reconnects with back-off (2.0.1 OCPPCommCtrlr RetryBackOffWaitMinimum, ...RandomRange,
...RepeatTimes; the same names in 1.6's configuration): the wait doubles per failed attempt,
RepeatTimes times at most, plus a random part. Back online it does not boot again (only a
reboot does), reports its connector's status and delivers the queue in order: a 1.6
StartTransaction's real transaction id replaces the local one in everything after it. A
message the CSMS answers with a CALLERROR is retried (TransactionMessageAttempts /
OCPPCommCtrlr.MessageAttemptsTransactionEvent times, waiting TransactionMessageRetryInterval /
MessageAttemptIntervalTransactionEvent times the sends so far: 60 s, then 120 s, ... as 1.6
§3.7.1 and 2.0.1 E13 say), then dropped with a warning.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time

from .charger_dialect import Setting
from .common import ChargerError

_SKIPPED = frozenset({"StatusNotification", "Heartbeat"})
_MIN_RETRY_S = 0.1
OFFLINE_SETTINGS = {
    "wait_min": Setting("RetryBackOffWaitMinimum", "OCPPCommCtrlr/RetryBackOffWaitMinimum", "2",
                        whole_number=True),
    "random": Setting("RetryBackOffRandomRange", "OCPPCommCtrlr/RetryBackOffRandomRange", "2",
                      whole_number=True),
    "repeat": Setting("RetryBackOffRepeatTimes", "OCPPCommCtrlr/RetryBackOffRepeatTimes", "5",
                      whole_number=True),
    "attempts": Setting("TransactionMessageAttempts",
                        "OCPPCommCtrlr/MessageAttemptsTransactionEvent", "3", whole_number=True),
    "retry_interval": Setting("TransactionMessageRetryInterval",
                              "OCPPCommCtrlr/MessageAttemptIntervalTransactionEvent", "2",
                              whole_number=True),
    "authorize_offline": Setting("LocalAuthorizeOffline", "AuthCtrlr/LocalAuthorizeOffline", "true"),
    "cache": Setting("AuthorizationCacheEnabled", "AuthCacheCtrlr/Enabled", "true"),
    "unknown_offline": Setting("AllowOfflineTxForUnknownId",
                               "AuthCtrlr/OfflineTxForUnknownIdEnabled", "false"),
    # a card the CSMS refuses once back online: stop the transaction (true) or only the energy
    "stop_on_invalid": Setting("StopTransactionOnInvalidId", "TxCtrlr/StopTxOnInvalidId", "true"),
}


def back_off(attempt: int, wait_min: float, random_range: float, repeat: int) -> float:
    """Seconds before reconnection attempt `attempt` (0 = the first, after the loss)."""
    return wait_min * 2 ** min(attempt, max(0, repeat)) + random.uniform(0, random_range)


class Offline:
    """Needs FakeCharger's endpoint, connect, config, version, status and transaction."""

    def _init_offline(self) -> None:
        self.queue: list[list] = []  # [action, payload, local transaction id or None]
        self.delivered = 0  # queued messages the CSMS has taken
        self.queued_total = 0  # messages ever queued (a fleet's summary adds them up)
        self.dropped = 0  # queued messages the CSMS refused on every attempt: lost data
        self._local_ids = itertools.count(-1, -1)
        self._remap: dict = {}  # local transaction id -> the CSMS's
        self._offline_until = 0.0  # monotonic: go_offline keeps the charger away until then
        self._closing = False  # close() or a reset: not a loss
        self._reconnecting: asyncio.Task | None = None
        self.back_online = asyncio.Event()
        self._come_back = asyncio.Event()  # come_online(): end the offline window now

    # ---- state -----------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self.endpoint is not None and not self.endpoint.closed.is_set()

    def _setting(self, what: str):
        setting = OFFLINE_SETTINGS[what]
        if not setting.whole_number:
            return self.flag(setting)
        try:
            return max(0, int(self.setting(setting)))
        except ValueError:
            return int(setting.default)

    # ---- going offline and coming back ---------------------------------------------------

    async def go_offline(self, seconds: float) -> None:
        """Cut the connection as a network loss does (no close frame) and stay away for
        `seconds`; then reconnect (with back-off) and deliver what was queued."""
        self.options.reconnect = True
        self._offline_until = time.monotonic() + seconds
        self.back_online.clear()
        if self.online:
            self.hub.notice("info", f"{self.charge_point_id}: offline for {seconds:g} s", "charger")
            endpoint = self.endpoint
            endpoint.ws.transport.abort()
            try:  # offline from here on: wait until the receive loop has seen the loss
                await asyncio.wait_for(endpoint.closed.wait(), 10)
            except asyncio.TimeoutError:
                pass

    def first_reconnect_wait(self) -> float:
        """The longest the first reconnection attempt can wait after a loss (back-off)."""
        return float(self._setting("wait_min") + self._setting("random"))

    def come_online(self) -> None:
        """End an offline window early: reconnect now."""
        self._offline_until = 0.0
        self._come_back.set()

    def connection_lost(self) -> None:
        """The connection ended without us closing it: carry on offline, reconnect."""
        if self._closing or not self.options.reconnect:
            return
        self.back_online.clear()
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.create_task(self._reconnect())
            self._background.add(self._reconnecting)
            self._reconnecting.add_done_callback(self._background.discard)

    async def _reconnect(self) -> None:
        lost = time.monotonic()
        attempt = 0
        while not self._closing:
            away = self._offline_until - time.monotonic()
            # a back-off of 0 still leaves a moment between refused attempts
            wait = max(away, _MIN_RETRY_S if attempt else 0.0,
                       back_off(attempt, self._setting("wait_min"), self._setting("random"),
                                self._setting("repeat")))
            self._come_back.clear()
            try:
                await asyncio.wait_for(self._come_back.wait(), wait)
            except asyncio.TimeoutError:
                pass
            try:
                await self.connect()
            except ChargerError as exc:
                attempt += 1
                if attempt & (attempt - 1) == 0:  # 1st, 2nd, 4th, 8th... failure: not a flood
                    self.hub.notice("info", f"{self.charge_point_id}: still offline after "
                                            f"{attempt} attempt(s) ({exc})", "charger")
                continue
            self.hub.notice("info", f"{self.charge_point_id}: back online after "
                                    f"{time.monotonic() - lost:.1f} s; delivering "
                                    f"{len(self.queue)} queued message(s)", "charger")
            try:
                for peer in self.connection_peers:  # every connector says where it stands
                    await peer.send_status(peer.status)
                await self.deliver_queue()
            except ChargerError as exc:
                if not self.online:
                    continue  # lost again while delivering: reconnect
                # the CSMS refused something (a CALLERROR): say so, stay on this connection
                self.hub.notice("warning", f"{self.charge_point_id}: back online, but {exc}",
                                "charger")
            self.back_online.set()
            return

    async def wait_delivered(self, timeout: float) -> None:
        """At the end of a session: every queued message delivered, or ChargerError."""
        if not self.queue and self.online:
            return
        try:
            await asyncio.wait_for(self._until_delivered(), timeout)
        except asyncio.TimeoutError:
            raise ChargerError(f"{len(self.queue)} queued message(s) not delivered within "
                               f"{timeout:g} s: the CSMS is still unreachable") from None

    async def _until_delivered(self) -> None:
        while self.queue or not self.online:
            await self.back_online.wait()
            if self.queue or not self.online:
                self.back_online.clear()

    async def _handle_GetTransactionStatus(self, payload) -> dict:
        """2.0.1 E14: whether transaction messages are still queued (for this transaction
        when one is named) and, for a named one, whether it is still going on."""
        wanted = payload.get("transactionId")
        queued = [p for _a, p, _l in self.queue
                  if wanted is None or (p.get("transactionInfo") or {}).get("transactionId") == wanted]
        answer = {"messagesInQueue": bool(queued)}
        if wanted is not None:  # E14.FR.06: no ongoingIndicator without a transactionId
            answer["ongoingIndicator"] = any(str(peer.transaction_id) == wanted
                                             for peer in self.connection_peers)
        return answer

    # ---- the queue -----------------------------------------------------------------------

    def answer_offline(self, action: str, payload: dict) -> dict:
        """What the charger does with a CALL while offline, and the answer it goes on with."""
        if self.dialect.queues(action, payload):  # a transaction message: kept for later
            local = None
            if action == "TransactionEvent":
                payload = {**payload, "offline": True}
            if action == "StartTransaction":
                local = next(self._local_ids)
            self.queue.append([action, payload, local])
            self.queued_total += 1
            return self.dialect.offline_answer(action, local)
        if action in _SKIPPED:
            return {}
        if action == "Authorize":
            return self._authorize_offline(payload)
        raise ChargerError(f"offline: {action} cannot be sent")

    def _authorize_offline(self, payload: dict) -> dict:
        """The Local Authorization List first, then the cache (charger_local_auth.py); a
        card neither knows is accepted only when unknown cards may charge offline."""
        tag = self.dialect.card_of(payload)
        status = None
        if self._setting("authorize_offline"):
            status = self.listed_status(tag)
            if status is None and self._setting("cache"):
                status = self.cached_status(tag)
        if status is None:
            status = "Accepted" if self._setting("unknown_offline") else "Invalid"
        return self.dialect.offline_authorization(status)

    def _remapped(self, payload: dict) -> dict:
        local = payload.get("transactionId")
        if local in self._remap:
            return {**payload, "transactionId": self._remap[local]}
        return payload

    async def deliver_queue(self) -> None:
        """Send what was queued, in order; a CALLERROR is retried, then dropped. A card the
        CSMS refuses now is dealt with once the queue is out (new messages wait behind it)."""
        refused = []
        while self.queue:
            action, payload, local = self.queue[0]
            payload = self._remapped(payload)
            answer = await self._deliver(action, payload)
            self.queue.pop(0)
            if answer is None:
                self.dropped += 1
                continue
            self.delivered += 1
            if local is not None:
                real = answer.get("transactionId")
                self._remap[local] = real
                for peer in self.connection_peers:  # whichever connector runs it
                    if peer.transaction_id == local:
                        peer.transaction_id = real
            transaction = self.dialect.refused_transaction(action, payload, answer)
            if transaction is not None:
                refused.append(str(transaction))
        for transaction in refused:
            holder = next((p for p in self.connection_peers if p.transaction_id is not None
                           and str(p.transaction_id) == transaction), None)
            if holder is not None:  # still running: the card was not good after all
                await holder.card_refused_after_all()

    async def card_refused_after_all(self) -> None:
        """Back online, the CSMS refused the card of a transaction started offline (1.6
        §3.5.4, 2.0.1 C15): with StopTransactionOnInvalidId / StopTxOnInvalidId the
        transaction stops (reason DeAuthorized), else only the energy does (SuspendedEVSE)."""
        if self._setting("stop_on_invalid"):
            await self.stop_transaction("DeAuthorized")
        else:
            self.energy_suspended = True
            self.apply_limit()
            await self.dialect.energy_suspended(self)

    async def _deliver(self, action: str, payload: dict) -> dict | None:
        attempts = max(1, self._setting("attempts"))
        for attempt in range(attempts):
            if not self.online:
                raise ChargerError(f"offline again while delivering {action}")
            try:
                frame = await self.endpoint.call(action, payload)
            except Exception as exc:  # noqa: BLE001 - lost again, timed out: stays queued
                raise ChargerError(f"delivering {action}: {exc}") from None
            if frame.type.value != "CALLERROR":
                return frame.payload
            if attempt + 1 < attempts:
                # the interval times the sends so far (1.6 §3.7.1: 60 s, 120 s, ...)
                await asyncio.sleep(self._setting("retry_interval") * (attempt + 1))
        self.hub.notice("warning", f"{self.charge_point_id}: {action} answered with "
                                   f"{frame.error_code} {attempts} time(s): dropped", "charger")
        return None
