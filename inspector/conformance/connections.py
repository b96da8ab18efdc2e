"""The runner's connections to the SUT: listening or connecting, and answering its CALLs.

SUT = charger: the runner listens and plays the CSMS. SUT = csms: the runner connects to
the target URL and plays the charging station. Either way each connection is an
`inspector.rpc.Endpoint` with a `ConnectionMonitor` on the runner's `Hub`, so pairing,
schema validation and the frame log are the same as everywhere else in the inspector.

A CALL from the SUT is answered with what the step that claimed it chose (`matching.py`),
else with `inspector.defaults.default_response`, so the session keeps flowing whatever
the case is looking at. `SutConnections` is one collaborator of the runner: it knows
nothing of steps beyond the running case's claims.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
from pathlib import Path
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from .. import defaults
from .. import flags
from ..codec import FrameType
from ..flags import Flag
from ..events import TO_CHARGER, TO_CSMS
from ..roles.common import (Listen, charge_point_id_from_path, check_station_url,
                            end_websocket_connection, open_connection, refuse_handshake,
                            remote_address)
from ..roles.tls_accept import tls_connection_class
from ..rpc import CallError, CallTimeout, Endpoint, NoReply
from ..tls import (ClientTls, TlsError, basic_auth_header, certificate_serial_problem,
                   check_basic_auth, common_name_of, parse_basic_auth)
from ..versions import SUBPROTOCOLS, version_of
from .context import StepProblem
from .options import RunOptions, SuiteError
from .terms import CHARGER, Verdict
from .values import get_path

if TYPE_CHECKING:
    from .matching import CaseRun


@dataclass
class HandshakeOutcome:
    """How a WebSocket opening handshake with the CSMS SUT ended."""

    websocket: object = None  # the open connection (accepted), else None
    status: int | None = None  # HTTP status of a refusal (401, 400, ...)
    subprotocol: str | None = None  # what the CSMS chose (None: no Sec-WebSocket-Protocol)
    problem: str = ""  # why the handshake failed otherwise (TLS, TCP, a malformed answer)


@dataclass
class Security:
    """What a connection's opening showed about its security (SUT charger)."""

    tls_version: str | None = None  # e.g. "TLSv1.3"; None for ws://
    client_cn: str | None = None  # common name of the client certificate (profile 3)
    basic_user: str | None = None  # HTTP Basic user the charger presented (profiles 1, 2)


RUN_PASSWORD = object()  # Handshake credentials: the run's --password
FIRMWARE_IMAGE = "fw-octt-2.0.bin"  # what the firmware cases make a charger download
EMPTY_IMAGE = "fw-octt-empty.bin"  # an image that downloads but cannot be installed


class SutConnections:
    """The run's WebSocket side: its server or client connections to the SUT, which one the
    steps talk to (`current`), and the answers to the SUT's CALLs.

    The running case (`case`, set by the runner) is told about connections opening and
    closing and chooses the answers to the CALLs its steps claimed."""

    def __init__(self, options: RunOptions, hub, *, note: Callable[[str, str], None]):
        self.options = options
        self.version, self.sut = options.version, options.sut
        self.hub = hub
        self.note = note
        # frames from the SUT travel in this hub direction (the engine plays the other side)
        self.incoming = TO_CSMS if self.sut == CHARGER else TO_CHARGER
        self.target = options.target  # SUT csms: where we connect (a simulated CSMS per case)
        self.endpoint = ""  # URL shown to the user: where we listen, or the target
        self.current: Endpoint | None = None  # the connection steps talk to
        self.case: CaseRun | None = None  # the running case, None between cases
        self.live: set[Endpoint] = set()
        self.conn_ids: set[int] = set()  # our connections on the (possibly shared) hub
        self.booted: set[int] = set()  # connections whose BootNotification we Accepted
        self.rejected: list[str] = []  # why clients were refused, for "did not connect" reasons
        self.charge_point_ids: list[str] = []  # chargers that connected (report header)
        self.open_transactions: dict = {}  # transactions the SUT has open, for the teardown
        self.waited_in_vain = False  # a charger never came: later cases do not wait as long
        self.security: dict[int, Security] = {}  # connection id -> what its opening showed
        self._foreign_boots: set[str] = set()  # boots refused for a foreign certificate
        self._transaction_ids = itertools.count(1)
        self._server = None
        self._client_tasks: set[asyncio.Task] = set()
        self.files = None  # SUT charger: the test system's file server (firmware, uploads)
        self._files_folder = None
        # SUT charger: a simulated network outage (NetworkDown .. NetworkUp): reconnections
        # are refused, as a charger without a link finds its CSMS unreachable
        self.network_down = False
        # charge points whose booted connection an outage cut: their next connection resumes
        # the registration (a lost link is not a reboot: OCPP asks for no new boot)
        self._resuming: set[str] = set()

    async def listen(self) -> None:
        """SUT charger: open the server chargers connect to; `endpoint` becomes its URL."""
        listen = self.options.listen or Listen("127.0.0.1", 0)
        tls = self.options.server_tls
        try:
            context = tls.context() if tls else None
        except TlsError as exc:
            raise SuiteError(str(exc)) from None
        try:
            self._server = await serve(
                self._serve_connection, listen.host, listen.port,
                subprotocols=[SUBPROTOCOLS[self.version]], select_subprotocol=self._select,
                max_size=self.options.max_size, ping_interval=None,
                create_connection=tls_connection_class(context, self.hub, "suite", self._tls_failed),
                process_request=self._process_request)
        except OSError as exc:
            raise SuiteError(f"cannot listen on {listen.host}:{listen.port}: "
                             f"{exc.strerror or exc}") from None
        port = self._server.sockets[0].getsockname()[1]
        self.endpoint = f"{'wss' if tls else 'ws'}://{listen.display_host}:{port}/"
        self._serve_files(listen)

    def _serve_files(self, listen: Listen) -> None:
        """The test system's own HTTP server for the firmware and diagnostics cases: an image
        to download and a place to upload to (run parameters firmware_url,
        missing_firmware_url and upload_url point there unless the run sets them)."""
        import tempfile
        from ..roles.file_server import FileServer
        self._files_folder = tempfile.TemporaryDirectory(prefix="ocpp-inspector-suite-files-")
        folder = Path(self._files_folder.name)
        (folder / FIRMWARE_IMAGE).write_bytes(b"OCPP Inspector test firmware\n" * 64)
        (folder / EMPTY_IMAGE).write_bytes(b"")  # downloads, but no charger can install it
        try:
            self.files = FileServer(folder, listen.host, 0,
                                    notice=lambda level, text: self.note(text, level))
        except OSError as exc:
            self.note(f"no file server for the firmware cases: {exc.strerror or exc}", "warning")
            return
        self.files.start()

    def file_params(self) -> dict:
        if self.files is None:
            return {}
        base = self.files.url
        return {"firmware_url": base + FIRMWARE_IMAGE,
                "missing_firmware_url": base + "missing-" + FIRMWARE_IMAGE,
                "invalid_firmware_url": base + EMPTY_IMAGE, "upload_url": base}

    def _tls_failed(self, remote: str | None, reason: str) -> None:
        """A charger's TLS handshake failed: in the capture, the console and the verdict."""
        self.rejected.append(f"TLS handshake failed: {reason}")
        self.note(f"TLS handshake from {remote or 'a charger'} failed: {reason}", "warning")

    def _process_request(self, connection, request):
        if self.network_down:
            cp_id = charge_point_id_from_path(request.path)
            self.rejected.append("refused while the network is down (a simulated outage)")
            return refuse_handshake(self.hub, connection, cp_id, "suite", 503,
                                    "the network is down (a simulated outage)")
        if self.options.password is not None:
            return self._authenticate(connection, request)
        return None

    async def cut(self, endpoint: Endpoint) -> None:
        """Cut a connection as a lost link does: no close frame, the TCP connection just ends."""
        if endpoint.connection.id in self.booted:
            self._resuming.add(endpoint.connection.charge_point_id)
        transport = getattr(endpoint.ws, "transport", None)
        if transport is not None:
            transport.abort()
        try:
            await asyncio.wait_for(endpoint.closed.wait(), 5)
        except asyncio.TimeoutError:
            pass
        if endpoint in self.live:
            self._detach(endpoint)

    def _authenticate(self, connection, request):
        """SUT charger with a --password: HTTP Basic auth as security profiles 1 and 2 ask
        (the user is the charge point id); a refusal is HTTP 401 and noted for the reason."""
        cp_id = charge_point_id_from_path(request.path)
        refusal = check_basic_auth(request.headers, cp_id, self.options.password)
        if refusal is None:
            return None
        status, reason = refusal
        self.rejected.append(f"refused with HTTP {status}: {reason}")
        self.note(f"refused {cp_id} with HTTP {status}: {reason}", "warning")
        return refuse_handshake(self.hub, connection, cp_id, "suite", status, reason)

    @property
    def listening(self) -> bool:
        return self._server is not None

    def checked_target(self) -> str:
        """SUT csms: the target URL, checked before the first case rather than in it."""
        if not self.target:
            raise SuiteError("a CSMS SUT needs a target URL ending in the charge point id")
        try:
            check_station_url(self.target)
        except ValueError as exc:
            raise SuiteError(str(exc)) from None
        return self.target

    def _select(self, connection, offered):
        wanted = SUBPROTOCOLS[self.version]
        if wanted in offered:
            return wanted
        self.rejected.append(f"a client offered {', '.join(offered) or 'no subprotocol'} "
                             f"instead of {wanted}")
        return None

    def _attach(self, endpoint: Endpoint) -> None:
        self.conn_ids.add(endpoint.connection.id)
        self.live.add(endpoint)
        self.current = endpoint
        if self.case is not None:
            self.case.on_open(endpoint)

    def _detach(self, endpoint: Endpoint) -> None:
        self.live.discard(endpoint)
        was_current = self.current is endpoint
        if was_current:
            self.current = None
        if self.case is not None:
            self.case.on_close(endpoint, was_current)

    def _new_endpoint(self, websocket, cp_id: str, side: str) -> Endpoint:
        monitor = open_connection(self.hub, cp_id, "suite", subprotocol=websocket.subprotocol,
                                  version=version_of(websocket.subprotocol) or self.version,
                                  remote_address=remote_address(websocket),
                                  max_size=self.options.max_size,
                                  call_timeout=max(self.options.step_timeout, 1.0))
        endpoint = Endpoint(websocket, monitor, self.hub, side=side,
                            response_timeout=self.options.step_timeout)
        endpoint.handler = lambda frame: self._handle_call(frame, endpoint)
        return endpoint

    async def _serve_connection(self, websocket) -> None:
        cp_id = charge_point_id_from_path(websocket.request.path)
        if websocket.subprotocol != SUBPROTOCOLS[self.version]:
            self.note(f"refused {cp_id}: it did not offer {SUBPROTOCOLS[self.version]}", "warning")
            await websocket.close(1002, f"{SUBPROTOCOLS[self.version]} required")
            return
        endpoint = self._new_endpoint(websocket, cp_id, "csms")
        if cp_id in self._resuming:  # back after an outage: still booted
            self._resuming.discard(cp_id)
            self.booted.add(endpoint.connection.id)
        self.security[endpoint.connection.id] = _security_of(websocket)
        self.charge_point_ids.append(cp_id)
        self._attach(endpoint)
        self.note(f"charger {cp_id} connected from {endpoint.connection.remote_address}", "info")
        await self._run_endpoint(endpoint, websocket)

    async def handshake(self, subprotocols=None, password=RUN_PASSWORD) -> HandshakeOutcome:
        """SUT csms: one opening handshake with the target, whatever its outcome."""
        url = self.target
        headers = {}
        password = self.options.password if password is RUN_PASSWORD else password
        if password is not None:
            headers["Authorization"] = basic_auth_header(charge_point_id_from_path(url), password)
        tls = self.options.client_tls
        try:
            context = ((tls or ClientTls()).context() if url.startswith("wss://") else None)
        except TlsError as exc:
            raise StepProblem(Verdict.ERROR, str(exc)) from None
        offered = list(subprotocols or [SUBPROTOCOLS[self.version]])
        try:
            websocket = await connect(url, subprotocols=offered, additional_headers=headers,
                                      ssl=context, max_size=self.options.max_size,
                                      ping_interval=None,
                                      open_timeout=min(10.0, max(self.options.step_timeout, 1.0)))
        except InvalidStatus as exc:
            return HandshakeOutcome(status=exc.response.status_code)
        except InvalidURI as exc:
            raise StepProblem(Verdict.ERROR, f"bad URL {url}: {exc}") from None
        except InvalidHandshake as exc:
            return HandshakeOutcome(problem=f"WebSocket handshake with {url} failed: {exc}")
        except ssl.SSLError as exc:
            return HandshakeOutcome(problem=f"TLS handshake with {url} failed: {exc.reason or exc}")
        except (OSError, asyncio.TimeoutError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or "timed out")
            raise StepProblem(Verdict.ERROR, f"cannot connect to {url}: {reason}") from None
        return HandshakeOutcome(websocket=websocket, subprotocol=websocket.subprotocol)

    def adopt(self, websocket) -> Endpoint:
        """An accepted client connection becomes the one steps talk to."""
        endpoint = self._new_endpoint(websocket, charge_point_id_from_path(self.target), "charger")
        self._attach(endpoint)
        task = asyncio.create_task(self._run_endpoint(endpoint, websocket))
        self._client_tasks.add(task)
        task.add_done_callback(self._client_tasks.discard)
        return endpoint

    async def open_client(self) -> Endpoint:
        """SUT csms: open a connection to the target (closing ours first)."""
        if self.current is not None:
            await self.close_endpoint(self.current)
        url = self.target
        wanted = SUBPROTOCOLS[self.version]
        outcome = await self.handshake()
        if outcome.status is not None:
            raise StepProblem(Verdict.ERROR, f"the CSMS at {url} refused the WebSocket upgrade: "
                                             f"HTTP {outcome.status}")
        if outcome.websocket is None:
            raise StepProblem(Verdict.FAIL, outcome.problem)
        websocket = outcome.websocket
        if websocket.subprotocol != wanted:
            await websocket.close(1002, "subprotocol not accepted")
            raise StepProblem(Verdict.FAIL, f"the CSMS did not accept subprotocol {wanted} "
                                            f"(it answered {websocket.subprotocol or 'none'})")
        return self.adopt(websocket)

    async def _run_endpoint(self, endpoint: Endpoint, websocket) -> None:
        """Receive until the connection ends, then report the close (server and client alike)."""
        try:
            await endpoint.run()
        finally:
            end_websocket_connection(self.hub, endpoint.connection, websocket)
            self._detach(endpoint)

    # ---- closing --------------------------------------------------------------------------

    async def close_endpoint(self, endpoint: Endpoint, code: int = 1000, reason: str = "") -> None:
        try:
            await asyncio.wait_for(endpoint.close(code, reason), 5)
            await asyncio.wait_for(endpoint.closed.wait(), 5)
        except (asyncio.TimeoutError, ConnectionClosed, OSError):
            pass
        # the receive loop detaches it; make sure even if it never ran
        if endpoint in self.live:
            self._detach(endpoint)

    async def close_all(self) -> None:
        """Close every connection and the server (the end of a run)."""
        if self.files is not None:
            self.files.stop()
            self.files = None
        if self._files_folder is not None:
            self._files_folder.cleanup()
            self._files_folder = None
        for endpoint in list(self.live):
            await self.close_endpoint(endpoint)
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), 5)
            except asyncio.TimeoutError:
                pass
            self._server = None
        for task in list(self._client_tasks):
            task.cancel()

    # ---- calling the SUT ------------------------------------------------------------------

    async def call_sut(self, endpoint: Endpoint, action: str, payload, timeout: float, **kwargs):
        """Send a CALL and return the answer frame; no answer is the step's failure."""
        try:
            return await endpoint.call(action, payload, timeout=timeout, **kwargs)
        except CallTimeout:
            raise StepProblem(Verdict.FAIL, f"no response to {action} within {timeout:g} s") from None
        except (ConnectionError, ConnectionClosed):
            raise StepProblem(Verdict.FAIL,
                              f"the connection closed before the response to {action}") from None

    # ---- answering the SUT ----------------------------------------------------------------

    def default_response(self, frame) -> dict:
        payload = defaults.default_response(self.version, frame.action, frame.payload,
                                            now=datetime.now(timezone.utc),
                                            next_transaction_id=next(self._transaction_ids))
        if frame.action == "StartTransaction" and isinstance(payload.get("transactionId"), int):
            self.open_transactions[payload["transactionId"]] = True
        return payload

    async def _handle_call(self, frame, endpoint: Endpoint | None = None) -> dict:
        if frame.unique_id in self._foreign_boots:
            self._foreign_boots.discard(frame.unique_id)
            raise NoReply()  # the connection is closing: a mismatched certificate
        payload = await self._answer(frame)
        # the "booted" precondition waits for a connection whose boot we accepted
        if (frame.action == "BootNotification" and endpoint is not None
                and isinstance(payload, dict) and payload.get("status") == "Accepted"):
            self.booted.add(endpoint.connection.id)
        return payload

    def check_boot_certificate(self, record) -> None:
        """Profile 3, as a CSMS must: the client certificate's CN holds the serial number the
        station boots with (1.6 A00.FR.405, 2.0.1 B01.FR.11/12), else the connection closes.
        Runs as the BootNotification is observed, so the step that takes it sees the flag."""
        if record.direction != self.incoming or record.action != "BootNotification":
            return
        facts = self.security.get(record.connection.id)
        if facts is None or facts.client_cn is None:
            return
        reason = certificate_serial_problem(facts.client_cn, record.frame.payload)
        if reason is None:
            return
        record.flags.append(Flag(flags.CERTIFICATE_MISMATCH, reason))
        record.connection.note = reason
        self.rejected.append(reason)
        self._foreign_boots.add(record.frame.unique_id)
        self.note(f"{record.connection.charge_point_id}: {reason}; connection closed", "warning")
        endpoint = next((e for e in self.live if e.connection.id == record.connection.id), None)
        if endpoint is not None:
            asyncio.get_running_loop().create_task(
                endpoint.close(1008, "certificate does not match the serial number"))

    async def _answer(self, frame) -> dict:
        run = self.case
        index = run.claim_by_uid.get(frame.unique_id) if run is not None else None
        claim = run.claims.get(index) if index is not None else None
        if claim is not None:
            if claim.delay:
                await asyncio.sleep(claim.delay)
            if claim.error:
                code, *rest = claim.error
                raise CallError(code, rest[0] if rest else "")
            if claim.payload is not None:
                if frame.action == "StartTransaction":
                    tx = claim.payload.get("transactionId")
                    if isinstance(tx, int):
                        self.open_transactions[tx] = True
                return claim.payload
        return self.default_response(frame)

    def track_transactions(self, record) -> None:
        """Follow which transactions the SUT has open, so a teardown can stop them."""
        if record.direction != self.incoming or record.frame.type is not FrameType.CALL:
            return
        payload = record.frame.payload or {}
        if record.action == "StopTransaction":
            self.open_transactions.pop(payload.get("transactionId"), None)
        elif record.action == "TransactionEvent":
            tx = get_path(payload, "transactionInfo.transactionId")
            if payload.get("eventType") == "Started" and isinstance(tx, str):
                self.open_transactions[tx] = True
            elif payload.get("eventType") == "Ended":
                self.open_transactions.pop(tx, None)


def _security_of(websocket) -> Security:
    """TLS version, client certificate CN and Basic user of an accepted charger connection."""
    facts = Security()
    transport = getattr(websocket, "transport", None)
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    if ssl_object is not None:
        facts.tls_version = ssl_object.version()
        facts.client_cn = common_name_of(ssl_object)
    credentials = parse_basic_auth(websocket.request.headers.get("Authorization"))
    if credentials is not None:
        facts.basic_user = credentials[0]
    return facts
