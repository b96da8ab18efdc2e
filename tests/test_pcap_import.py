"""`log import --pcap`: a real OCPP-J session's bytes, written as TCP packets into pcap and
pcapng files (split small, one segment early, one sent twice), read back into a capture that
holds the same frames, pairs and connections as a capture written live."""

import asyncio
import subprocess
import sys

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import PcapNgWriter, PcapWriter

from inspector import flags
from inspector.events import Hub
from inspector.pcap_import import import_pcap
from inspector.store import Capture
from tests.conftest import exported
from tests.roles_helpers import csms, logged_hub, run_charger, running

CLI = [sys.executable, "-m", "inspector"]
CHARGER, SERVER = ("10.0.0.2", 50123), ("10.0.0.1", 9000)


async def recorded_session(tmp_path, version="1.6", *, tls=None):
    """A fake charger's session with the fake CSMS through a TCP relay that keeps every chunk
    (time, from the charger?, bytes); the CSMS's own capture is the reference. `tls`:
    (ServerTls, ClientTls) for wss://."""
    chunks = []
    hub, writer = logged_hub(tmp_path / "live.db")
    async with running(csms(hub, tls=tls[0] if tls else None)) as server:
        async def relay(reader, writer_):
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", server.port)

            async def pump(source, target, from_charger):
                while data := await source.read(65536):
                    chunks.append((asyncio.get_running_loop().time(), from_charger, data))
                    target.write(data)
                    await target.drain()
                target.close()
            await asyncio.gather(pump(reader, upstream_writer, True),
                                 pump(upstream_reader, writer_, False), return_exceptions=True)
        relay_server = await asyncio.start_server(relay, "127.0.0.1", 0)
        port = relay_server.sockets[0].getsockname()[1]
        scheme = "wss" if tls else "ws"
        await run_charger(f"{scheme}://127.0.0.1:{port}/CP-PCAP", version, Hub(), meter_values=2,
                          tls=tls[1] if tls else None)
        relay_server.close()
    writer.close()
    return chunks


def packets(chunks, *, segment=90, drop_one=False):
    """TCP packets carrying the chunks: handshake, small segments, one segment early, one
    retransmitted; `drop_one` leaves a segment of the charger's stream out."""
    seq = {True: 1000, False: 5000}
    base = 1_764_000_000.0
    start = chunks[0][0]
    out = [(base - 0.002, CHARGER, SERVER, "S", 999, b""),
           (base - 0.001, SERVER, CHARGER, "SA", 4999, b"")]
    for when, from_charger, data in chunks:
        src, dst = (CHARGER, SERVER) if from_charger else (SERVER, CHARGER)
        for i in range(0, len(data), segment):
            piece = data[i:i + segment]
            out.append((base + (when - start), src, dst, "PA", seq[from_charger], piece))
            seq[from_charger] += len(piece)
    data_packets = [i for i, p in enumerate(out) if p[5]]
    # one segment before its turn (in one direction: a reply is never seen before its call)
    early = next(i for i in data_packets[len(data_packets) // 3:]
                 if out[i + 1][5] and out[i + 1][1] == out[i][1])
    out[early], out[early + 1] = out[early + 1], out[early]
    again = data_packets[len(data_packets) // 2]
    out.insert(again + 1, out[again])  # and one sent twice
    if drop_one:
        victim = [i for i in data_packets[len(data_packets) // 2:]
                  if out[i][1] == CHARGER][3]
        del out[victim]
    return [Ether() / IP(src=s[0], dst=d[0]) / TCP(sport=s[1], dport=d[1], flags=f, seq=q) / p
            for _, s, d, f, q, p in out], [t for t, *_ in out]


def write(path, chunks, *, ng=False, **kwargs):
    built, times = packets(chunks, **kwargs)
    writer = (PcapNgWriter if ng else PcapWriter)(str(path))
    for packet, when in zip(built, times):
        packet.time = when
        writer.write(packet)
    writer.close()


@pytest.mark.parametrize("ng, version", [(False, "1.6"), (True, "2.0.1")])
async def test_a_session_reads_back_as_it_was_logged_live(tmp_path, ng, version):
    chunks = await recorded_session(tmp_path, version)
    pcap = tmp_path / ("s.pcapng" if ng else "s.pcap")
    write(pcap, chunks, ng=ng)
    hub, writer = logged_hub(tmp_path / "imported.db")
    summary = import_pcap(pcap, hub)
    writer.close()
    assert (summary.websockets, summary.skipped, summary.gaps) == (1, 0, 0)
    live = [(f["direction"], f["raw"], f["action"], f["type"]) for f in exported(tmp_path / "live.db")]
    imported = exported(tmp_path / "imported.db")
    assert [(f["direction"], f["raw"], f["action"], f["type"]) for f in imported] == live
    assert summary.frames == len(live)
    assert all(f["flags"] == [] and f["valid"] is not False for f in imported)
    answers = [f for f in imported if f["type"] == "CALLRESULT"]
    assert answers and all(f["request_id"] is not None and f["latency_ms"] is not None
                           for f in answers)
    capture = Capture(tmp_path / "imported.db")
    (connection,) = capture.connections()
    capture.close()
    assert connection["charge_point_id"] == "CP-PCAP" and connection["role"] == "pcap"
    assert connection["remote_address"] == "10.0.0.2:50123"
    assert connection["subprotocol"] == {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}[version]
    assert connection["close_code"] == 1000


async def test_lost_packets_are_a_marker_not_silence(tmp_path):
    chunks = await recorded_session(tmp_path)
    write(tmp_path / "lossy.pcap", chunks, drop_one=True)
    hub, writer = logged_hub(tmp_path / "imported.db")
    summary = import_pcap(tmp_path / "lossy.pcap", hub)
    writer.close()
    assert summary.gaps >= 1
    imported = exported(tmp_path / "imported.db")
    marker = [f for f in imported if flags.INSPECTION_STOPPED in f["flag_codes"]]
    assert marker and marker[0]["direction"] == "to_csms"
    assert "packets lost" in marker[0]["errors"][0]["message"]
    before = [f for f in imported if f["id"] < marker[0]["id"] and f["direction"] == "to_csms"]
    assert before and all(f["type"] != "MALFORMED" for f in before)


def test_other_tcp_and_refused_upgrades(tmp_path):
    """A plain HTTP request is skipped; an upgrade answered 401 is a refused connection."""
    def conversation(client_port, request, response):
        client, server = ("10.0.0.3", client_port), ("10.0.0.1", 9000)
        return [Ether() / IP(src=client[0], dst=server[0]) / TCP(sport=client[1], dport=9000,
                                                                   flags="PA", seq=1) / request,
                Ether() / IP(src=server[0], dst=client[0]) / TCP(sport=9000, dport=client[1],
                                                                   flags="PA", seq=1) / response]
    built = conversation(40001, b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
                         b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    built += conversation(40002, b"GET /ocpp/CP9 HTTP/1.1\r\nUpgrade: websocket\r\n"
                                 b"Connection: Upgrade\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
                          b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
    writer = PcapWriter(str(tmp_path / "other.pcap"))
    for i, packet in enumerate(built):
        packet.time = 1_764_000_000 + i
        writer.write(packet)
    writer.close()
    hub, capture_writer = logged_hub(tmp_path / "o.db")
    summary = import_pcap(tmp_path / "other.pcap", hub)
    capture_writer.close()
    assert (summary.websockets, summary.refused, summary.skipped) == (0, 1, 1)
    capture = Capture(tmp_path / "o.db")
    (refused,) = capture.connections()
    capture.close()
    assert refused["charge_point_id"] == "CP9" and "401 Unauthorized" in refused["note"]


def test_the_cli_imports_and_refuses_what_it_cannot_do(tmp_path):
    chunks = asyncio.run(recorded_session(tmp_path))
    write(tmp_path / "s.pcap", chunks)
    result = subprocess.run([*CLI, "log", "import", "--pcap", str(tmp_path / "s.pcap"), "--db",
                             str(tmp_path / "out.db")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1 WebSocket(s)" in result.stderr
    shown = subprocess.run([*CLI, "log", "show", "--db", str(tmp_path / "out.db")],
                           capture_output=True, text=True, timeout=60)
    assert "BootNotification" in shown.stdout and "CP-PCAP" in shown.stdout
    for args, problem in (
            (["--pcap", str(tmp_path / "s.pcap"), "--db", str(tmp_path / "out.db")], "exists"),
            (["--pcap", str(tmp_path / "none.pcap"), "--db", str(tmp_path / "n.db")], "no pcap file"),
            (["--pcap", str(tmp_path / "live.db"), "--db", str(tmp_path / "x.db")],
             "cannot read")):
        failed = subprocess.run([*CLI, "log", "import", *args], capture_output=True, text=True,
                                timeout=60)
        assert failed.returncode == 1 and problem in failed.stderr, failed.stderr
        assert "Traceback" not in failed.stderr
    assert not (tmp_path / "x.db").exists()  # a failed import leaves nothing behind


async def test_wss_reads_with_the_key_log(tmp_path, monkeypatch):
    """TLS 1.3 between charger and CSMS: with the key log the charger wrote (SSLKEYLOGFILE)
    the capture holds the same frames as live; without it, the TLS connection is counted and
    the summary says what to give."""
    from inspector.certs import create_lab_pki
    from inspector.tls import ClientTls, ServerTls
    pki = create_lab_pki(tmp_path / "pki", hosts=["127.0.0.1"], charge_points=[], days=2)
    keylog = tmp_path / "keys.log"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    chunks = await recorded_session(tmp_path, tls=(
        ServerTls(cert=str(pki["server"]), key=str(pki["server"].with_suffix(".key"))),
        ClientTls(ca=str(pki["ca"]))))
    assert keylog.stat().st_size > 0
    write(tmp_path / "tls.pcapng", chunks, ng=True)
    hub, writer = logged_hub(tmp_path / "imported.db")
    summary = import_pcap(tmp_path / "tls.pcapng", hub, keylog)
    writer.close()
    assert (summary.websockets, summary.tls_unread) == (1, 0), summary.line()
    live = [(f["direction"], f["raw"]) for f in exported(tmp_path / "live.db")]
    assert [(f["direction"], f["raw"]) for f in exported(tmp_path / "imported.db")] == live
    unread = import_pcap(tmp_path / "tls.pcapng", Hub())
    assert (unread.websockets, unread.tls_unread) == (0, 1)
    assert any("--keylog" in note for note in unread.notes)
    other_keys = tmp_path / "other.log"  # secrets of some other session only
    other_keys.write_text("".join(
        f"{parts[0]} {'00' * 32} {parts[2]}\n" for parts in
        (line.split() for line in keylog.read_text().splitlines() if not line.startswith("#"))))
    wrong = import_pcap(tmp_path / "tls.pcapng", Hub(), other_keys)
    assert (wrong.websockets, wrong.tls_unread) == (0, 1)
    assert any("could not be decrypted" in note for note in wrong.notes)
