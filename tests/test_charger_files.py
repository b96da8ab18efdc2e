"""Firmware and logs end to end over real sockets and real HTTP, against `csms --files`:
the charger downloads the image, reports each stage, reboots with the new firmware version;
it uploads its log where the CSMS asks; a missing image is DownloadFailed (1.6 and 2.0.1)."""

from __future__ import annotations

import pytest

from inspector.events import Hub
from inspector.roles.charger import ChargerOptions, FakeCharger
from tests.roles_helpers import csms, running
from tests.test_charger_metering import Frames

NOW = "2026-01-01T00:00:00Z"  # a retrieve date in the past: at once


def update_firmware(version: str, url: str) -> dict:
    if version == "1.6":
        return {"location": url, "retrieveDate": NOW, "retries": 2, "retryInterval": 0}
    return {"requestId": 42, "retries": 2, "retryInterval": 0,
            "firmware": {"location": url, "retrieveDateTime": NOW}}


def statuses(frames: Frames, action: str) -> list[str]:
    return [p["status"] for a, p in frames.calls if a == action]


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_firmware_update_downloads_installs_and_reboots_with_the_new_version(version, tmp_path):
    (tmp_path / "fw-2.4.1.bin").write_bytes(b"\x7fFIRMWARE" * 1000)
    hub = Hub()
    frames = Frames(hub)
    async with running(csms(files=tmp_path)) as server:
        cp = f"FW{version[0]}"
        charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
        await charger.connect()
        try:
            await charger.boot()
            answer = await server.call(cp, "UpdateFirmware",
                                       update_firmware(version, server.files.url + "fw-2.4.1.bin"))
            assert answer.payload == ({} if version == "1.6" else {"status": "Accepted"})
            boots = await frames.wait_for(lambda a, p: a == "BootNotification", 2, timeout=30)
            final = "Installed"
            await frames.wait_for(lambda a, p: a == "FirmwareStatusNotification"
                                  and p["status"] == final, timeout=30)
        finally:
            await charger.close()
    expected = (["Downloading", "Downloaded", "Installing", "Installed"] if version == "1.6"
                else ["Downloading", "Downloaded", "Installing", "InstallRebooting", "Installed"])
    assert statuses(frames, "FirmwareStatusNotification") == expected
    order = [a if a != "FirmwareStatusNotification" else p["status"] for a, p in frames.calls
             if a in ("BootNotification", "StatusNotification", "FirmwareStatusNotification")]
    # installed once rebooted: the boot with the new version and the status come first
    assert order[order.index("Installing") + 1:][-3:] == ["BootNotification", "StatusNotification",
                                                          "Installed"], order
    if version == "1.6":
        assert boots[-1]["firmwareVersion"] == "fw-2.4.1"
    else:
        assert boots[-1]["chargingStation"]["firmwareVersion"] == "fw-2.4.1"
        assert boots[-1]["reason"] == "FirmwareUpdate"
        assert {p.get("requestId") for a, p in frames.calls if a == "FirmwareStatusNotification"} == {42}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_missing_image_is_download_failed_after_the_retries(version, tmp_path):
    hub = Hub()
    frames = Frames(hub)
    async with running(csms(files=tmp_path)) as server:
        cp = f"NOFW{version[0]}"
        charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
        await charger.connect()
        try:
            await charger.boot()
            await server.call(cp, "UpdateFirmware",
                              update_firmware(version, server.files.url + "missing.bin"))
            await frames.wait_for(lambda a, p: a == "FirmwareStatusNotification"
                                  and p["status"] == "DownloadFailed", 2, timeout=30)
        finally:
            await charger.close()
    assert statuses(frames, "FirmwareStatusNotification") == ["Downloading", "DownloadFailed"] * 2
    assert [a for a, _ in frames.calls].count("BootNotification") == 1  # no reboot


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_log_is_uploaded_where_the_csms_asks(version, tmp_path):
    hub = Hub()
    frames = Frames(hub)
    async with running(csms(files=tmp_path)) as server:
        cp = f"LOG{version[0]}"
        charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
        await charger.connect()
        try:
            await charger.boot()
            if version == "1.6":
                answer = await server.call(cp, "GetDiagnostics", {"location": server.files.url})
                name, action, done = answer.payload["fileName"], "DiagnosticsStatusNotification", "Uploaded"
            else:
                answer = await server.call(cp, "GetLog", {"logType": "DiagnosticsLog", "requestId": 7,
                                                          "log": {"remoteLocation": server.files.url}})
                assert answer.payload["status"] == "Accepted"
                name, action, done = answer.payload["filename"], "LogStatusNotification", "Uploaded"
            await frames.wait_for(lambda a, p: a == action and p["status"] == done, timeout=30)
            # a location that refuses the upload (a folder path the server does not have)
            if version == "1.6":
                await server.call(cp, "GetDiagnostics", {"location": server.files.url + "no/such/"})
            else:
                await server.call(cp, "GetLog", {"logType": "DiagnosticsLog", "requestId": 8,
                                                 "log": {"remoteLocation": server.files.url + "no/such/"}})
            failed = "UploadFailed" if version == "1.6" else "UploadFailure"
            await frames.wait_for(lambda a, p: a == action and p["status"] == failed, timeout=30)
        finally:
            await charger.close()
    uploaded = (tmp_path / name).read_text()
    assert f"fake charger {cp}" in uploaded and "configuration:" in uploaded
    assert statuses(frames, action) == ["Uploading", "Uploaded", "Uploading", failed]


def _signed_image(tmp_path):
    """An image, an EC key's self-signed certificate and the image's signature (base64)."""
    import base64
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "firmware signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(1)
                   .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    image = b"SIGNED-FIRMWARE" * 100
    (tmp_path / "fw-3.0.bin").write_bytes(image)
    signature = base64.b64encode(key.sign(image, ec.ECDSA(hashes.SHA256()))).decode()
    pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    return signature, pem


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
@pytest.mark.parametrize("tampered", [False, True])
async def test_a_signed_image_is_verified_for_real(tmp_path, tampered, version):
    """2.0.1 UpdateFirmware with a signature, and the 1.6 security extension's
    SignedUpdateFirmware (reported in SignedFirmwareStatusNotification)."""
    signature, certificate = _signed_image(tmp_path)
    if tampered:
        (tmp_path / "fw-3.0.bin").write_bytes(b"TAMPERED" * 100)
    hub = Hub()
    frames = Frames(hub)
    action = "SignedFirmwareStatusNotification" if version == "1.6" else "FirmwareStatusNotification"
    async with running(csms(files=tmp_path)) as server:
        cp = f"SIGNED{version[0]}"
        charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
        await charger.connect()
        try:
            await charger.boot()
            request = update_firmware("2.0.1", server.files.url + "fw-3.0.bin")
            request["firmware"].update(signature=signature, signingCertificate=certificate)
            answer = await server.call(cp, "SignedUpdateFirmware" if version == "1.6"
                                       else "UpdateFirmware", request)
            assert answer.payload == {"status": "Accepted"}
            last = "InvalidSignature" if tampered else "Installed"
            await frames.wait_for(lambda a, p: a == action and p["status"] == last, timeout=30)
            event = "InvalidFirmwareSignature" if tampered else "FirmwareUpdated"
            await frames.wait_for(lambda a, p: a == "SecurityEventNotification"
                                  and p["type"] == event, timeout=30)
        finally:
            await charger.close()
    seen = statuses(frames, action)
    events = [p["type"] for a, p in frames.calls if a == "SecurityEventNotification"]
    assert {p.get("requestId") for a, p in frames.calls if a == action} == {42}
    if tampered:
        assert seen == ["Downloading", "Downloaded", "InvalidSignature"]
        assert events == ["InvalidFirmwareSignature"]
        assert charger.firmware != "fw-3.0"  # nothing installed
    else:
        assert seen == ["Downloading", "Downloaded", "SignatureVerified", "Installing",
                        "InstallRebooting", "Installed"]
        assert events == (["FirmwareUpdated"] if version == "1.6"
                          else ["ResetOrReboot", "FirmwareUpdated"])
        assert charger.firmware == "fw-3.0"
        order = [p.get("type") or p.get("status") for a, p in frames.calls
                 if a in ("SecurityEventNotification", action)]
        assert order.index("FirmwareUpdated") < order.index("Installed")  # OCTT's TC_L_01 order


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_triggered_firmware_and_log_statuses_say_where_things_stand(version, tmp_path):
    hub = Hub()
    frames = Frames(hub)
    log_action = "DiagnosticsStatusNotification" if version == "1.6" else "LogStatusNotification"
    async with running(csms(files=tmp_path)) as server:
        cp = f"TRIG{version[0]}"
        charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
        await charger.connect()
        try:
            await charger.boot()
            for message in ("FirmwareStatusNotification", log_action):
                answer = await server.call(cp, "TriggerMessage", {"requestedMessage": message})
                assert answer.payload == {"status": "Accepted"}
                await frames.wait_for(lambda a, p: a == message and p["status"] == "Idle")
            request = ({"location": server.files.url} if version == "1.6" else
                       {"logType": "DiagnosticsLog", "requestId": 3,
                        "log": {"remoteLocation": server.files.url}})
            await server.call(cp, "GetDiagnostics" if version == "1.6" else "GetLog", request)
            await frames.wait_for(lambda a, p: a == log_action and p["status"] == "Uploaded")
            await server.call(cp, "TriggerMessage", {"requestedMessage": log_action})
            await frames.wait_for(lambda a, p: a == log_action and p["status"] == "Uploaded", 2)
        finally:
            await charger.close()


async def test_an_install_date_time_schedules_the_install(tmp_path):
    """2.0.1 L01: with firmware.installDateTime in the future the charger downloads, reports
    InstallScheduled and installs no earlier than that time."""
    import time
    from datetime import datetime, timezone
    (tmp_path / "fw-3.0.0.bin").write_bytes(b"\x7fFIRMWARE" * 100)
    hub = Hub()
    frames = Frames(hub)
    arrived: dict[str, float] = {}
    hub.subscribe(lambda e: arrived.setdefault(e.record.frame.payload.get("status"), time.time())
                  if getattr(getattr(e, "record", None), "frame", None) is not None
                  and e.record.frame.action == "FirmwareStatusNotification"
                  and e.record.frame.type.value == "CALL" else None)
    async with running(csms(files=tmp_path)) as server:
        charger = FakeCharger(hub, ChargerOptions(url=server.url + "SCHED", version="2.0.1"))
        await charger.connect()
        try:
            await charger.boot()
            install_at = time.time() + 1.5
            request = update_firmware("2.0.1", server.files.url + "fw-3.0.0.bin")
            request["firmware"]["installDateTime"] = datetime.fromtimestamp(
                install_at, timezone.utc).isoformat().replace("+00:00", "Z")
            await server.call("SCHED", "UpdateFirmware", request)
            await frames.wait_for(lambda a, p: a == "FirmwareStatusNotification"
                                  and p["status"] == "Installed", timeout=30)
        finally:
            await charger.close()
    assert statuses(frames, "FirmwareStatusNotification") == [
        "Downloading", "Downloaded", "InstallScheduled", "Installing", "InstallRebooting", "Installed"]
    assert arrived["Installing"] >= install_at - 0.05  # not before the scheduled time


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_an_empty_image_downloads_but_fails_to_install(version, tmp_path):
    (tmp_path / "empty.bin").write_bytes(b"")
    hub = Hub()
    frames = Frames(hub)
    async with running(csms(files=tmp_path)) as server:
        cp = f"EMPTY{version[0]}"
        charger = FakeCharger(hub, ChargerOptions(url=server.url + cp, version=version))
        await charger.connect()
        try:
            await charger.boot()
            before = charger.firmware
            await server.call(cp, "UpdateFirmware", update_firmware(version, server.files.url + "empty.bin"))
            await frames.wait_for(lambda a, p: a == "FirmwareStatusNotification"
                                  and p["status"] == "InstallationFailed", timeout=30)
        finally:
            await charger.close()
    assert statuses(frames, "FirmwareStatusNotification") == [
        "Downloading", "Downloaded", "Installing", "InstallationFailed"]
    assert [a for a, _ in frames.calls].count("BootNotification") == 1  # no reboot
    assert charger.firmware == before
