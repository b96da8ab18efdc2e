"""Security settings in the role tabs: wss:// with a lab PKI, HTTP Basic auth, readable errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.certs import create_lab_pki
from ui.security import SECURITY_NOTE

from ui_helpers import click, until

PASSWORD = "s3cret-Pa55word"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pki")
    create_lab_pki(folder, charge_points=["CP1"])
    return folder


def secure(panel, password: str | None = None, **files) -> None:
    group = panel.security
    group.setChecked(True)
    for name in group.files:
        group.files[name].setText(str(files.get(name, "")))
    if group.password_edit is not None:
        group.password_edit.setText(password or "")


async def run_charger(qtbot, window, url: str, charge_point: str, done: str):
    panel = window.roles.charger
    panel.csms_url.setText(url)
    panel.charge_point.setText(charge_point)
    panel.meter_values.setValue(2)
    panel.interval.setValue(0.02)
    panel.stay.setChecked(False)
    click(qtbot, panel.start_button)
    run = panel.runs[charge_point]
    await until(lambda: run.state in ("session complete", "failed") and not run.running, 20,
                f"{charge_point}'s run to end")
    assert run.state == done, window.messages.toPlainText()
    return run


def test_every_role_tab_has_a_collapsible_security_group(window):
    roles = window.roles
    for panel in roles.panels:
        group = panel.security
        assert group is not None and not group.isChecked()
        assert group.body.isHidden()  # collapsed while unchecked
        group.setChecked(True)
        assert not group.body.isHidden()
        assert group.note.text() == SECURITY_NOTE
    assert set(roles.csms.security.files) == {"cert", "key", "client_ca"}
    assert set(roles.charger.security.files) == set(roles.fleet.security.files) == {"ca", "cert", "key"}
    assert set(roles.proxy.security.files) == {"cert", "key", "client_ca", "upstream_ca",
                                               "upstream_cert", "upstream_key"}
    assert roles.proxy.security.password_edit is None
    for panel in (roles.csms, roles.charger, roles.fleet):
        assert panel.security.password_edit.echoMode() == panel.security.password_edit.EchoMode.Password


def test_wss_with_password_through_the_ui(qtbot, window, run, pki, tmp_path):
    async def scenario():
        csms = window.roles.csms
        csms.listen.setText("127.0.0.1:0")
        secure(csms, PASSWORD, cert=pki / "server.pem", key=pki / "server.key")
        click(qtbot, csms.start_button)
        await until(lambda: csms.running, 10, "the wss:// fake CSMS")
        url = csms.url.text()
        assert url.startswith("wss://127.0.0.1:")

        # the right CA and password: a full session over TLS
        charger = window.roles.charger
        secure(charger, PASSWORD, ca=pki / "ca.pem")
        await run_charger(qtbot, window, url, "CP1", "session complete")
        await until(lambda: not window._pending and window.model.rowCount() > 0, 5, "the log")
        store = window.live.store
        roles = {store.row(i).role for i in range(store.count) if store.row(i).charge_point_id == "CP1"}
        assert roles == {"charger", "csms"}
        assert "BootNotification" in store.actions.values()

        # a wrong password: HTTP 401, readable in the panel and the window
        charger.security.password_edit.setText("wrong")
        await run_charger(qtbot, window, url, "CP2", "failed")
        assert f"CSMS at {url}CP2 refused the connection: HTTP 401" in charger.error.text()
        assert window.error_box is not None and "HTTP 401" in window.error_box.text()
        await until(lambda: "CP2: refused with HTTP 401, wrong password for CP2" in
                    window.messages.toPlainText(),
                    5, "the CSMS's notice")

        # no CA (system trust only): the lab certificate is not trusted
        charger.security.files["ca"].setText("")
        charger.security.password_edit.setText(PASSWORD)
        await run_charger(qtbot, window, url, "CP3", "failed")
        assert f"TLS handshake with {url}CP3 failed" in charger.error.text()
        assert "CERTIFICATE_VERIFY_FAILED" in charger.error.text()

        # paths are remembered; passwords are never written to the settings or the capture
        window.save_settings()
        settings = window.settings
        assert settings.value("csms/security/enabled") == "true"
        assert settings.value("csms/security/cert") == str(pki / "server.pem")
        assert settings.value("charger/security/ca") == ""
        window.writer.flush()
        settings.sync()
        written = Path(settings.fileName()).read_bytes()
        for name in ("capture.db", "capture.db-wal"):
            if (tmp_path / name).exists():
                written += (tmp_path / name).read_bytes()
        assert b"server.pem" in written and PASSWORD.encode() not in written
        assert b"wrong" not in Path(settings.fileName()).read_bytes()

    run(scenario(), 60)


def test_proxy_with_tls_on_both_sides(qtbot, window, run, pki):
    async def scenario():
        csms = window.roles.csms
        csms.listen.setText("127.0.0.1:0")
        secure(csms, PASSWORD, cert=pki / "server.pem", key=pki / "server.key")
        click(qtbot, csms.start_button)
        await until(lambda: csms.running, 10, "the wss:// fake CSMS")
        proxy = window.roles.proxy
        proxy.listen.setText("127.0.0.1:0")
        proxy.upstream.setText(csms.url.text())
        secure(proxy, cert=pki / "server.pem", key=pki / "server.key", upstream_ca=pki / "ca.pem")
        click(qtbot, proxy.start_button)
        await until(lambda: proxy.running, 10, "the wss:// proxy")
        assert proxy.url.text().startswith("wss://127.0.0.1:")
        charger = window.roles.charger
        secure(charger, PASSWORD, ca=pki / "ca.pem")
        await run_charger(qtbot, window, proxy.url.text(), "CP1", "session complete")
        store = window.live.store
        await until(lambda: any(store.row(i).role == "proxy" for i in range(store.count)), 5,
                    "the proxy's frames")

    run(scenario(), 60)


def test_bad_tls_settings_are_readable(qtbot, window, pki, tmp_path):
    csms = window.roles.csms
    csms.listen.setText("127.0.0.1:0")
    secure(csms, cert=pki / "server.pem")
    click(qtbot, csms.start_button)
    assert "needs both a certificate and its private key" in csms.error.text()
    secure(csms, cert=pki / "server.pem", key=tmp_path / "missing.key")
    click(qtbot, csms.start_button)
    assert f"Security: private key file not found: {tmp_path / 'missing.key'}" == csms.error.text()
    secure(csms, cert=pki / "server.pem", key=pki / "CP1.key")
    click(qtbot, csms.start_button)
    assert "cannot use certificate" in csms.error.text()
    assert not csms.running

    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate")
    charger = window.roles.charger
    charger.csms_url.setText("wss://127.0.0.1:9/")
    secure(charger, ca=not_pem)
    click(qtbot, charger.start_button)
    assert f"cannot read CA file {not_pem}" in charger.error.text()
    secure(charger, ca=pki / "ca.pem")
    charger.csms_url.setText("ws://127.0.0.1:9/")
    click(qtbot, charger.start_button)
    assert "TLS files are set but ws://127.0.0.1:9/" in charger.error.text()

    fleet = window.roles.fleet
    fleet.csms_url.setText("wss://127.0.0.1:9/")
    secure(fleet, cert=pki / "CP1.pem")
    click(qtbot, fleet.start_button)
    assert "client certificate needs both" in fleet.error.text()
    assert not fleet.running
    proxy = window.roles.proxy
    proxy.upstream.setText("ws://127.0.0.1:9/")
    secure(proxy, upstream_ca=pki / "ca.pem")
    click(qtbot, proxy.start_button)
    assert "TLS files are set but ws://127.0.0.1:9/" in proxy.error.text()
    assert "Traceback" not in window.messages.toPlainText()


def test_client_certificates_profile_3(qtbot, window, run, pki):
    async def scenario():
        csms = window.roles.csms
        csms.listen.setText("127.0.0.1:0")
        secure(csms, cert=pki / "server.pem", key=pki / "server.key", client_ca=pki / "ca.pem")
        click(qtbot, csms.start_button)
        await until(lambda: csms.running, 10, "the mutual-TLS fake CSMS")
        url = csms.url.text()
        charger = window.roles.charger
        secure(charger, ca=pki / "ca.pem")  # no client certificate: refused during the handshake
        await run_charger(qtbot, window, url, "CP1", "failed")
        # (TLS 1.3: the client sees the refusal only as a handshake that goes nowhere)
        assert f"Fake charger CP1: WebSocket handshake with {url}CP1 failed" in charger.error.text()
        charger.clear_error()
        secure(charger, ca=pki / "ca.pem", cert=pki / "CP1.pem", key=pki / "CP1.key")
        await run_charger(qtbot, window, url, "CP1", "session complete")
        assert charger.error.isHidden()

    run(scenario(), 60)
