"""Security profiles 1-3 in every role, and secrets kept out of captures."""

import stat

import pytest

from inspector.certs import create_lab_pki
from inspector.events import Hub
from inspector.roles.charger import ChargerError
from inspector.tls import ClientTls, ServerTls, redact_authorization
from tests.conftest import LOOPBACK
from tests.roles_helpers import csms, logged_hub, proxy, run_charger, running

SECRET = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    create_lab_pki(folder, charge_points=["CP1"])
    return folder


def server_tls(pki, mutual=False):
    return ServerTls(str(pki / "server.pem"), str(pki / "server.key"),
                     str(pki / "ca.pem") if mutual else None)


def client_tls(pki, with_cert=False):
    if with_cert:
        return ClientTls(str(pki / "ca.pem"), str(pki / "CP1.pem"), str(pki / "CP1.key"))
    return ClientTls(str(pki / "ca.pem"))


async def test_profile1_basic_auth_and_no_secret_in_capture(tmp_path):
    """Right password connects, wrong gets 401; the capture never holds the password."""
    hub, writer = logged_hub(tmp_path / "c.db")
    async with running(csms(hub, passwords={"CP1": SECRET})) as server:
        await run_charger(server.url + "CP1", password=SECRET, meter_values=1)
        with pytest.raises(ChargerError, match="HTTP 401"):
            await run_charger(server.url + "CP1", password="bad-Pa55")
        with pytest.raises(ChargerError, match="HTTP 401"):
            await run_charger(server.url + "CP1")
    writer.close()
    for path in tmp_path.iterdir():  # the database and any WAL left behind
        data = path.read_bytes()
        assert SECRET.encode() not in data and b"bad-Pa55" not in data
    from inspector.store import Capture
    notes = [c["note"] for c in Capture(tmp_path / "c.db").connections() if c["note"]]
    assert notes == ["refused (HTTP 401): wrong password for CP1",
                     "refused (HTTP 401): no HTTP Basic credentials"]


@pytest.mark.both_loops
async def test_proxy_passes_basic_auth_through():
    """The proxy forwards Authorization; the CSMS's 401 reaches the charger as is."""
    async with running(csms(passwords=SECRET)) as server, running(proxy(server.url)) as relay:
        await run_charger(relay.url + "CP1", password=SECRET, meter_values=1)
        with pytest.raises(ChargerError, match="HTTP 401"):
            await run_charger(relay.url + "CP1", password="nope")


async def test_profile2_tls_server_certificate(pki):
    """wss:// with our lab CA works; without trusting the CA the handshake fails clearly."""
    async with running(csms(tls=server_tls(pki), passwords=SECRET)) as server:
        assert server.url.startswith("wss://")
        await run_charger(server.url + "CP1", password=SECRET, tls=client_tls(pki), meter_values=1)
        with pytest.raises(ChargerError, match="TLS handshake with .* failed|cannot connect"):
            await run_charger(server.url + "CP1", password=SECRET, meter_values=1)


async def test_profile3_mutual_tls(pki):
    """A CSMS requiring client certificates accepts CP1's and refuses a charger without one."""
    async with running(csms(tls=server_tls(pki, mutual=True))) as server:
        await run_charger(server.url + "CP1", tls=client_tls(pki, with_cert=True), meter_values=1)
        with pytest.raises(ChargerError):
            await run_charger(server.url + "CP1", tls=client_tls(pki), meter_values=1)


@pytest.mark.both_loops
async def test_proxy_does_tls_on_both_sides_independently(pki, tmp_path):
    """charger →wss (proxy's certificate)→ proxy →wss + client certificate→ CSMS."""
    hub, writer = logged_hub(tmp_path / "p.db")
    async with running(csms(tls=server_tls(pki, mutual=True))) as server:
        relay = proxy(server.url, hub, listen_tls=server_tls(pki),
                      upstream_tls=client_tls(pki, with_cert=True))
        async with running(relay):
            assert relay.url.startswith("wss://")
            await run_charger(relay.url + "CP1", tls=client_tls(pki), meter_values=1)
    writer.close()
    from tests.conftest import exported
    assert len(exported(tmp_path / "p.db")) == 22


async def test_proxy_reports_upstream_tls_failure(pki):
    """An upstream whose certificate we do not trust is a 502 with the TLS reason in the log."""
    events = []
    hub = Hub()
    hub.subscribe(events.append)
    async with running(csms(tls=server_tls(pki))) as server, running(proxy(server.url, hub)) as relay:
        with pytest.raises(ChargerError, match="HTTP 502"):
            await run_charger(relay.url + "CP1")
    notes = [e.connection.note for e in events if hasattr(e, "connection") and e.connection.note]
    assert notes and "TLS handshake with upstream" in notes[0]


def test_lab_pki_keys_are_private(pki):
    """Key files are readable by their owner only."""
    for key in pki.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_authorization_is_redacted():
    """What may be shown of a header: scheme and user, not the secret."""
    from inspector.tls import basic_auth_header
    assert redact_authorization(basic_auth_header("CP1", SECRET)) == "Basic CP1:<redacted>"
    assert SECRET not in redact_authorization("Bearer " + SECRET)


def test_listening_defaults_to_loopback():
    """Roles bind to 127.0.0.1 unless a host is named."""
    from inspector.roles.common import Listen
    assert Listen.parse("9000") == Listen("127.0.0.1", 9000)
    assert Listen.parse(":9000").host == "127.0.0.1"
    assert LOOPBACK.host == "127.0.0.1"


# ---- profile 3: whose certificate is it ------------------------------------------------------

@pytest.fixture(scope="module")
def station_pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("station-pki")
    create_lab_pki(folder, charge_points=["CP001", "CP002"])
    return folder


def _mutual(folder):
    return ServerTls(str(folder / "server.pem"), str(folder / "server.key"), str(folder / "ca.pem"))


def _as(folder, station):
    return ClientTls(str(folder / "ca.pem"), str(folder / f"{station}.pem"), str(folder / f"{station}.key"))


async def test_profile3_holds_a_certificate_to_the_charger_presenting_it(station_pki):
    """Our charger reports its certificate's CN as its serial number; CP001's certificate on
    /CP002 boots by default (OCPP compares the serial, not the URL), is refused in strict
    mode, and a charger whose boot serial is not the CN is closed with the reason logged."""
    from inspector.roles.charger import ChargerOptions, FakeCharger
    hub = Hub()
    notices = []
    hub.subscribe(lambda e: notices.append(e.text) if hasattr(e, "text") else None)
    async with running(csms(hub, tls=_mutual(station_pki))) as role:
        charger = await run_charger(role.url.replace("ws://", "wss://") + "CP002",
                                    tls=_as(station_pki, "CP001"), meter_values=0)
        assert charger.serial_number() == "CP001"

        class LyingCharger(FakeCharger):
            def serial_number(self) -> str:
                return "SOMEONE-ELSE"
        liar = LyingCharger(Hub(), ChargerOptions(url=role.url.replace("ws://", "wss://") + "CP001",
                                                  tls=_as(station_pki, "CP001"), call_timeout=5))
        await liar.connect()
        with pytest.raises(ChargerError):
            await liar.boot(retries=0)
        await liar.endpoint.closed.wait()
        await liar.close()
    assert any("serial number 'SOMEONE-ELSE' does not match the client certificate CN 'CP001'" in n
               for n in notices), notices
    async with running(csms(Hub(), tls=_mutual(station_pki), cert_check="strict")) as role:
        with pytest.raises(ChargerError):
            await run_charger(role.url.replace("ws://", "wss://") + "CP002",
                              tls=_as(station_pki, "CP001"), meter_values=0)


def test_certs_reuses_its_ca_and_never_overwrites_or_escapes_its_folder(tmp_path):
    import subprocess
    import sys
    cli = [sys.executable, "-m", "inspector", "certs", "--out", str(tmp_path / "pki")]
    first = subprocess.run([*cli, "--charge-point", "CP001"], capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    ca_before = (tmp_path / "pki" / "ca.pem").read_bytes()
    second = subprocess.run([*cli, "--charge-point", "CP002"], capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert (tmp_path / "pki" / "ca.pem").read_bytes() == ca_before  # the CA was reused
    again = subprocess.run([*cli, "--charge-point", "CP001"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already holds CP001.pem; use --force" in again.stderr
    escape = subprocess.run([*cli, "--charge-point", "../../x"], capture_output=True, text=True, timeout=60)
    assert escape.returncode == 1 and "cannot be a charge point id" in escape.stderr
    assert not (tmp_path / "x.pem").exists() and not (tmp_path.parent / "x.pem").exists()
    # both client certificates are signed by the one CA
    from cryptography import x509
    ca = x509.load_pem_x509_certificate(ca_before)
    for cp in ("CP001", "CP002"):
        cert = x509.load_pem_x509_certificate((tmp_path / "pki" / f"{cp}.pem").read_bytes())
        cert.verify_directly_issued_by(ca)


@pytest.fixture(scope="module")
def expired_pki(pki, tmp_path_factory):
    """CP1's certificate from our CA, valid from two days ago until yesterday."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    folder = tmp_path_factory.mktemp("expired")
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    ca_key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CP1")]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=2))
            .not_valid_after(now - datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    (folder / "CP1.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "CP1.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return folder


async def _tls_failures(role_of, pki, expired_pki, count_hub):
    """Four failed handshakes against a listener made by `role_of(hub)`; the notes recorded."""
    import asyncio
    notes, seen = [], asyncio.Event()

    def watch(event):
        note = getattr(getattr(event, "connection", None), "note", None)
        if note and note.startswith("TLS handshake failed") and type(event).__name__ == "ConnectionClosed":
            notes.append(note)
            if len(notes) == 4:
                seen.set()

    count_hub.subscribe(watch)
    async with running(role_of(count_hub)) as server:
        wss = server.url + "CP1"
        attempts = [
            dict(tls=client_tls(pki)),  # no client certificate
            dict(tls=ClientTls(None, str(pki / "CP1.pem"), str(pki / "CP1.key"))),  # distrusts our CA
            dict(tls=ClientTls(str(pki / "ca.pem"), str(expired_pki / "CP1.pem"),
                               str(expired_pki / "CP1.key"))),
        ]
        for options in attempts:
            with pytest.raises(ChargerError):
                await run_charger(wss, meter_values=1, **options)
        with pytest.raises(ChargerError):  # a plain ws:// charger on the wss:// port
            await run_charger("ws://" + wss.split("://", 1)[1], meter_values=1)
        await asyncio.wait_for(seen.wait(), 30)
        # and the listener still serves a charger that does it right
        await run_charger(wss, tls=client_tls(pki, with_cert=True), meter_values=1)
    return sorted(notes)


@pytest.mark.both_loops
@pytest.mark.parametrize("role", ["csms", "proxy"])
async def test_failed_tls_handshakes_are_recorded_with_their_reason(role, pki, expired_pki, tmp_path):
    """No client certificate, a charger that does not trust us, an expired certificate, plain
    ws:// on the wss:// port: each is a connection record in the capture with the reason."""
    hub, writer = logged_hub(tmp_path / "c.db")
    mutual = server_tls(pki, mutual=True)
    if role == "csms":
        notes = await _tls_failures(lambda h: csms(h, tls=mutual), pki, expired_pki, hub)
    else:
        async with running(csms()) as upstream:
            notes = await _tls_failures(lambda h: proxy(upstream.url, h, listen_tls=mutual),
                                        pki, expired_pki, hub)
    writer.close()
    assert notes == sorted([
        "TLS handshake failed: the client sent no certificate (profile 3 needs one)",
        # an asyncio client drops the connection without sending its "unknown CA" alert
        "TLS handshake failed: the client left during the handshake "
        "(does it trust our server certificate?)",
        "TLS handshake failed: client certificate rejected: certificate has expired",
        "TLS handshake failed: not a TLS client (plain ws:// on a wss:// port?)",
    ])
    from inspector.store import Capture
    stored = [c for c in Capture(tmp_path / "c.db").connections() if c["note"]]
    assert sorted(c["note"] for c in stored) == notes
    assert all(c["remote_address"].startswith("127.0.0.1:") for c in stored)


async def test_a_new_basic_auth_password_is_reported_and_used_from_a_new_connection():
    """2.0.1 A01: SetVariables SecurityCtrlr.BasicAuthPassword (16 to 40 characters) is
    Accepted, reported as SecurityEventNotification ReconfigurationOfSecurityParameters, and
    the charger reconnects with it (no new boot); the password is never read back."""
    import asyncio

    from inspector.events import Hub
    from inspector.roles.charger import ChargerOptions, FakeCharger
    from tests.roles_helpers import csms, running
    from tests.test_charger_metering import Frames
    new = "n3w-passw0rd-for-A01"
    hub = Hub()
    frames = Frames(hub)
    variable = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
    async with running(csms(passwords={"PWD": "0ld-passw0rd-0f-A01", "PWD2": new})) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "PWD", version="2.0.1",
                                                  password="0ld-passw0rd-0f-A01"))
        await charger.connect()
        try:
            await charger.boot()
            short = await server.call("PWD", "SetVariables", {"setVariableData": [
                {**variable, "attributeValue": "too-short"}]})
            assert short.payload["setVariableResult"][0]["attributeStatus"] == "Rejected"
            server.passwords["PWD"] = new  # the CSMS takes the new one from now on
            accepted = await server.call("PWD", "SetVariables", {"setVariableData": [
                {**variable, "attributeValue": new}]})
            assert accepted.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"
            await frames.wait_for(lambda a, p: a == "SecurityEventNotification", timeout=30)
            await charger.reset_requested.wait()  # the old connection closed...
            for _ in range(3000):  # ...and the new one, with the new password, is up
                if charger.online and "PWD" in server.stations:
                    break
                await asyncio.sleep(0.01)
            read = await server.call("PWD", "GetVariables", {"getVariableData": [variable]})
            assert read.payload["getVariableResult"][0]["attributeStatus"] == "Rejected"
            assert "attributeValue" not in read.payload["getVariableResult"][0]
        finally:
            await charger.close()
    events = [p["type"] for a, p in frames.calls if a == "SecurityEventNotification"]
    assert events == ["ReconfigurationOfSecurityParameters"]
    assert [a for a, _ in frames.calls].count("BootNotification") == 1
    assert charger.options.password == new
