"""The fake charger: a simulated charging station for 1.6, 2.0.1 and 2.1.

It is built from small user-level actions (`boot`, `plug_in`, `present_card`,
`start_transaction`, `send_meter_values`, `stop_transaction`, `unplug`) that the scripted
session, the fleet and the conformance engine's `--auto` mode all reuse. It answers
CSMS-initiated calls like a real charger and, through `Endpoint`, keeps one CALL
outstanding at a time.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

from .. import defaults
from ..codec import FrameType
from ..rpc import CallError, Endpoint
from ..versions import SUBPROTOCOLS, V16, version_of
from ..tls import ClientTls, TlsError, basic_auth_header, certificate_common_name
from .common import (ChargerError, charge_point_id_from_path, check_station_url,
                     end_websocket_connection, open_connection, remote_address,
                     transport_limit)
from ..smart_charging import ProfileStore
from .charger_answers import AnswersCsms, GENERAL_SETTINGS
from .charger_dialect import Setting, dialect_for, now_iso
from .charger_metering import METERING_SETTINGS, Metering
from .charger_offline import OFFLINE_SETTINGS, Offline
from .charger_local_auth import LOCAL_AUTH_SETTINGS, LocalAuthorization
from .charger_files import FirmwareAndLogs
from .charger_faults import Faults
from .charger_models import BUILT_IN, ChargerModel
from .charger_smart import SMART_CHARGING_SETTINGS, SmartCharging
from .meter import Meter


@dataclass
class ChargerOptions:
    url: str
    version: str = V16
    id_tag: str = defaults.TAG
    meter_values: int = 3
    # seconds between sampled meter values: sets MeterValueSampleInterval / TxUpdatedInterval
    # (None: the model's, else 10 s); the session paces itself by the configuration's value
    interval: float | None = None
    connector: int = 1
    password: str | None = None
    max_size: int = 1 << 20
    call_timeout: float = 30.0
    validate: bool = True
    configuration: dict = field(default_factory=dict)
    tls: ClientTls | None = None  # wss:// trust and client certificate (profiles 2 and 3)
    model: ChargerModel | None = None  # None: the default single-phase 7.36 kW wallbox
    reconnect: bool = False  # a lost connection: carry on offline, reconnect, deliver the queue
    deliver_timeout: float = 300.0  # the session's end waits this long for the queue's delivery
    battery_kwh: float = 60.0  # the EV: its battery, state of charge at plug-in and target
    soc: float = 20.0
    target_soc: float = 100.0


class FakeCharger(AnswersCsms, SmartCharging, Faults, Metering, Offline, LocalAuthorization,
                  FirmwareAndLogs):
    def __init__(self, hub, options: ChargerOptions):
        self.hub = hub
        self.options = options
        check_station_url(options.url)
        self.charge_point_id = charge_point_id_from_path(options.url)
        self.version = options.version
        self.dialect = dialect_for(options.version)  # what differs by version, chosen once
        self.endpoint: Endpoint | None = None
        self.model = options.model or BUILT_IN["ac-7kw"]
        self.meter = Meter(power_w=self.model.power_w, voltage=self.model.voltage,
                           phases=1 if self.model.current == "DC" else self.model.phases,
                           battery_wh=options.battery_kwh * 1000, soc=options.soc,
                           target_soc=options.target_soc)
        self.transaction_id: str | int | None = None
        self.seq_no = 0
        self.status = "Available"
        self.heartbeat_interval = 300
        # 1.6 keys, or 2.x "Component/Variable" names -> (value, read-only)
        self.config = self.dialect.configuration(GENERAL_SETTINGS, METERING_SETTINGS,
                                                 SMART_CHARGING_SETTINGS, OFFLINE_SETTINGS,
                                                 LOCAL_AUTH_SETTINGS)
        self._init_offline()
        self._init_local_auth()
        self._init_files()
        if self.model.features is not None and self.dialect.key(GENERAL_SETTINGS["profiles"]):
            self.config[self.dialect.key(GENERAL_SETTINGS["profiles"])] = (
                ",".join(self.model.features), True)
        self.config.update({k: (v, False) for k, v in self.model.configuration.items()})
        if options.interval is not None:  # --interval: its sample interval (MeterValueSampleInterval)
            self.set_sample_interval(options.interval)
        self.profiles = ProfileStore()  # charging profiles a CSMS installed (charger_smart.py)
        self.transaction_started_at: float | None = None
        self.config.update({k: (str(v), False) for k, v in options.configuration.items()})
        self._run_task: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self.reset_requested = asyncio.Event()
        # 2.x boot reason after a Reset (None: PowerUp, as 1.6 has no reason)
        self.reset_boot_reason: str | None = self.dialect.reboot_boot_reason
        # what a CSMS asked for while a transaction ran, applied when the connector is free
        self.scheduled_availability: str | None = None  # "Inoperative" / "Operative"
        self.scheduled_reset: str | None = None  # 2.x Reset OnIdle
        self.reservation: dict | None = None  # {"id": reservation id, "tag": idTag}
        # a remote start while nothing is plugged in: False plugs in at once (a CLI session
        # with nobody at the cable), True waits for plug_in() as a real charger does
        self.waits_for_cable = False
        self.pending_remote_start: tuple[str, int | None] | None = None  # (tag, remoteStartId)
        # the connectors on this charger's connection (a station's, station.py): they share
        # its endpoint and its offline queue; a single charger is alone on its own
        self.connection_peers: list[FakeCharger] = [self]

    # ---- connection ---------------------------------------------------------------------

    async def connect(self) -> Endpoint:
        headers = {}
        if self.options.password is not None:
            headers["Authorization"] = basic_auth_header(self.charge_point_id, self.options.password)
        url = self.options.url
        secure = url.startswith("wss://")
        if self.options.tls and not secure:
            raise ChargerError(f"TLS options given but {url} is not a wss:// URL")
        try:
            ssl_context = (self.options.tls or ClientTls()).context() if secure else None
        except TlsError as exc:
            raise ChargerError(str(exc)) from None
        try:
            websocket = await connect(url, subprotocols=[SUBPROTOCOLS[self.version]],
                                      additional_headers=headers, ssl=ssl_context,
                                      max_size=transport_limit(self.options.max_size),
                                      open_timeout=10, ping_interval=None)
        except InvalidStatus as exc:
            raise ChargerError(f"CSMS at {url} refused the connection: HTTP "
                               f"{exc.response.status_code}") from None
        except InvalidURI as exc:
            raise ChargerError(f"bad URL {url}: {exc}") from None
        except InvalidHandshake as exc:
            hint = ""
            if secure and not (self.options.tls and self.options.tls.cert):
                # with TLS 1.3 a refused client certificate only shows as a dropped handshake
                hint = " (the CSMS may require a client certificate: security profile 3)"
            raise ChargerError(f"WebSocket handshake with {url} failed: {exc}{hint}") from None
        except ssl.SSLError as exc:
            raise ChargerError(f"TLS handshake with {url} failed: {exc.reason or exc}") from None
        except (OSError, asyncio.TimeoutError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or "timed out")
            raise ChargerError(f"cannot connect to {url}: {reason}") from None
        if websocket.subprotocol != SUBPROTOCOLS[self.version]:
            await websocket.close(1002, "subprotocol not accepted")
            raise ChargerError(f"CSMS at {url} did not accept subprotocol {SUBPROTOCOLS[self.version]}")
        monitor = open_connection(self.hub, self.charge_point_id, "charger",
                                  subprotocol=websocket.subprotocol,
                                  version=version_of(websocket.subprotocol),
                                  remote_address=remote_address(websocket),
                                  max_size=self.options.max_size,
                                  call_timeout=self.options.call_timeout,
                                  validate_schemas=self.options.validate)
        info = monitor.connection
        self.endpoint = Endpoint(websocket, monitor, self.hub, side="charger", handler=self._on_call,
                                 response_timeout=self.options.call_timeout)
        for peer in self.connection_peers:
            peer.endpoint = self.endpoint
        self._run_task = asyncio.create_task(self._receive(info, websocket))
        return self.endpoint

    async def _receive(self, info, websocket) -> None:
        try:
            await self.endpoint.run()
        finally:
            end_websocket_connection(self.hub, info, websocket)
            self.connection_lost()

    async def close(self) -> None:
        self._closing = True
        for task in list(self._background):
            task.cancel()
        if self.endpoint is not None:
            await self.endpoint.close()
            if self._run_task:
                await asyncio.wait({self._run_task}, timeout=5)

    async def call(self, action: str, payload: dict) -> dict:
        """CALL the CSMS; returns the CALLRESULT payload, raises ChargerError otherwise.
        Offline (with `reconnect`) the charger answers itself (charger_offline.py)."""
        if self.endpoint is None or self.endpoint.closed.is_set():
            if self.options.reconnect and not self._closing:
                return self.answer_offline(action, payload)
            raise ChargerError(f"not connected when sending {action}")
        try:
            frame = await self.endpoint.call(action, payload)
        except ConnectionError as exc:
            if self.options.reconnect and not self._closing:  # lost on the way: kept for later
                return self.answer_offline(action, payload)
            raise ChargerError(f"CSMS closed the connection during {action}: {exc}") from None
        except Exception as exc:
            raise ChargerError(f"{action} failed: {exc}") from None
        if frame.type is FrameType.CALLERROR:
            raise ChargerError(f"CSMS answered {action} with {frame.error_code}: {frame.error_description}")
        return frame.payload

    # ---- user-level actions ---------------------------------------------------------------

    def setting(self, setting: Setting) -> str:
        """A configuration value by its Setting: under this version's name, else its default."""
        return self.config.get(self.dialect.key(setting), (setting.default, False))[0]

    def flag(self, setting: Setting) -> bool:
        """A true / false setting."""
        return self.setting(setting).strip().lower() == "true"

    def serial_number(self) -> str:
        """With a client certificate (profile 3) its CN, as a CSMS checks; else the model's
        serial, else our id."""
        fallback = self.model.serial or self.charge_point_id
        tls = self.options.tls
        if tls is not None and tls.cert:
            try:
                return certificate_common_name(tls.cert) or fallback
            except (OSError, ValueError):
                pass
        return fallback

    async def boot(self, *, retries: int = 3, reason: str | None = None,
                   retry_rejected: bool = False) -> str:
        """BootNotification until Accepted. `reason` (2.x, default PowerUp) says why it booted;
        with `retry_rejected` a Rejected answer is retried after the granted interval, as
        OCPP asks, instead of raising."""
        serial = self.serial_number()
        payload = self.dialect.boot_request(self.model, serial, self.firmware, reason)
        for _ in range(retries + 1):
            answer = await self.call("BootNotification", payload)
            status = answer.get("status")
            interval = answer.get("interval") or 300
            if status == "Accepted":
                self.heartbeat_interval = interval
                self.start_clock_aligned()
                return status
            if status == "Rejected":
                if not retry_rejected:
                    raise ChargerError("CSMS rejected BootNotification")
                await asyncio.sleep(interval)  # no message at all before the interval ends
                continue
            await asyncio.sleep(min(interval, 2))  # Pending: retry, kept short for labs
        raise ChargerError(f"BootNotification still {status} after {retries} retries")

    async def send_status(self, status: str, connector: int | None = None, *,
                          error_code: str = "NoError") -> None:
        connector = self.options.connector if connector is None else connector
        self.status = status
        payload = self.dialect.status_request(status, connector, error_code)
        await self.call("StatusNotification", payload)

    async def heartbeat(self) -> None:
        await self.call("Heartbeat", {})

    async def present_card(self, id_tag: str | None = None) -> str:
        """Authorize a card; returns the CSMS's status (Accepted, Invalid, Blocked, ...)."""
        tag = id_tag or self.options.id_tag
        online = self.online
        if online and self.pre_authorized(tag):  # LocalPreAuthorize: no Authorize round trip
            return "Accepted"
        answer = await self.call("Authorize", self.dialect.authorize_request(tag))
        info = answer.get(self.dialect.card_info_field, {})
        status = info.get("status", "?")
        if online:
            self.remember_authorization(tag, status, info)
        return status

    async def plug_in(self) -> None:
        await self.send_status("Preparing")
        if self.pending_remote_start is not None:  # remote start first: the cable completes it
            tag, remote_start_id = self.pending_remote_start
            self.pending_remote_start = None
            await self.start_transaction(tag, remote_start_id=remote_start_id, trigger="RemoteStart")

    async def start_transaction(self, id_tag: str | None = None, *, remote_start_id: int | None = None,
                                trigger: str = "Authorized") -> str | int:
        tag = id_tag or self.options.id_tag
        self.meter.start()
        self.transaction_started_at = time.time()
        await self.dialect.start_transaction(self, tag, remote_start_id, trigger)
        await self.send_status("Charging")
        return self.transaction_id

    async def send_meter_values(self) -> None:
        self.apply_limit()  # the composite limit in force now caps what the EV draws
        sample = self.meter.sample()
        if self.meter.full and self.transaction_id is not None and self.status != "SuspendedEV":
            await self._ev_full()
        await self.dialect.meter_values(self, sample, "Sample.Periodic", self.sampled(),
                                        "MeterValuePeriodic", now_iso())

    async def _ev_full(self) -> None:
        """The EV reached its target SoC: it stops drawing, the transaction goes on."""
        await self.dialect.ev_full(self)

    async def stop_transaction(self, reason: str = "Local", *, fault: bool = False) -> None:
        """End the transaction; `fault`: it ends because the hardware tripped (2.0.1 trigger
        AbnormalCondition), and the connector is not Finishing but about to be Faulted."""
        if self.transaction_id is None:
            return
        self.meter.sample()
        await self.dialect.stop_transaction(self, reason, fault)
        self.transaction_id = None
        self.transaction_started_at = None
        self.energy_suspended = False
        self.profiles.end_transaction(self.options.connector)  # TxProfiles end with it
        self.meter.stop()
        if not fault:
            await self.send_status("Finishing")

    async def unplug(self) -> None:
        if not await self.became_idle():
            await self.send_status("Available")

    # ---- the scripted session -------------------------------------------------------------

    async def run_session(self) -> None:
        """Boot, status, heartbeat, authorize, start, N meter values, stop, back to Available."""
        await self.boot()
        await self.send_status("Available")
        await self.heartbeat()
        await self.run_transaction()

    async def run_transaction(self) -> None:
        """Authorize, plug in, start, N sampled meter values, stop, unplug."""
        status = await self.present_card()
        if status != "Accepted":
            raise ChargerError(f"CSMS did not accept idTag {self.options.id_tag!r}: {status}")
        await self.plug_in()
        await self.start_transaction()
        for _ in range(self.options.meter_values):
            await self.wait_sample_interval()
            await self.send_meter_values()
        await self.stop_transaction()
        await self.unplug()
        if self.options.reconnect:  # what was queued offline reaches the CSMS before we end
            await self.wait_delivered(self.options.deliver_timeout)

    async def keep_alive(self) -> None:
        """Heartbeat at the granted interval until cancelled or disconnected (with
        `reconnect`, a lost connection is only a pause: it carries on offline)."""
        while not self._closing and (self.online or self.options.reconnect):
            await asyncio.sleep(self.heartbeat_interval)
            await self.heartbeat()


__all__ = ["FakeCharger", "ChargerOptions", "ChargerError", "CallError"]
