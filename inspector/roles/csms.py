"""The fake CSMS: accepts any charge point, answers every action with a schema-valid default.

Responses can be overridden per action from a JSON file, e.g.::

    {"BootNotification": {"status": "Rejected"},
     "Authorize": {"idTagInfo": {"status": "Invalid"}},
     "DataTransfer": {"$error": ["NotSupported", "no vendor extensions here"]},
     "Heartbeat": {"$delay": 2},
     "StatusNotification": {"$noreply": true}}

An override is merged over the default response; `$error` answers with a CALLERROR,
`$delay` waits before answering, `$noreply` never answers, `$replace` sends the given
payload instead of merging.
"""

from __future__ import annotations

import asyncio
import difflib
import functools
import itertools
import json
from datetime import datetime, timezone
from pathlib import Path

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from .. import defaults, schemas
from ..memory import IdleRelease
from .site_limit import SiteLimit
from .file_server import FileServer
from ..rpc import WRITE_STALL_TIMEOUT, CallError, Endpoint, NoReply
from ..versions import SUBPROTOCOLS, V16, VERSIONS, version_of
from ..tls import ServerTls, certificate_serial_problem, check_basic_auth, peer_common_name
from .tls_accept import tls_connection_class
from .common import (Listen, ListeningRole, charge_point_id_from_path, end_websocket_connection,
                     open_connection, record_refusal, refuse_handshake, remote_address, transport_limit)

SUPPORTED = tuple(SUBPROTOCOLS[v] for v in reversed(VERSIONS))  # newest first


class OverrideError(ValueError):
    pass


def load_overrides(path: str | Path) -> dict:
    """Read and check an overrides file; errors name the file and the problem."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise OverrideError(f"cannot read overrides file {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise OverrideError(f"overrides file {path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise OverrideError(f"overrides file {path} must map action names to JSON objects")
    for action, override in data.items():
        problem = override_problem(action, override)
        if problem:
            raise OverrideError(f"overrides file {path}: {action}: {problem}")
    return data


_DIRECTIVES = {"$delay", "$noreply", "$error", "$replace"}


def override_problem(action: str, override: dict) -> str | None:
    """Why an override cannot work, found at load time rather than when a charger calls."""
    known = {a for version in VERSIONS for a in schemas.actions(version)}
    if action not in known:
        close = difflib.get_close_matches(action, sorted(known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"no OCPP action of that name{hint}"
    unknown = sorted(k for k in override if k.startswith("$") and k not in _DIRECTIVES)
    if unknown:
        return f"unknown directive {', '.join(unknown)}; known: {', '.join(sorted(_DIRECTIVES))}"
    delay = override.get("$delay")
    if "$delay" in override and (isinstance(delay, bool) or not isinstance(delay, (int, float))
                                 or delay < 0):
        return f"$delay must be a number of seconds, not {json.dumps(delay)}"
    if "$noreply" in override and not isinstance(override["$noreply"], bool):
        return "$noreply must be true or false"
    if "$error" in override:
        error = override["$error"]
        parts = error if isinstance(error, list) else None
        if (not parts or not 2 <= len(parts) <= 3 or not all(isinstance(p, str) for p in parts[:2])
                or (len(parts) == 3 and not isinstance(parts[2], dict))):
            return ('$error must be ["ErrorCode", "description"] (or with a details object '
                    'third), e.g. ["NotSupported", "no vendor extensions here"]')
    if "$replace" in override and not isinstance(override["$replace"], dict):
        return "$replace must be the whole answer payload, a JSON object"
    return None


def deep_merge(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class FakeCsms(ListeningRole):
    """A CSMS that answers every charge point. Start with `await start()`, stop with `stop()`."""

    def __init__(self, hub, listen: Listen, *, overrides: dict | None = None,
                 default_version: str = V16, max_size: int = 1 << 20,
                 call_timeout: float = 30.0, validate: bool = True,
                 tls: ServerTls | None = None, passwords: dict[str, str] | str | None = None,
                 ping_interval: float | None = 30.0, require_subprotocol: bool = True,
                 write_timeout: float | None = WRITE_STALL_TIMEOUT, cert_check: str = "serial",
                 site_limit_w: float | None = None, files: Path | None = None,
                 files_listen: Listen | None = None, script=None, reuse_port: bool = False):
        self.hub = hub
        self.listen = listen
        self.overrides = overrides or {}
        for action, override in self.overrides.items():
            problem = override_problem(action, override) if isinstance(override, dict) else \
                "an override must be a JSON object"
            if problem:
                raise OverrideError(f"override for {action}: {problem}")
        self.default_version = default_version
        self.max_size = max_size
        self.call_timeout = call_timeout
        self.validate = validate
        self.listen_tls = tls
        # Basic auth (profiles 1 and 2): one password for every charge point, or one per id
        self.passwords = passwords
        self.ping_interval = ping_interval  # finds half-open connections of vanished chargers
        # OCPP-J: no supported subprotocol offered -> answer without one, then close at once.
        # Off (--accept-no-subprotocol): a field charger that offers none is served as 1.6
        self.require_subprotocol = require_subprotocol
        self.write_timeout = write_timeout  # a charger that stops reading is dropped after this
        self.cert_check = cert_check  # profile 3: how a client certificate is held to its charger
        self.stations: dict[str, Endpoint] = {}
        self._transaction_ids = itertools.count(1)
        self._server = None
        self.on_station = None  # callback(endpoint) when a charge point connects
        self.idle = IdleRelease()  # memory back to the system once every charger has left
        # --site-limit: share the site's power among running transactions (TxProfiles)
        self.site = SiteLimit(self, site_limit_w) if site_limit_w else None
        # --files: firmware to download and logs to upload, over HTTP on a port of its own
        self.files_folder = files
        self.files_listen = files_listen
        self.files: FileServer | None = None
        # --script: a user's handlers in front of the answers, connected(station) per charger
        self.reuse_port = reuse_port  # csms --workers: several processes on one port
        self.scripting = None
        if script is not None:
            from ..scripting import CsmsScripting
            self.scripting = CsmsScripting(self, script)

    async def start(self) -> None:
        self._server = await serve(
            self._handle, self.listen.host, self.listen.port,
            subprotocols=list(SUPPORTED), max_size=transport_limit(self.max_size),
            create_connection=tls_connection_class(
                self.listen_tls.context() if self.listen_tls else None, self.hub, "csms"),
            process_request=self._authenticate if self.passwords is not None else None,
            select_subprotocol=self._select_subprotocol, ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            # a half-open peer never completes the closing handshake either
            close_timeout=min(10.0, self.ping_interval) if self.ping_interval else 10.0,
            **({"reuse_port": True} if self.reuse_port else {}))
        self.hub.notice("info", f"fake CSMS listening on {self.url}<charge point id>", "csms")
        if self.files_folder is not None:
            where = self.files_listen or Listen(self.listen.host, 0)
            self.files = FileServer(self.files_folder, where.host, where.port,
                                    notice=lambda level, text: self.hub.notice(level, text, "csms"))
            self.files.start()
            self.hub.notice("info", f"files: {self.files_folder} at {self.files.url}<name> "
                                    "(GET firmware, PUT/POST logs)", "csms")

    async def stop(self) -> None:
        if self.scripting is not None:
            await self.scripting.stop()
        if self.files is not None:
            self.files.stop()
            self.files = None
        await super().stop()

    def _authenticate(self, connection, request):
        """HTTP Basic auth: the user is the charge point id of the path, the password ours."""
        cp_id = charge_point_id_from_path(request.path)
        expected = (self.passwords if isinstance(self.passwords, str)
                    else self.passwords.get(cp_id))
        refusal = check_basic_auth(request.headers, cp_id, expected)
        if refusal is None:
            return None
        return refuse_handshake(self.hub, connection, cp_id, "csms", *refusal)

    @staticmethod
    def _select_subprotocol(connection, offered):
        for name in offered:  # the client's preference order wins
            if name in SUPPORTED:
                return name
        return None

    async def _handle(self, websocket) -> None:
        cp_id = charge_point_id_from_path(websocket.request.path)
        common_name = peer_common_name(getattr(websocket, "transport", None))
        if common_name is not None and self.cert_check == "strict" and common_name != cp_id:
            reason = f"client certificate CN {common_name!r} is not the charge point id {cp_id!r}"
            self._refuse_connection(websocket, cp_id, f"refused: {reason}")
            await websocket.close(1008, "certificate does not belong to this charge point")
            return
        if websocket.subprotocol is None and self.require_subprotocol:
            offered = websocket.request.headers.get_all("Sec-WebSocket-Protocol")
            reason = (f"offered no OCPP subprotocol this CSMS supports ({', '.join(offered)})"
                      if offered else "offered no subprotocol")
            self._refuse_connection(websocket, cp_id, f"closed at once: {reason}")
            await websocket.close(1002, "no supported OCPP subprotocol offered")
            return
        version = version_of(websocket.subprotocol) or self.default_version
        monitor = open_connection(self.hub, cp_id, "csms", subprotocol=websocket.subprotocol,
                                  version=version, remote_address=remote_address(websocket),
                                  max_size=self.max_size, call_timeout=self.call_timeout,
                                  validate_schemas=self.validate)
        info = monitor.connection
        respond = functools.partial(self._respond, version)
        if common_name is not None and self.cert_check != "off":
            respond = functools.partial(self._respond_checking_serial, version, common_name, info)
        if self.scripting is not None:
            respond = self.scripting.respond(cp_id, version, respond)
        if self.site is not None:
            respond = self._following_transactions(respond, cp_id, version)
        endpoint = Endpoint(websocket, monitor, self.hub, side="csms", handler=respond,
                            response_timeout=self.call_timeout, write_timeout=self.write_timeout)
        self.stations[cp_id] = endpoint
        self.idle.connections_now(len(self.stations))
        if self.on_station:
            self.on_station(endpoint)
        try:
            await endpoint.run()
        finally:
            if self.stations.get(cp_id) is endpoint:
                del self.stations[cp_id]
                if self.site is not None:
                    self.site.disconnected(cp_id)
            self.idle.connections_now(len(self.stations))
            end_websocket_connection(self.hub, info, websocket)

    def _following_transactions(self, respond, cp_id: str, version: str):
        """`respond`, telling the site limit of each answer (transactions starting, ending)."""
        async def answer(frame) -> dict:
            response = await respond(frame)
            self.site.answered(cp_id, version, frame, response)
            return response
        return answer

    def _refuse_connection(self, websocket, cp_id: str, note: str) -> None:
        record_refusal(self.hub, cp_id, "csms", remote_address(websocket), note, f"{cp_id}: {note}")

    async def _respond_checking_serial(self, version: str, common_name: str, info, frame) -> dict:
        """Profile 3: the certificate must be the booting charger's own (its CN holds the
        serial number the BootNotification reports); on a mismatch the connection closes."""
        if frame.action == "BootNotification":
            reason = certificate_serial_problem(common_name, frame.payload)
            if reason:
                info.note = reason
                self.hub.notice("warning", f"{info.charge_point_id}: {reason}; connection closed",
                                "csms")
                endpoint = self.stations.get(info.charge_point_id)
                if endpoint is not None:
                    asyncio.get_running_loop().create_task(
                        endpoint.close(1008, "certificate does not match the serial number"))
                raise NoReply()
        return await self._respond(version, frame)

    async def _respond(self, version: str, frame) -> dict:
        response = defaults.default_response(
            version, frame.action, frame.payload, now=datetime.now(timezone.utc),
            next_transaction_id=next(self._transaction_ids))
        override = self.overrides.get(frame.action)
        if not override:
            return response
        if "$delay" in override:
            await asyncio.sleep(float(override["$delay"]))
        if override.get("$noreply"):
            raise NoReply()
        if "$error" in override:
            code, description, *details = override["$error"]
            raise CallError(code, description, details[0] if details else None)
        if "$replace" in override:
            return override["$replace"]
        return deep_merge(response, {k: v for k, v in override.items() if not k.startswith("$")})

    async def call(self, charge_point_id: str, action: str, payload: dict, *,
                   timeout: float | None = None):
        """Send a CSMS-initiated CALL to a connected charge point and return its answer frame."""
        endpoint = self.stations.get(charge_point_id)
        if endpoint is None:
            raise LookupError(f"charge point {charge_point_id!r} is not connected")
        try:
            return await endpoint.call(action, payload, timeout=timeout)
        except ConnectionClosed:
            raise ConnectionError(f"{charge_point_id} disconnected during {action}") from None
