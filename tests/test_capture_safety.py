"""A capture never loses a frame silently: odd escapes are stored, write failures are loud,
and two writers never share one file."""

from __future__ import annotations

import json
import re
import resource
import signal
import subprocess
import sys
import time

import pytest
from websockets.asyncio.client import connect

from inspector.events import Hub
from inspector.store import CaptureBusy, CaptureWriter, default_capture_path
from tests.conftest import exported
from tests.roles_helpers import csms, listening_url, logged_hub, running

CLI = [sys.executable, "-m", "inspector"]
SURROGATE_CALL = '[2,"\\ud800","Heartbeat",{}]'  # a JSON escape that decodes to a lone surrogate


async def test_a_lone_surrogate_id_is_stored_and_answered_and_logging_goes_on(tmp_path):
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    try:
        async with running(csms(hub)) as role:
            async with connect(role.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
                await ws.send(SURROGATE_CALL)
                answer = await ws.recv()  # the CSMS can write its answer: the id as the escape
                assert answer.startswith('[3,"\\ud800",{')
                for i in range(200):
                    await ws.send(f'[2,"n{i}","Heartbeat",{{}}]')
                    await ws.recv()
        writer.flush()
        assert writer.error is None and writer.lost_frames == 0
    finally:
        writer.close()
    frames = exported(path)
    assert len(frames) == 2 * 201  # every CALL and every answer, the odd one included
    odd = [f for f in frames if f["raw"] == SURROGATE_CALL]
    assert len(odd) == 1 and odd[0]["unique_id"] == "\\ud800"  # byte-exact raw, escaped id
    assert frames[-1]["unique_id"] == "n199"


def test_default_captures_are_unique_per_process_and_one_file_has_one_writer(tmp_path):
    now = time.time()
    assert default_capture_path(now) == default_capture_path(now)  # same process, same moment
    names = subprocess.run([*[sys.executable, "-c"],
                            "import time; from inspector.store import default_capture_path;"
                            f"print(default_capture_path({now}).name)"],
                           capture_output=True, text=True, timeout=30).stdout.strip()
    assert names and names != default_capture_path(now).name  # another process: another file
    path = tmp_path / "shared.db"
    first = CaptureWriter(path)
    try:
        with pytest.raises(CaptureBusy, match="being written by another ocpp-inspector process"):
            CaptureWriter(path)
        result = subprocess.run([*CLI, "csms", "--listen", "127.0.0.1:0", "--db", str(path)],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 1 and result.stderr.count("\n") == 1
        assert "is being written by another ocpp-inspector process" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        first.close()
    CaptureWriter(path).close()  # free again once the first writer closed


def _small_file_limit():
    # a full disk, for this process only: writes past 256 KiB fail with EFBIG
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_capture_that_cannot_be_written_is_reported_at_once_and_in_the_exit_code(tmp_path):
    db = tmp_path / "full.db"
    server = subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--db", str(db), "-q"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=_small_file_limit)
    try:
        url = listening_url(server)
        charger = subprocess.run([*CLI, "charger", "--url", url + "CP1", "--meter-values", "3000",
                                  "--interval", "0", "-q", "--no-log"],
                                 capture_output=True, text=True, timeout=120)
        assert charger.returncode == 0, charger.stderr
    finally:
        server.send_signal(signal.SIGINT)
        _, err = server.communicate(timeout=30)
    assert "ocpp-inspector: error: capture" in err  # said while it happened
    assert re.search(r"error: [\d,]+ frame\(s\) were not saved to .*full\.db", err)
    assert server.returncode == 3
    assert "Traceback" not in err


async def test_a_writer_failure_never_kills_the_writer(tmp_path):
    """A row SQLite refuses (here: a closed database) is counted and reported, and the
    writer thread lives on to write what comes after the problem is gone."""
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    reported = []
    writer.on_error = reported.append
    original = writer._write
    broken = [True]

    def flaky(batch):
        if broken[0]:
            raise OSError("disk full (simulated)")
        original(batch)
    writer._write = flaky
    try:
        async with running(csms(hub)) as role:
            async with connect(role.url + "CP1", subprotocols=["ocpp1.6"]) as ws:
                await ws.send('[2,"a","Heartbeat",{}]')
                await ws.recv()
                writer.flush()
                broken[0] = False
                await ws.send('[2,"b","Heartbeat",{}]')
                await ws.recv()
        writer.flush()
    finally:
        writer.close()
    assert writer.lost_frames == 2 and reported and "disk full (simulated)" in reported[0]
    assert [f["unique_id"] for f in exported(path)] == ["b", "b"]
    assert json.loads(json.dumps(writer.error))  # one readable line


# ---- refused handshakes: never a 500, always in the capture and in `log show` -------------------

async def test_basic_auth_edges_answer_401_or_400_and_every_refusal_is_logged(tmp_path):
    from websockets.exceptions import InvalidStatus
    from inspector.tls import basic_auth_header
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    password = "pässwört-ü-0123456789"
    statuses = []
    try:
        async with running(csms(hub, passwords=password)) as role:
            async with connect(role.url + "CP1", subprotocols=["ocpp1.6"],
                               additional_headers={"Authorization": basic_auth_header("CP1", password)}) as ws:
                await ws.send('[2,"b1","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]')
                await ws.recv()
            for headers in ({"Authorization": basic_auth_header("CP1", "pässwört-falsch")},
                            [("Authorization", basic_auth_header("CP1", password)),
                             ("Authorization", basic_auth_header("CP1", password))]):
                with pytest.raises(InvalidStatus) as refused:
                    async with connect(role.url + "CP1", subprotocols=["ocpp1.6"],
                                       additional_headers=headers):
                        pass
                statuses.append(refused.value.response.status_code)
        writer.flush()
    finally:
        writer.close()
    assert statuses == [401, 400]
    shown = subprocess.run([*CLI, "log", "show", "--db", str(path)], capture_output=True,
                           text=True, timeout=30).stdout
    assert "REFUSED    refused (HTTP 401): wrong password for CP1" in shown
    assert "REFUSED    refused (HTTP 400): 2 Authorization headers" in shown
    assert "OPENED     csms ocpp1.6 from 127.0.0.1" in shown and "CLOSED     code 1000" in shown
    found = subprocess.run([*CLI, "log", "show", "--db", str(path), "--action", "bootnotification"],
                           capture_output=True, text=True, timeout=30)
    assert found.stdout.count("BootNotification") == 2 and "2 frame(s)" in found.stderr


# ---- a frame is logged as sent only when it was --------------------------------------------

async def test_a_frame_that_could_not_be_sent_is_logged_flagged_not_sent(tmp_path):
    from websockets.exceptions import ConnectionClosed as WsClosed
    from inspector.roles.charger import ChargerOptions, FakeCharger
    path = tmp_path / "capture.db"
    hub, writer = logged_hub(path)
    try:
        async with running(csms(Hub())) as role:  # the CSMS logs elsewhere: only the charger here
            charger = FakeCharger(hub, ChargerOptions(url=role.url + "CP1"))
            endpoint = await charger.connect()
            await charger.boot()
            await role.stations["CP1"].close(1000, "bye")
            await endpoint.closed.wait()
            with pytest.raises(WsClosed):
                await endpoint.send_frame('[2,"late","Heartbeat",{}]')
            await charger.close()
        writer.flush()
    finally:
        writer.close()
    rows = [f for f in exported(path) if f["unique_id"] == "late"]
    assert len(rows) == 1 and rows[0]["flags"][0].startswith("not sent: the connection had closed")
    boot = [f for f in exported(path) if f["action"] == "BootNotification"]
    assert all(not f["flags"] for f in boot)  # what was sent carries no such flag
