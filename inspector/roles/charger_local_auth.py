"""The charger's local authorization: the Local Authorization List and the cache.

A mixin of `FakeCharger` (1.6 LocalAuthListManagement; 2.0.1 blocks C and D):

- SendLocalList, Full (replaces the list) or Differential (entries with an idTagInfo /
  idTokenInfo are added or updated, entries without one removed; a version not above the
  current one is a VersionMismatch); GetLocalListVersion (0: no list, or an empty one;
  1.6 -1 when the list is disabled); ClearCache;
- the authorization cache, filled from the CSMS's answers (Authorize, StartTransaction /
  TransactionEvent idTagInfo), with their expiryDate / cacheExpiryDateTime;
- offline, a card is looked up in the list first, then in the cache (charger_offline.py).

Configuration: 1.6 LocalAuthListEnabled, LocalAuthListMaxLength, SendLocalListMaxLength;
2.0.1 LocalAuthListCtrlr Enabled, Entries, ItemsPerMessage.
"""

from __future__ import annotations

import time

from ..timestamps import parse_time
from .charger_dialect import Setting

MAX_ENTRIES = 1000
LOCAL_AUTH_SETTINGS = {
    "enabled": Setting("LocalAuthListEnabled", "LocalAuthListCtrlr/Enabled", "true"),
    "max_length": Setting("LocalAuthListMaxLength", "LocalAuthListCtrlr/Entries",
                          str(MAX_ENTRIES), read_only=True),
    "per_message": Setting("SendLocalListMaxLength", "LocalAuthListCtrlr/ItemsPerMessage",
                           str(MAX_ENTRIES), read_only=True),
    # online, a card the list or the cache accepts starts without waiting for Authorize
    "pre_authorize": Setting("LocalPreAuthorize", "AuthCtrlr/LocalPreAuthorize", "false"),
}


def _status_and_expiry(info: dict | None) -> tuple[str | None, float | None]:
    if not isinstance(info, dict):
        return None, None
    expiry = info.get("expiryDate", info.get("cacheExpiryDateTime"))
    return info.get("status"), parse_time(expiry) if expiry else None


class LocalAuthorization:
    """Needs FakeCharger's config and version."""

    def _init_local_auth(self) -> None:
        self.local_list: dict[str, dict] = {}  # tag -> idTagInfo / idTokenInfo
        self.local_list_version = 0
        self.auth_cache: dict[str, tuple[str, float | None]] = {}  # tag -> (status, expiry)

    def _local_list_enabled(self) -> bool:
        if not self.supports("LocalAuthListManagement"):
            return False
        return self.flag(LOCAL_AUTH_SETTINGS["enabled"])

    def pre_authorized(self, tag: str) -> bool:
        """LocalPreAuthorize (1.6 §3.5, 2.0.1 C11): online, a card the Local Authorization
        List (or, when enabled, the cache) holds as Accepted needs no Authorize first."""
        if not self.flag(LOCAL_AUTH_SETTINGS["pre_authorize"]):
            return False
        status = self.listed_status(tag)
        if status is None and self._setting("cache"):
            status = self.cached_status(tag)
        return status == "Accepted"

    # ---- the cache -------------------------------------------------------------------------

    def remember_authorization(self, tag: str, status: str | None, info: dict | None = None) -> None:
        """The CSMS's verdict on a card (with its idTagInfo / idTokenInfo), for the cache."""
        _, expiry = _status_and_expiry(info)
        if status:
            self.auth_cache[tag] = (status, expiry)

    def cached_status(self, tag: str, now: float | None = None) -> str | None:
        """What the cache says of a card (None: nothing, or it expired)."""
        entry = self.auth_cache.get(tag)
        if entry is None:
            return None
        status, expiry = entry
        if expiry is not None and expiry <= (time.time() if now is None else now):
            return None
        return status

    def listed_status(self, tag: str, now: float | None = None) -> str | None:
        """What the Local Authorization List says of a card (None: not on it, expired, or
        the list is disabled)."""
        if not self._local_list_enabled() or tag not in self.local_list:
            return None
        status, expiry = _status_and_expiry(self.local_list[tag])
        if expiry is not None and expiry <= (time.time() if now is None else now):
            return None
        return status

    # ---- CSMS-initiated calls --------------------------------------------------------------

    async def _handle_SendLocalList(self, payload) -> dict:
        version = payload.get("listVersion", payload.get("versionNumber", 0))
        update = payload.get("updateType")
        entries = payload.get("localAuthorizationList") or []
        if self.dialect.local_list_needs_enabling and not self._local_list_enabled():
            return {"status": "NotSupported"}
        if update == "Differential" and version <= self.local_list_version:
            return {"status": "VersionMismatch"}
        tags = {}
        for entry in entries:
            token = self.dialect.card_of(entry)
            if not token:
                return {"status": "Failed"}
            tags[token] = entry.get(self.dialect.card_info_field)
        if update == "Full":
            if any(info is None for info in tags.values()):
                return {"status": "Failed"}  # a full list names every card's status
            new = dict(tags)
        else:
            new = dict(self.local_list)
            for token, info in tags.items():
                if info is None:
                    new.pop(token, None)
                else:
                    new[token] = info
        if len(new) > MAX_ENTRIES:
            return {"status": "Failed"}
        self.local_list, self.local_list_version = new, version
        return {"status": "Accepted"}

    async def _handle_GetLocalListVersion(self, payload) -> dict:
        # an empty list is version 0, whatever version emptied it (1.6 5.10, 2.0.1 D02)
        version = self.local_list_version if self.local_list else 0
        return self.dialect.local_list_version(version, self._local_list_enabled())

    async def _handle_ClearCache(self, payload) -> dict:
        self.auth_cache.clear()
        return {"status": "Accepted"}
