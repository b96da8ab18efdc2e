"""`ocpp-inspector suite list|run`: output, exit codes, one-line errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from inspector.cli import main


def test_suite_list_filters_by_version_and_sut(capsys):
    assert main(["suite", "list", "--version", "2.0.1", "--sut", "charger"]) == 0
    out = capsys.readouterr().out
    assert "TC_B_01_CS " in out and "RPC_02_CS" in out
    assert "_CSMS" not in out and "TC_001_CS" not in out


def test_suite_run_auto_writes_reports_and_exits_zero(tmp_path, capsys):
    junit, html, db = tmp_path / "j.xml", tmp_path / "r.html", tmp_path / "frames.db"
    code = main(["suite", "run", "--version", "2.0.1", "--sut", "csms", "--auto",
                 "--case", "TC_B_01_CSMS", "TC_C_02_CSMS", "--case", "RPC_02_CSMS",
                 "--junit", str(junit), "--html", str(html), "--db", str(db),
                 "--step-timeout", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "3 passed, 0 failed" in captured.out
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("tests") == "3" and suite.get("failures") == "0"
    assert "TC_C_02_CSMS" in html.read_text(encoding="utf-8")
    assert db.stat().st_size > 0


def test_suite_run_exits_one_when_a_case_fails(capsys):
    code = main(["suite", "run", "--version", "1.6", "--sut", "charger", "--listen", "127.0.0.1:0",
                 "--auto", "--case", "TC_001_CS", "--step-timeout", "2",
                 "--param", "heartbeat_interval=soon"])
    captured = capsys.readouterr()
    assert code == 1
    assert "ERROR" in captured.out and "TC_001_CS" in captured.out
    assert "Traceback" not in captured.out + captured.err


@pytest.mark.parametrize(("argv", "message"), [
    (["--sut", "charger", "--target", "ws://127.0.0.1:1/X"], "--target is for --sut csms"),
    (["--sut", "charger"], "--sut charger needs --listen HOST:PORT"),
    (["--sut", "csms"], "--sut csms needs --target URL"),
    (["--sut", "charger", "--listen", "nowhere"], "bad listen address"),
    (["--sut", "csms", "--target", "http://x/"], "bad URL"),
    (["--sut", "csms", "--auto", "--param", "novalue"], "bad --param"),
    (["--sut", "csms", "--auto", "--step-timeout", "0"], "--step-timeout must be a positive"),
    (["--sut", "csms", "--auto", "--connect-timeout", "-1"], "--connect-timeout must be a positive"),
])
def test_suite_run_usage_errors_are_one_line(argv, message, capsys):
    code = main(["suite", "run", "--version", "1.6", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ocpp-inspector: error: ") and message in err
    assert err.count("\n") == 1


def test_suite_run_unknown_case_and_unreachable_csms(capsys):
    assert main(["suite", "run", "--version", "1.6", "--sut", "csms", "--auto",
                 "--case", "TC_999_CSMS"]) == 1
    err = capsys.readouterr().err
    assert "no case 'TC_999_CSMS'" in err and err.count("\n") == 1
    code = main(["suite", "run", "--version", "1.6", "--sut", "csms", "--target",
                 "ws://127.0.0.1:9/CP1", "--case", "TC_001_CSMS", "--step-timeout", "1"])
    out = capsys.readouterr().out
    assert code == 1 and "cannot connect to ws://127.0.0.1:9/CP1" in out


def test_suite_run_without_a_terminal_never_waits_for_a_person(monkeypatch, capsys):
    """stdin is not a terminal: no prompt is asked. The reboot step watches for the charger
    for --operator-timeout and ends inconclusive, naming the URL it watched."""
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("\n\n\n"))
    code = main(["suite", "run", "--version", "1.6", "--sut", "charger", "--listen", "127.0.0.1:0",
                 "--case", "TC_001_CS", "--operator-timeout", "1", "--step-timeout", "1"])
    out = capsys.readouterr().out
    assert code == 1
    assert "INCONCLUSIVE" in out and "needs an operator: Power-cycle" in out
    assert "waited 1 s for the charger connecting to ws://127.0.0.1:" in out
    assert "Enter/y when done" not in out  # nobody was asked


def test_operator_answers_are_parsed_strictly():
    from inspector.conformance.cli import parse_answer
    for text in ("", "\n", "y", "YES", "  yes "):
        assert parse_answer(text).ok, text
    failed = parse_answer("f cable stuck")
    assert not failed.ok and not failed.skipped and failed.note == "cable stuck"
    assert parse_answer("fail").note == "the operator reported a failure"
    assert parse_answer("s").skipped and parse_answer("skip").skipped
    for text in ("no", "skip it", "finished", "yes please", "ok"):
        assert parse_answer(text) is None, text


def test_simulate_sut_with_a_target_is_refused(capsys):
    code = main(["suite", "run", "--version", "1.6", "--sut", "csms", "--simulate-sut",
                 "--target", "ws://127.0.0.1:9/CP1"])
    err = capsys.readouterr().err
    assert code == 2 and "not ws://127.0.0.1:9/CP1" in err and err.count("\n") == 1
    code = main(["suite", "run", "--version", "1.6", "--sut", "csms", "--auto",
                 "--target", "ws://127.0.0.1:9/CP1"])
    assert code == 2
