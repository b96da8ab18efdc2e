"""The boot / authorize / transaction cases against an independent implementation:
the `ocpp` library's ChargePoint, as a 1.6 charge point (SUT charger) and as 1.6 and 2.0.1
central systems (SUT csms)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import time
import urllib.request
from datetime import datetime, timezone

from ocpp.charge_point import camel_to_snake_case
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint as ChargePoint16, call as call16, call_result as result16
from ocpp.v201 import call as call201
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from inspector.conformance import PromptReply, SuiteRunner, Verdict, catalog

from independent import Csms201, serve_csms
from suite_helpers import by_id, failures, options


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


# ---- its smart charging, written here from the 1.6 specification (3.13), not from ours ------

LIBRARY_MAX_AMPS = 32.0  # what the library charge point draws without a profile
LIBRARY_LIST_MAX = 50  # cards in one SendLocalList, its SendLocalListMaxLength


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class LibraryProfiles:
    """TxDefaultProfile and TxProfile on connector 1, stack levels, absolute and relative
    schedules, for the composite schedule the Smart Charging cases ask for."""

    def __init__(self):
        self.installed: dict[int, dict] = {}

    def install(self, profile: dict) -> None:
        for key, other in list(self.installed.items()):  # same purpose and level: replaced
            if (other["stack_level"], other["charging_profile_purpose"]) == \
                    (profile["stack_level"], profile["charging_profile_purpose"]):
                del self.installed[key]
        self.installed[profile["charging_profile_id"]] = profile

    def clear(self, id=None, charging_profile_purpose=None, stack_level=None, **_) -> bool:
        gone = [key for key, p in self.installed.items()
                if (id is None or key == id)
                and (charging_profile_purpose is None or p["charging_profile_purpose"] == charging_profile_purpose)
                and (stack_level is None or p["stack_level"] == stack_level)]
        for key in gone:
            del self.installed[key]
        return bool(gone)

    def end_transaction(self) -> None:
        self.clear(charging_profile_purpose="TxProfile")

    @staticmethod
    def _span(profile: dict, tx_start):
        schedule = profile["charging_schedule"]
        if profile["charging_profile_kind"] == "Relative":
            if tx_start is None:
                return None
            start = tx_start
        else:
            start = _epoch(schedule["start_schedule"])
        length = schedule.get("duration")
        return start, (start + length if length else float("inf"))

    def _limit(self, profile: dict, when: float, tx_start):
        span = self._span(profile, tx_start)
        if span is None or not span[0] <= when < span[1]:
            return None
        begun = [period for period in profile["charging_schedule"]["charging_schedule_period"]
                 if span[0] + period["start_period"] <= when]
        # the library reads JSON numbers as Decimal, which its own JSON writer cannot write
        return float(begun[-1]["limit"]) if begun else None

    def limit_at(self, when: float, tx_id, tx_start) -> float:
        ranked = sorted(self.installed.values(), key=lambda p: -p["stack_level"])
        for purpose in ("TxProfile", "TxDefaultProfile"):
            if purpose == "TxProfile" and tx_id is None:
                continue
            for profile in ranked:
                if profile["charging_profile_purpose"] != purpose:
                    continue
                if purpose == "TxProfile" and profile.get("transaction_id") not in (None, tx_id):
                    continue
                found = self._limit(profile, when, tx_start)
                if found is not None:
                    return min(found, LIBRARY_MAX_AMPS)
        return LIBRARY_MAX_AMPS

    def composite(self, now: float, duration: int, tx_id, tx_start) -> list[dict]:
        edges = {now}
        for profile in self.installed.values():
            span = self._span(profile, tx_start)
            if span is None:
                continue
            edges.update(span[0] + period["start_period"]
                         for period in profile["charging_schedule"]["charging_schedule_period"])
            edges.add(span[1])
        periods: list[dict] = []
        for edge in sorted(e for e in edges if now <= e < now + duration):
            limit = self.limit_at(edge, tx_id, tx_start)
            if not periods or periods[-1]["limit"] != limit:
                periods.append({"start_period": int(round(edge - now)), "limit": limit})
        return periods


# ---- the ocpp library as the charger under test --------------------------------------------

class LibraryChargePoint(ChargePoint16):
    driver: "LibraryDriver"

    @on("RemoteStartTransaction")
    async def on_remote_start(self, id_tag, **_):
        return result16.RemoteStartTransaction(status="Accepted")

    @after("RemoteStartTransaction")
    async def after_remote_start(self, id_tag, **_):
        self.driver.later(self.driver.start_transaction(id_tag))

    @on("RemoteStopTransaction")
    async def on_remote_stop(self, transaction_id, **_):
        ok = transaction_id == self.driver.transaction_id
        return result16.RemoteStopTransaction(status="Accepted" if ok else "Rejected")

    @after("RemoteStopTransaction")
    async def after_remote_stop(self, transaction_id, **_):
        if transaction_id == self.driver.transaction_id:
            self.driver.later(self.driver.stop_transaction("Remote"))

    @on("UpdateFirmware")
    async def on_update_firmware(self, location, retrieve_date, **_):
        return result16.UpdateFirmware()

    @after("UpdateFirmware")
    async def after_update_firmware(self, location, retrieve_date, **_):
        self.driver.later(self.driver.update_firmware(location))

    @on("GetDiagnostics")
    async def on_get_diagnostics(self, location, **_):
        return result16.GetDiagnostics(file_name="libcp-diagnostics.txt")

    @after("GetDiagnostics")
    async def after_get_diagnostics(self, location, **_):
        self.driver.later(self.driver.upload_diagnostics(location + "libcp-diagnostics.txt"))

    @on("ChangeConfiguration")
    async def on_change_configuration(self, key, value, **_):
        if key != "StopTransactionOnInvalidId" or value not in ("true", "false"):
            return result16.ChangeConfiguration(status="NotSupported" if key != "StopTransactionOnInvalidId"
                                                else "Rejected")
        self.driver.stop_on_invalid = value == "true"
        return result16.ChangeConfiguration(status="Accepted")

    @on("GetConfiguration")
    async def on_get_configuration(self, key=None, **_):
        known = {"SendLocalListMaxLength": str(LIBRARY_LIST_MAX)}
        asked = key or list(known)
        return result16.GetConfiguration(
            configuration_key=[{"key": k, "readonly": True, "value": known[k]} for k in asked if k in known],
            unknown_key=[k for k in asked if k not in known] or None)

    @on("SendLocalList")
    async def on_send_local_list(self, list_version, update_type, local_authorization_list=None, **_):
        # 1.6 5.15 / 6.43, written here: a differential needs a newer version
        driver, entries = self.driver, local_authorization_list or []
        if len(entries) > LIBRARY_LIST_MAX:
            return result16.SendLocalList(status="Failed")
        if update_type == "Differential" and list_version <= driver.list_version:
            return result16.SendLocalList(status="VersionMismatch")
        cards = {} if update_type == "Full" else dict(driver.local_list)
        for entry in entries:
            if entry.get("id_tag_info"):
                cards[entry["id_tag"]] = entry["id_tag_info"]
            else:
                cards.pop(entry["id_tag"], None)
        driver.local_list, driver.list_version = cards, list_version
        return result16.SendLocalList(status="Accepted")

    @on("GetLocalListVersion")
    async def on_get_local_list_version(self, **_):
        driver = self.driver
        return result16.GetLocalListVersion(list_version=driver.list_version if driver.local_list else 0)

    @on("ClearCache")
    async def on_clear_cache(self, **_):
        return result16.ClearCache(status="Accepted")

    @on("SetChargingProfile")
    async def on_set_charging_profile(self, connector_id, cs_charging_profiles, **_):
        profile, driver = cs_charging_profiles, self.driver
        if connector_id not in (0, 1):
            return result16.SetChargingProfile(status="Rejected")
        if profile["charging_profile_purpose"] == "TxProfile" and (
                driver.transaction_id is None
                or profile.get("transaction_id") not in (None, driver.transaction_id)):
            return result16.SetChargingProfile(status="Rejected")
        driver.profiles.install(profile)
        return result16.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    async def on_clear_charging_profile(self, **criteria):
        found = self.driver.profiles.clear(**criteria)
        return result16.ClearChargingProfile(status="Accepted" if found else "Unknown")

    @on("GetCompositeSchedule")
    async def on_get_composite_schedule(self, connector_id, duration, charging_rate_unit=None, **_):
        if connector_id not in (0, 1) or charging_rate_unit not in (None, "A"):
            return result16.GetCompositeSchedule(status="Rejected")
        driver, now = self.driver, time.time()
        periods = driver.profiles.composite(now, duration, driver.transaction_id, driver.started_at)
        return result16.GetCompositeSchedule(
            status="Accepted", connector_id=connector_id,
            schedule_start=datetime.fromtimestamp(now, timezone.utc).isoformat(),
            charging_schedule={"duration": duration, "charging_rate_unit": "A",
                               "charging_schedule_period": periods})


class LibraryDriver:
    """Plays the operator for the library charge point: prompts become its actions."""

    cp_class = LibraryChargePoint

    def __init__(self, url: str):
        self.url = url
        self.ws = None
        self.cp: LibraryChargePoint | None = None
        self.tasks: set = set()
        self.lock = asyncio.Lock()
        self.transaction_id = None
        self.plugged = False
        self.authorized = None
        self.interval = 300
        self.profiles = LibraryProfiles()
        self.local_list: dict = {}
        self.list_version = 0
        self.started_at: float | None = None
        self.stop_on_invalid = True  # StopTransactionOnInvalidId

    def later(self, coroutine) -> None:
        async def serial():
            async with self.lock:
                await coroutine
        task = asyncio.create_task(serial())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def power_on(self) -> None:
        await self.close()
        self.ws = await connect(self.url, subprotocols=["ocpp1.6"])
        self.cp = self.cp_class("LIBCP", self.ws, response_timeout=5)
        self.cp.driver = self
        self.tasks.add(asyncio.create_task(self.cp.start()))
        boot = await self.cp.call(call16.BootNotification(charge_point_model="LibModel",
                                                          charge_point_vendor="LibVendor"))
        self.interval = boot.interval
        await self.status("Available")
        self.tasks.add(asyncio.create_task(self.heartbeats()))

    async def heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.cp.call(call16.Heartbeat())

    async def close(self) -> None:
        for task in list(self.tasks):
            if task is not asyncio.current_task():
                task.cancel()
        if self.ws is not None:
            await self.ws.close()
        self.transaction_id, self.plugged, self.authorized = None, False, None

    async def status(self, value: str) -> None:
        await self.cp.call(call16.StatusNotification(connector_id=1, error_code="NoError", status=value))

    async def start_transaction(self, tag: str) -> None:
        answer = await self.cp.call(call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=0,
                                                            timestamp=now()))
        if answer.id_tag_info["status"] == "Accepted":
            self.transaction_id, self.started_at = answer.transaction_id, time.time()
            await self.status("Charging")

    async def stop_transaction(self, reason: str) -> None:
        await self.cp.call(call16.StopTransaction(meter_stop=120, timestamp=now(), reason=reason,
                                                  transaction_id=self.transaction_id))
        self.transaction_id, self.started_at = None, None
        self.profiles.end_transaction()
        await self.status("Finishing")

    async def update_firmware(self, location: str) -> None:
        """Download with the standard library (not our charger's code), report each stage."""
        await self.cp.call(call16.FirmwareStatusNotification(status="Downloading"))
        try:
            image = await asyncio.get_running_loop().run_in_executor(
                None, lambda: urllib.request.urlopen(location, timeout=10).read())
        except OSError:
            await self.cp.call(call16.FirmwareStatusNotification(status="DownloadFailed"))
            return
        await self.cp.call(call16.FirmwareStatusNotification(status="Downloaded"))
        await self.cp.call(call16.FirmwareStatusNotification(status="Installing"))
        if not image:  # its own rule: an empty file is no firmware
            await self.cp.call(call16.FirmwareStatusNotification(status="InstallationFailed"))
            return
        await self.power_on()  # the reboot: a new connection, a boot, its status
        await self.cp.call(call16.FirmwareStatusNotification(status="Installed"))

    async def upload_diagnostics(self, url: str) -> None:
        await self.cp.call(call16.DiagnosticsStatusNotification(status="Uploading"))
        request = urllib.request.Request(url, data=b"library charge point log", method="PUT")
        try:
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: urllib.request.urlopen(request, timeout=10).read())
        except OSError:
            await self.cp.call(call16.DiagnosticsStatusNotification(status="UploadFailed"))
            return
        await self.cp.call(call16.DiagnosticsStatusNotification(status="Uploaded"))

    async def present_card(self, tag: str) -> None:
        if self.transaction_id is not None:
            await self.stop_transaction("Local")
            return
        answer = await self.cp.call(call16.Authorize(id_tag=tag))
        if answer.id_tag_info["status"] != "Accepted":
            return
        if self.plugged:
            await self.start_transaction(tag)
        else:
            self.authorized = tag

    async def plug_in(self) -> None:
        self.plugged = True
        await self.status("Preparing")
        if self.authorized:
            tag, self.authorized = self.authorized, None
            await self.start_transaction(tag)

    async def unplug(self) -> None:
        if self.transaction_id is not None:
            await self.stop_transaction("EVDisconnected")
        self.plugged = False
        await self.status("Available")

    async def prompt(self, request) -> PromptReply:
        actions = {"reboot": self.power_on, "plug_in": self.plug_in, "unplug": self.unplug,
                   "present_card": lambda: self.present_card(request.args.get("tag", "TAG0001"))}
        if request.action not in actions:
            return PromptReply.skip(f"cannot {request.action}")
        self.later(actions[request.action]())
        return PromptReply.done(f"library charge point: {request.action}")


class OfflineLibraryDriver(LibraryDriver):
    """The library charge point with offline behaviour, written here from 1.6 §3.7 and §4
    (not from our charger): on a lost connection it tries to reconnect every half second;
    meanwhile it queues StartTransaction and StopTransaction, accepts cards it saw accepted
    online (LocalAuthorizeOffline with an authorization cache) and starts transactions on
    a local id; back online it reports its status and delivers the queue in order, giving
    later messages the Central System's transaction id."""

    def __init__(self, url: str):
        super().__init__(url)
        self.online = False
        self.queue: list = []  # (request, local transaction id or None)
        self.cache: set[str] = set()
        self.remap: dict = {}
        self.local_ids = itertools.count(-1, -1)
        self.state = "Available"

    async def power_on(self) -> None:
        await super().power_on()
        self.online = True
        self.tasks.add(asyncio.create_task(self.watch()))

    async def heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.online:
                await self.send(call16.Heartbeat())

    async def watch(self) -> None:
        """The connection ends without us closing it: offline until a reconnection works."""
        await self.ws.wait_closed()
        self.online = False
        while True:
            await asyncio.sleep(0.5)
            async with self.lock:  # what the operator did offline is done first
                try:
                    self.ws = await connect(self.url, subprotocols=["ocpp1.6"])
                except (OSError, InvalidHandshake):
                    continue
                self.cp = self.cp_class("LIBCP", self.ws, response_timeout=5)
                self.cp.driver = self
                self.tasks.add(asyncio.create_task(self.cp.start()))
                self.online = True
                await self.status(self.state)
                await self.deliver()
            self.tasks.add(asyncio.create_task(self.watch()))
            return

    async def send(self, request, *, queue: bool = False, local=None):
        """CALL the Central System; offline (or lost on the way) a transaction message is
        queued and None returned."""
        if self.online:
            try:
                return await self.cp.call(request)
            except (ConnectionClosed, asyncio.TimeoutError):
                self.online = False
        if queue:
            self.queue.append((request, local))
        return None

    async def deliver(self) -> None:
        refused = False
        while self.queue:
            request, local = self.queue[0]
            known = getattr(request, "transaction_id", None)
            if known in self.remap:
                request = dataclasses.replace(request, transaction_id=self.remap[known])
            answer = await self.cp.call(request)
            self.queue.pop(0)
            if local is not None:
                self.remap[local] = answer.transaction_id
                if self.transaction_id == local:
                    self.transaction_id = answer.transaction_id
                    refused = answer.id_tag_info["status"] != "Accepted"
        if refused and self.transaction_id is not None:  # 1.6 §3.5.4: the card is refused now
            if self.stop_on_invalid:
                await self.stop_transaction("DeAuthorized")
            else:
                await self.status("SuspendedEVSE")

    async def status(self, value: str) -> None:
        self.state = value
        await self.send(call16.StatusNotification(connector_id=1, error_code="NoError", status=value))

    async def start_transaction(self, tag: str) -> None:
        local = None if self.online else next(self.local_ids)
        answer = await self.send(call16.StartTransaction(connector_id=1, id_tag=tag, meter_start=0,
                                                         timestamp=now()), queue=True, local=local)
        if answer is None:  # offline: charging starts on the local id
            self.transaction_id, self.started_at = self.queue[-1][1], time.time()
            self.state = "Charging"
            return
        if answer.id_tag_info["status"] == "Accepted":
            self.cache.add(tag)
            self.transaction_id, self.started_at = answer.transaction_id, time.time()
            await self.status("Charging")

    async def stop_transaction(self, reason: str) -> None:
        await self.send(call16.StopTransaction(meter_stop=120, timestamp=now(), reason=reason,
                                               transaction_id=self.transaction_id), queue=True)
        self.transaction_id, self.started_at = None, None
        self.profiles.end_transaction()
        await self.status("Finishing")

    async def present_card(self, tag: str) -> None:
        if self.transaction_id is not None:
            await self.stop_transaction("Local")
            return
        if self.online:
            answer = await self.send(call16.Authorize(id_tag=tag))
            accepted = answer is not None and answer.id_tag_info["status"] == "Accepted"
            if accepted:
                self.cache.add(tag)
        else:
            accepted = tag in self.cache
        if not accepted:
            return
        if self.plugged:
            await self.start_transaction(tag)
        else:
            self.authorized = tag


class LibraryChargePointWithoutLists(LibraryChargePoint):
    """The library charge point without LocalAuthListManagement, answering as 1.6 §5.10 and
    §5.15 say (written here)."""

    @on("GetLocalListVersion")
    async def on_get_local_list_version(self, **_):
        return result16.GetLocalListVersion(list_version=-1)

    @on("SendLocalList")
    async def on_send_local_list(self, **_):
        return result16.SendLocalList(status="NotSupported")


class DriverWithoutLists(LibraryDriver):
    cp_class = LibraryChargePointWithoutLists


async def _run_against_library_charge_point(ids: list, driver_class=LibraryDriver, **extra):
    runner = SuiteRunner(options("1.6", "charger", auto=False, connect_timeout=5, **extra))
    driver = None
    try:
        await runner.start()
        driver = driver_class(runner.endpoint + "LIBCP")
        runner.prompt = driver.prompt
        await driver.power_on()
        return await runner.run(catalog.select("1.6", "charger", ids))
    finally:
        await runner.stop()
        runner.close()
        if driver is not None:
            await driver.close()


async def test_ocpp_library_charge_point_passes_boot_authorize_and_transaction_cases():
    ids = ["TC_001_CS", "TC_003_CS", "TC_004_1_CS", "TC_023_4_CS", "TC_010_CS", "TC_012_CS"]
    result = await _run_against_library_charge_point(ids)
    assert [c.case_id for c in result.cases] == ids
    assert result.passed, failures(result)
    assert "LibVendor" in "".join(f.raw for s in result.cases[0].steps for f in s.frames)


async def test_ocpp_library_charge_point_passes_the_local_list_cache_and_file_cases():
    ids = ["TC_042_2_CS", "TC_043_CS", "TC_043_2_CS", "TC_043_3_CS", "TC_061_CS", "TC_044_1_CS",
           "TC_044_2_CS",
           "TC_044_3_CS",
           "TC_045_1_CS", "TC_045_2_CS"]
    result = await _run_against_library_charge_point(ids)
    assert [c.case_id for c in result.cases] == ids
    assert result.passed, failures(result)


async def test_ocpp_library_charge_point_passes_the_offline_cases():
    """A charge point with its own offline queue (written here on the ocpp library) passes
    the connection-loss cases: the transaction survives, offline starts and stops are
    delivered, and its local transaction id is replaced by the Central System's."""
    ids = ["TC_036_CS", "TC_037_1_CS", "TC_037_2_CS", "TC_037_3_CS", "TC_038_CS", "TC_039_CS"]
    result = await _run_against_library_charge_point(ids, OfflineLibraryDriver)
    assert [c.case_id for c in result.cases] == ids
    assert result.passed, failures(result)
    stop = [f.raw for s in by_id(result)["TC_039_CS"].steps for f in s.frames if "StopTransaction" in f.raw]
    assert stop and '"transactionId":-' not in stop[0]  # the Central System's id, not the local one


async def test_ocpp_library_charge_point_without_local_lists_passes_the_not_supported_cases():
    from mutants import NO_LOCAL_LIST_SUT
    ids = ["TC_042_1_CS", "TC_043_1_CS"]
    result = await _run_against_library_charge_point(ids, DriverWithoutLists,
                                                     sut_config=NO_LOCAL_LIST_SUT)
    assert result.passed, failures(result)


async def test_ocpp_library_charge_point_passes_the_smart_charging_cases():
    ids = ["TC_056_CS", "TC_057_CS", "TC_058_1_CS", "TC_058_2_CS", "TC_066_CS", "TC_067_CS",
           "TC_072_CS"]
    result = await _run_against_library_charge_point(ids)
    assert [c.case_id for c in result.cases] == ids
    assert result.passed, failures(result)
    composite = [f.raw for s in by_id(result)["TC_072_CS"].steps for f in s.frames
                 if "chargingSchedulePeriod" in f.raw and "startPeriod" in f.raw]
    assert composite, "the stacking case saw no composite schedule"


# ---- the ocpp library as the CSMS under test ---------------------------------------------------

REFUSED = {"INVALID01": "Invalid", "BLOCKED01": "Blocked", "EXPIRED01": "Expired"}


class LibraryCsms16(ChargePoint16):
    transaction_ids = itertools.count(100)
    connected: dict = {}  # charge point id -> the live instance (for the operator)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        LibraryCsms16.connected[self.id] = self

    @on("BootNotification")
    async def on_boot(self, charge_point_vendor, charge_point_model, **_):
        return result16.BootNotification(current_time=now(), interval=30, status="Accepted")

    @on("StatusNotification")
    async def on_status(self, **_):
        return result16.StatusNotification()

    @on("Heartbeat")
    async def on_heartbeat(self):
        return result16.Heartbeat(current_time=now())

    @on("Authorize")
    async def on_authorize(self, id_tag):
        return result16.Authorize(id_tag_info={"status": REFUSED.get(id_tag, "Accepted")})

    @on("StartTransaction")
    async def on_start(self, id_tag, **_):
        return result16.StartTransaction(transaction_id=next(self.transaction_ids),
                                         id_tag_info={"status": REFUSED.get(id_tag, "Accepted")})

    @on("StopTransaction")
    async def on_stop(self, **_):
        return result16.StopTransaction(id_tag_info={"status": "Accepted"})

    @on("MeterValues")
    async def on_meter_values(self, **_):
        return result16.MeterValues()

    @on("DataTransfer")
    async def on_data_transfer(self, vendor_id, **_):
        return result16.DataTransfer(status="UnknownVendorId")

    @on("FirmwareStatusNotification")
    async def on_firmware_status(self, status):
        return result16.FirmwareStatusNotification()

    @on("DiagnosticsStatusNotification")
    async def on_diagnostics_status(self, status):
        return result16.DiagnosticsStatusNotification()


class LibraryCsms201(Csms201):
    tags = {"INVALID01": "Invalid", "BLOCKED01": "Blocked"}
    unknown_tag = "Accepted"


class OperatedCsms201(LibraryCsms201):
    connected: dict = {}  # charge point id -> the live instance (for the operator)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        OperatedCsms201.connected[self.id] = self


class LibraryOperator:
    """Plays the operator of the library's Central System: "make it send X" becomes its own
    `call` of X, built with the library's message classes from the prompt's payload."""

    def __init__(self, csms_class=LibraryCsms16, calls=call16):
        self.csms_class, self.calls = csms_class, calls
        self.tasks: set = set()

    async def prompt(self, request) -> PromptReply:
        if request.action != "csms_call":
            return PromptReply.skip(f"cannot {request.action}")
        cp = self.csms_class.connected.get("LIBTEST")
        if cp is None:
            return PromptReply.skip("the charge point is not connected")
        message = getattr(self.calls, request.args["action"])(
            **camel_to_snake_case(request.args.get("payload", {})))
        task = asyncio.create_task(cp.call(message))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return PromptReply.done(f"library central system sends {request.args['action']}")


async def _run_against_library_csms(cls, version: str, ids: list, prompt=None):
    subprotocol = "ocpp1.6" if version == "1.6" else "ocpp2.0.1"
    async with await serve_csms(cls, subprotocol) as server:
        port = server.sockets[0].getsockname()[1]
        runner = SuiteRunner(options(version, "csms", auto=False, step_timeout=1.5,
                                     target=f"ws://127.0.0.1:{port}/LIBTEST"), prompt=prompt)
        try:
            return await runner.run(catalog.select(version, "csms", ids))
        finally:
            runner.close()


async def test_ocpp_library_central_system_16_passes_boot_authorize_and_transaction_cases():
    ids = ["TC_001_CSMS", "TC_003_CSMS", "TC_004_1_CSMS", "TC_023_1_CSMS", "TC_023_2_CSMS",
           "TC_023_3_CSMS", "TC_064_CSMS", "RPC_01_CSMS", "RPC_02_CSMS"]
    result = await _run_against_library_csms(LibraryCsms16, "1.6", ids)
    cases = by_id(result)
    passing = [i for i in ids if not i.startswith("RPC_")]
    assert all(cases[i].passed for i in passing), failures(result)
    # the library does not answer unparseable text (it is not an RPC oracle, as the catalog
    # notes): our RPC check catches it
    assert cases["RPC_02_CSMS"].verdict is Verdict.FAIL
    assert "no answer within" in cases["RPC_02_CSMS"].reason
    # it processes a CALL with a 37-character id: allowed, the limit binds the sender
    assert cases["RPC_01_CSMS"].passed, failures(result)
    assert "the SUT processed the frame: CALLRESULT" in cases["RPC_01_CSMS"].steps[2].reason


async def test_ocpp_library_central_system_16_passes_the_smart_charging_cases():
    ids = ["TC_056_CSMS", "TC_057_CSMS", "TC_066_CSMS", "TC_067_CSMS"]
    operator = LibraryOperator()
    result = await _run_against_library_csms(LibraryCsms16, "1.6", ids, prompt=operator.prompt)
    assert result.passed, failures(result)
    sent = [f.raw for case in result.cases for s in case.steps for f in s.frames
            if f.from_sut and '"SetChargingProfile"' in f.raw]
    assert len(sent) == 3, sent  # built by the library, not by our simulator


async def test_ocpp_library_central_system_16_passes_the_local_list_cache_and_firmware_cases():
    ids = ["TC_043_4_CSMS", "TC_043_5_CSMS", "TC_061_CSMS", "TC_044_1_CSMS", "TC_044_2_CSMS",
           "TC_044_3_CSMS", "TC_045_1_CSMS", "TC_045_2_CSMS", "TC_037_1_CSMS", "TC_037_3_CSMS",
           "TC_039_CSMS", "TC_042_1_CSMS", "TC_042_2_CSMS", "TC_043_1_CSMS", "TC_043_3_CSMS"]
    operator = LibraryOperator()
    result = await _run_against_library_csms(LibraryCsms16, "1.6", ids, prompt=operator.prompt)
    assert result.passed, failures(result)
    sent = [f.raw for case in result.cases for s in case.steps for f in s.frames
            if f.from_sut and '"SendLocalList"' in f.raw]
    assert len(sent) == 4, sent  # built by the library's message classes, not by our simulator


async def test_ocpp_library_csms_201_passes_the_cache_firmware_and_log_cases():
    ids = ["TC_C_37_CSMS", "TC_L_01_CSMS", "TC_L_02_CSMS", "TC_L_07_CSMS", "TC_L_09_CSMS",
           "TC_N_25_CSMS", "TC_N_35_CSMS", "TC_E_29_CSMS", "TC_E_30_CSMS", "TC_E_31_CSMS",
           "TC_E_33_CSMS", "TC_E_34_CSMS", "TC_L_03_CSMS", "TC_L_04_CSMS", "TC_L_05_CSMS",
           "TC_L_06_CSMS", "TC_L_08_CSMS", "TC_L_10_CSMS", "TC_L_11_CSMS", "TC_N_34_CSMS",
           "TC_N_36_CSMS", "TC_C_08_CSMS", "TC_C_20_CSMS", "TC_C_38_CSMS", "TC_L_13_CSMS",
           "TC_N_27_CSMS", "TC_N_28_CSMS", "TC_N_29_CSMS", "TC_N_30_CSMS", "TC_N_31_CSMS",
           "TC_N_32_CSMS", "TC_N_62_CSMS"]
    operator = LibraryOperator(OperatedCsms201, call201)
    result = await _run_against_library_csms(OperatedCsms201, "2.0.1", ids, prompt=operator.prompt)
    assert result.passed, failures(result)
    sent = [f.raw for case in result.cases for s in case.steps for f in s.frames
            if f.from_sut and '"UpdateFirmware"' in f.raw]
    assert len(sent) == 14, sent  # built by the library's message classes


async def test_ocpp_library_csms_201_passes_boot_authorize_and_transaction_cases():
    ids = ["TC_B_01_CSMS", "TC_C_02_CSMS", "TC_C_06_CSMS", "TC_E_03_CSMS", "TC_E_04_CSMS",
           "TC_E_15_CSMS", "TC_J_09_CSMS", "TC_P_02_CSMS"]
    result = await _run_against_library_csms(LibraryCsms201, "2.0.1", ids)
    assert result.passed, failures(result)
