"""TLS and HTTP Basic auth for the OCPP security profiles.

Profile 1: Basic auth over ws://. Profile 2: Basic auth over wss:// (server certificate).
Profile 3: wss:// with client certificates (mutual TLS). Paths to PEM files come from the
CLI or the GUI; errors name the file.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import ssl
from dataclasses import dataclass


class TlsError(ValueError):
    pass


@dataclass(frozen=True)
class ServerTls:
    cert: str
    key: str
    client_ca: str | None = None  # set: require client certificates (profile 3)

    def context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        _load_chain(context, self.cert, self.key)
        if self.client_ca:
            _load_ca(context, self.client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context


@dataclass(frozen=True)
class ClientTls:
    ca: str | None = None  # None: the system's trust store
    cert: str | None = None  # client certificate for profile 3
    key: str | None = None

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.ca:
            _load_ca(context, self.ca)
        if self.cert:
            _load_chain(context, self.cert, self.key)
        return context


def _load_chain(context, cert, key) -> None:
    for what, path in (("certificate", cert), ("key", key)):
        # ssl names no file when one is missing; say which
        if path and not os.path.isfile(path):
            raise TlsError(f"{what} file not found: {path}")
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise TlsError(f"certificate or key file not found: {exc.filename}") from None
    except ssl.SSLError as exc:
        raise TlsError(f"cannot use certificate {cert} with key {key}: {exc.reason or exc}") from None


def _load_ca(context, ca) -> None:
    if not os.path.isfile(ca):
        raise TlsError(f"CA file not found: {ca}")
    try:
        context.load_verify_locations(ca)
    except FileNotFoundError:
        raise TlsError(f"CA file not found: {ca}") from None
    except ssl.SSLError as exc:
        raise TlsError(f"cannot read CA file {ca}: {exc.reason or exc}") from None


def peer_common_name(transport) -> str | None:
    """The common name of the client certificate a TLS peer presented (profile 3), if any."""
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    return common_name_of(ssl_object)


def common_name_of(ssl_object) -> str | None:
    if ssl_object is None:
        return None
    for rdn in (ssl_object.getpeercert() or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def certificate_common_name(path: str) -> str | None:
    """The common name of the certificate in a PEM file (our charger's own, profile 3)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    with open(path, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read())
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


# How a CSMS checks a charger's client certificate (security profile 3):
CERT_CHECKS = ("serial", "strict", "off")
# serial: the CN must contain the serial number the charger reports in BootNotification
#         (1.6 A00.FR.405; 2.0.1 B01.FR.11/12: compare and close the connection on a mismatch)
# strict: that, and the CN must also be the charge point id of the URL (a lab rule)
# off:    no check beyond the certificate chain


def boot_serial(payload: dict) -> str | None:
    """The serial number a BootNotification reports (1.6 and 2.x)."""
    if not isinstance(payload, dict):
        return None
    station = payload.get("chargingStation")
    if isinstance(station, dict):
        return station.get("serialNumber")
    return payload.get("chargePointSerialNumber")


def certificate_serial_problem(common_name: str, boot_payload) -> str | None:
    """Why a booting charger's client certificate is not its own (its CN must hold the serial
    number the BootNotification reports), or None. The fake CSMS and the suite engine both
    apply it."""
    serial = boot_serial(boot_payload)
    if serial and serial in common_name:
        return None
    if serial:
        return (f"BootNotification serial number {serial!r} does not match the client "
                f"certificate CN {common_name!r}")
    return (f"BootNotification carries no serial number to match the client certificate "
            f"CN {common_name!r}")


def basic_auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an Authorization header, or None when absent or not Basic."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def check_basic_auth(headers, charge_point_id: str, expected: str | None) -> tuple[int, str] | None:
    """None when the request carries HTTP Basic credentials for `charge_point_id` with the
    `expected` password; else (HTTP status, reason): 400 for several Authorization headers,
    401 for missing, malformed or wrong credentials. Passwords are compared as UTF-8 bytes
    in constant time, so any password works and none leaks through timing."""
    values = headers.get_all("Authorization")
    if len(values) > 1:
        return 400, f"{len(values)} Authorization headers"
    credentials = parse_basic_auth(values[0] if values else None)
    if credentials is None:
        return 401, "no HTTP Basic credentials"
    if credentials[0] != charge_point_id:
        return 401, f"HTTP Basic user {credentials[0]!r} is not the charge point id {charge_point_id!r}"
    if expected is None or not hmac.compare_digest(credentials[1].encode("utf-8", "surrogatepass"),
                                                   expected.encode("utf-8", "surrogatepass")):
        return 401, f"wrong password for {charge_point_id}"
    return None


def redact_authorization(header: str | None) -> str | None:
    """What may be shown of an Authorization header: the scheme and user, never the secret."""
    credentials = parse_basic_auth(header)
    if credentials:
        return f"Basic {credentials[0]}:<redacted>"
    return None if header is None else header.split(" ", 1)[0] + " <redacted>"
