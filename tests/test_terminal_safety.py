"""Whatever a peer sends, what ocpp-inspector prints to a terminal has no control
characters: no ESC sequence reaches the terminal, no newline forges a row."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

from websockets.sync.client import connect

from inspector.terminal import printable
from tests.roles_helpers import listening_url

CLI = [sys.executable, "-m", "inspector"]
HOSTILE_ID = "%1B]0;pwned%07CP1"  # sets the terminal title if printed raw
HOSTILE_CALL = '[2,"id\\nforged row","Heart\\u001b[2Jbeat\\u0000",{}]'


def test_printable_escapes_controls_and_lone_surrogates_only():
    assert printable("CP001 é ✓") == "CP001 é ✓"
    assert printable("a\x1b]0;x\x07b\nc\x00\ud800") == "a\\x1b]0;x\\x07b\\nc\\x00\\ud800"
    assert printable(None) == ""


def _no_controls(text: str) -> None:
    for line in text.splitlines():
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", line), repr(line)


def test_live_console_and_log_show_escape_what_the_peer_sent(tmp_path):
    db = tmp_path / "csms.db"
    server = subprocess.Popen([*CLI, "csms", "--listen", "127.0.0.1:0", "--db", str(db)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = listening_url(server)
        with connect(url + HOSTILE_ID, subprotocols=["ocpp1.6"]) as ws:
            ws.send(HOSTILE_CALL)
            ws.recv(timeout=10)
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=20)
    _no_controls(out)
    _no_controls(err)
    assert "\\x1b]0;pwned\\x07CP1" in out  # shown, escaped
    shown = subprocess.run([*CLI, "log", "show", "--db", str(db)], capture_output=True, text=True,
                           timeout=30)
    _no_controls(shown.stdout)
    rows = [line for line in shown.stdout.splitlines() if re.match(r"\d{4}-\d\d-\d\dT", line)]
    # opened, the CALL, its answer, closed: no forged row
    assert [("OPENED" in r, "CLOSED" in r) for r in rows] == [(True, False), (False, False),
                                                              (False, False), (False, True)]
    assert "id\\nforged row" in shown.stdout and "Heart\\x1b[2Jbeat\\x00" in shown.stdout
