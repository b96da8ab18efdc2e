"""A local test PKI for a lab: CA, server and client certificates (`ocpp-inspector certs`).

Uses the maintained `cryptography` package. Keys are written with mode 0600.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name: str, organisation: str = "OCPP Inspector lab") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(path: Path, key) -> None:
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _write_cert(path: Path, cert) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _builder(subject, issuer, public_key, days: int):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days)))


class CertsError(ValueError):
    pass


def _check_id(charge_point: str) -> None:
    """A charge point id names files in --out: no path separators, no dot names."""
    if (not charge_point or charge_point in (".", "..") or any(c in charge_point for c in "/\\\0")
            or charge_point in ("ca", "server")):
        raise CertsError(f"{charge_point!r} cannot be a charge point id here: it must be a plain "
                         f"name (no path separators), other than ca and server")


def _load_ca(folder: Path):
    """The lab CA already in `folder`: new certificates are signed by it, so earlier ones
    still verify."""
    try:
        ca = x509.load_pem_x509_certificate((folder / "ca.pem").read_bytes())
        ca_key = serialization.load_pem_private_key((folder / "ca.key").read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CertsError(f"{folder} has a CA that cannot be read ({exc}); use another --out, or "
                         f"--force to replace it (certificates it signed stop verifying)") from None
    return ca, ca_key


def create_lab_pki(folder: str | Path, *, hosts: list[str] | None = None,
                   charge_points: list[str] | None = None, days: int = 365,
                   force: bool = False) -> dict[str, Path]:
    """Write ca.pem/ca.key, server.pem/server.key and <cp>.pem/<cp>.key; returns the paths.

    A CA already in `folder` is reused (signing the new certificates), never replaced unless
    `force`; an existing certificate of the same name is not overwritten unless `force`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    hosts = hosts or ["localhost", "127.0.0.1"]
    charge_points = charge_points or ["CP001"]
    for cp in charge_points:
        _check_id(cp)
    written: dict[str, Path] = {}
    if not force:
        taken = [f"{stem}.pem" for stem in ("server", *charge_points) if (folder / f"{stem}.pem").exists()]
        if (folder / "ca.pem").exists() and "server.pem" in taken:
            taken.remove("server.pem")  # re-issuing the server certificate with the same CA is harmless
        if taken:
            raise CertsError(f"{folder} already holds {', '.join(taken)}; use --force to replace "
                             f"them")

    if (folder / "ca.pem").exists() and not force:
        ca, ca_key = _load_ca(folder)
        ca_name = ca.subject
        written.update(ca=folder / "ca.pem", ca_key=folder / "ca.key")
        return _issue_all(folder, ca_name, ca_key, hosts, charge_points, days, written)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("OCPP Inspector lab CA")
    ca = (_builder(ca_name, ca_name, ca_key.public_key(), days * 2)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write_cert(folder / "ca.pem", ca)
    _write_key(folder / "ca.key", ca_key)
    written.update(ca=folder / "ca.pem", ca_key=folder / "ca.key")
    return _issue_all(folder, ca_name, ca_key, hosts, charge_points, days, written)


def _issue_all(folder: Path, ca_name, ca_key, hosts, charge_points, days: int,
               written: dict[str, Path]) -> dict[str, Path]:
    def issue(name: str, file_stem: str, usage, alt_names=None):
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (_builder(_name(name), ca_name, key.public_key(), days)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        _write_cert(folder / f"{file_stem}.pem", cert)
        _write_key(folder / f"{file_stem}.key", key)
        written[file_stem] = folder / f"{file_stem}.pem"

    alt = []
    for host in hosts:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            alt.append(x509.DNSName(host))
    issue(hosts[0], "server", ExtendedKeyUsageOID.SERVER_AUTH, alt)
    for cp in charge_points:
        # OCPP 2.0.1 A00.FR.512: the client certificate's CN is the charge point id
        issue(cp, cp, ExtendedKeyUsageOID.CLIENT_AUTH)
    return written
