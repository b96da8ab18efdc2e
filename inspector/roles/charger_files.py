"""Firmware updates and log uploads in the fake charger, with real HTTP transfers.

A mixin of `FakeCharger`:

- **UpdateFirmware** (1.6; 2.0.1 block L): at the retrieve date the charger downloads the
  image from its location (http:// or https://, trusting the CA of its TLS options) and
  reports every stage in FirmwareStatusNotification: Downloading, Downloaded (or
  DownloadFailed, after `retries` attempts `retryInterval` s apart), Installing, then 1.6
  Installed and a reboot; 2.0.1 InstallRebooting, the reboot (BootNotification reason
  FirmwareUpdate) and Installed, with the request's requestId. A transaction in progress
  is left to end first. A 2.0.1 image sent with a signature and signingCertificate is
  checked for real (SHA-256 with the certificate's EC or RSA key): SignatureVerified, or
  InvalidSignature and a SecurityEventNotification InvalidFirmwareSignature, and nothing is
  installed. After the reboot the charger reports SecurityEventNotification FirmwareUpdated.
- **SignedUpdateFirmware** (1.6 security extension): the 2.0.1 flow, reported in
  SignedFirmwareStatusNotification with the requestId, signature checked the same way. The new firmwareVersion is the image's file name without its
  extension (`.../fw-2.4.1.bin` -> `fw-2.4.1`), and the next BootNotification says so.
- **GetDiagnostics** (1.6) / **GetLog** (2.0.1): the charger writes a log file (its
  identity, state and configuration) and uploads it with HTTP PUT to the location (a URL
  ending in `/` gets the file name appended), reporting DiagnosticsStatusNotification /
  LogStatusNotification Uploading, then Uploaded or UploadFailed (2.0.1 UploadFailure).

`csms --files DIR` serves both ends (roles/file_server.py).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import urllib.error
import urllib.request
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from ..timestamps import iso, parse_time

TRANSFER_TIMEOUT = 30.0  # seconds for one download or upload
MAX_IMAGE = 256 << 20  # bytes


class TransferError(Exception):
    """A download or upload that did not work, in one line."""


def signature_valid(image: bytes, signature: str, certificate_pem: str) -> bool:
    """Whether `signature` (base64) signs `image` (SHA-256) with the certificate's key."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    try:
        key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, binascii.Error):
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, image, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(raw, image, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


class FirmwareAndLogs:
    """Needs FakeCharger's version, options (tls), model, call, _later, _reboot, transaction."""

    def _init_files(self) -> None:
        self.firmware = self.model.firmware
        self.firmware_status = "Idle"
        self.log_status = "Idle"  # the last upload's status (Idle: none yet)
        self.uploads = 0

    # ---- transfers (blocking; run in the default executor) ---------------------------------

    def _ssl_context(self, url: str):
        if urlsplit(url).scheme != "https":
            return None
        tls = self.options.tls
        if tls is None:
            import ssl
            return ssl.create_default_context()
        return tls.context()

    def _download(self, url: str) -> bytes:
        if urlsplit(url).scheme not in ("http", "https"):
            raise TransferError(f"cannot download {url}: only http:// and https:// are supported")
        try:
            with urllib.request.urlopen(url, timeout=TRANSFER_TIMEOUT,
                                        context=self._ssl_context(url)) as answer:
                data = answer.read(MAX_IMAGE + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TransferError(f"download of {url} failed: {getattr(exc, 'reason', exc)}") from None
        if len(data) > MAX_IMAGE:
            raise TransferError(f"download of {url} failed: larger than {MAX_IMAGE >> 20} MB")
        return data

    def _upload(self, url: str, body: bytes) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise TransferError(f"cannot upload to {url}: only http:// and https:// are supported")
        request = urllib.request.Request(url, data=body, method="PUT",
                                         headers={"Content-Type": "text/plain"})
        try:
            with urllib.request.urlopen(request, timeout=TRANSFER_TIMEOUT,
                                        context=self._ssl_context(url)) as answer:
                answer.read()
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TransferError(f"upload to {url} failed: {getattr(exc, 'reason', exc)}") from None

    async def _in_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(None, function, *args)

    # ---- firmware --------------------------------------------------------------------------

    async def _handle_UpdateFirmware(self, payload) -> dict:
        location, retrieve, request_id, firmware = self.dialect.firmware_request(payload)
        self._start_update(payload, location, retrieve, request_id, firmware, extension=False)
        return self.dialect.firmware_answer()

    async def _handle_SignedUpdateFirmware(self, payload) -> dict:
        """1.6 security extension: as 2.0.1's UpdateFirmware, answered in
        SignedFirmwareStatusNotification."""
        firmware = payload["firmware"]
        self._start_update(payload, firmware["location"], firmware["retrieveDateTime"],
                           payload["requestId"], firmware, extension=True)
        return {"status": "Accepted"}

    def _start_update(self, payload: dict, location: str, retrieve: str, request_id,
                      firmware: dict | None, *, extension: bool) -> None:
        signed = (firmware.get("signature"), firmware.get("signingCertificate")) if firmware else None
        retries = max(1, int(payload.get("retries") or 1))
        interval = max(0, int(payload.get("retryInterval") or 0))
        # 2.0.1 L01 / the 1.6 extension: installDateTime schedules the install (InstallScheduled)
        install_at = parse_time(firmware.get("installDateTime")) if firmware else None
        self._later(self._update_firmware(location, parse_time(retrieve) or time.time(),
                                          retries, interval, request_id,
                                          signed if signed and signed[0] else None, extension,
                                          install_at))

    async def _firmware_status(self, status: str, request_id, extension: bool = False) -> None:
        self.firmware_status = status
        payload = {"status": status}
        if request_id is not None:  # 2.x and the 1.6 extension; plain 1.6 has none
            payload["requestId"] = request_id
        action = self.dialect.signed_status_action if extension else "FirmwareStatusNotification"
        await self.call(action, payload)

    async def report_firmware_status(self) -> None:
        """TriggerMessage FirmwareStatusNotification: where an update stands. 1.6 knows
        only a few of the statuses: a later stage reads as Idle there once it is over."""
        await self.call("FirmwareStatusNotification",
                        {"status": self.dialect.reported_firmware_status(self.firmware_status)})

    async def report_log_status(self) -> None:
        """TriggerMessage DiagnosticsStatusNotification (1.6) / LogStatusNotification."""
        await self.call(self.dialect.log_status_action,
                        self.dialect.log_status_report(self.log_status))

    async def security_event(self, kind: str, info: str | None = None) -> None:
        """SecurityEventNotification (2.0.1; the 1.6 security extension)."""
        payload = {"type": kind, "timestamp": iso(time.time())}
        if info:
            payload["techInfo"] = info[:255]
        await self.call("SecurityEventNotification", payload)

    async def _update_firmware(self, location: str, retrieve_at: float, retries: int,
                               interval: int, request_id, signed=None, extension=False,
                               install_at: float | None = None) -> None:
        # 2.0.1 and the 1.6 security extension: requestId, signatures, InstallRebooting,
        # security events; plain 1.6: the four statuses of its FirmwareStatus
        modern = extension or self.dialect.signed_firmware_flow

        async def status(value: str) -> None:
            await self._firmware_status(value, request_id, extension)
        await asyncio.sleep(max(0.0, retrieve_at - time.time()))
        image = b""
        for attempt in range(retries):
            await status("Downloading")
            try:
                image = await self._in_thread(self._download, location)
                break
            except TransferError as exc:
                self.hub.notice("warning", f"{self.charge_point_id}: {exc}", "charger")
                await status("DownloadFailed")
                if attempt + 1 == retries:
                    return
                await asyncio.sleep(interval)
        await status("Downloaded")
        if signed is not None:
            signature, certificate = signed
            if not certificate or not signature_valid(image, signature, certificate):
                await status("InvalidSignature")
                await self.security_event("InvalidFirmwareSignature", location)
                return
            await status("SignatureVerified")
        if install_at is not None and install_at > time.time():
            await status("InstallScheduled")
            await asyncio.sleep(install_at - time.time())
        while self.transaction_id is not None:  # install once the transaction is over
            await asyncio.sleep(1.0)
        await status("Installing")
        if not image:  # nothing to install: an empty file is no firmware (TC_044_3_CS)
            await status("InstallationFailed")
            return
        self.firmware = PurePosixPath(urlsplit(location).path).stem or self.firmware
        if not modern:  # plain 1.6: the reboot, its boot and status, then Installed (S16 §7.25)
            await self._reboot("Hard")
            await status("Installed")
            return
        await status("InstallRebooting")
        reason, self.reset_boot_reason = self.reset_boot_reason, self.dialect.firmware_boot_reason
        try:
            await self._reboot(self.dialect.firmware_reboot_kind)
        finally:
            self.reset_boot_reason = reason
        # the security event, then Installed (the order of TC_L_01 in OCTT's 2.0.1 runs)
        await self.security_event("FirmwareUpdated", f"firmware {self.firmware}")
        await status("Installed")

    # ---- diagnostics and logs --------------------------------------------------------------

    def log_file(self) -> bytes:
        """What the charger uploads: who it is, its state and its configuration."""
        lines = [f"OCPP Inspector fake charger {self.charge_point_id}",
                 f"written {iso(time.time())}",
                 f"model {self.model.vendor} {self.model.model}, firmware {self.firmware}",
                 f"OCPP {self.version}, status {self.status}, transaction {self.transaction_id}",
                 "configuration:"]
        lines += [f"  {key} = {value}" for key, (value, _) in sorted(self.config.items())]
        return ("\n".join(lines) + "\n").encode()

    def _file_name(self, kind: str) -> str:
        return f"{self.charge_point_id}-{kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}.log"

    async def _handle_GetDiagnostics(self, payload) -> dict:
        name = self._file_name("diagnostics")
        self._later(self._send_log(payload["location"], name, "DiagnosticsStatusNotification",
                                   None, max(1, int(payload.get("retries") or 1)),
                                   max(0, int(payload.get("retryInterval") or 0))))
        return {"fileName": name}

    async def _handle_GetLog(self, payload) -> dict:
        kind = "security" if payload.get("logType") == "SecurityLog" else "diagnostics"
        name = self._file_name(kind)
        self._later(self._send_log(payload["log"]["remoteLocation"], name, "LogStatusNotification",
                                   payload["requestId"], max(1, int(payload.get("retries") or 1)),
                                   max(0, int(payload.get("retryInterval") or 0))))
        return {"status": "Accepted", "filename": name}

    async def _send_log(self, location: str, name: str, action: str, request_id,
                        retries: int, interval: int) -> None:
        url = location + name if location.endswith("/") else location
        failed = self.dialect.upload_failed

        async def status(value: str) -> None:
            self.log_status = value
            payload = {"status": value}
            if request_id is not None:
                payload["requestId"] = request_id
            await self.call(action, payload)
        for attempt in range(retries):
            await status("Uploading")
            try:
                await self._in_thread(self._upload, url, self.log_file())
            except TransferError as exc:
                self.hub.notice("warning", f"{self.charge_point_id}: {exc}", "charger")
                await status(failed)
                if attempt + 1 < retries:
                    await asyncio.sleep(interval)
                continue
            self.uploads += 1
            await status("Uploaded")
            return
