"""User-written conformance cases (`suite list|run --cases FILE.py`) beside the catalogue."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.conformance import catalog

EXAMPLE = Path(__file__).parents[2] / "examples" / "cases" / "my_cases.py"


@pytest.fixture(autouse=True)
def forget_user_cases():
    yield
    catalog._user_files.clear()  # each test loads its own files


def cases_file(tmp_path, body: str, name: str = "cases.py") -> Path:
    path = tmp_path / name
    path.write_text("from inspector.conformance.model import Case, Send, eq\n"
                    + textwrap.dedent(body))
    return path


def test_the_example_cases_list_and_pass_against_the_simulated_charger(tmp_path, capsys):
    assert main(["suite", "list", "--cases", str(EXAMPLE), "--sut", "charger"]) == 0
    listed = capsys.readouterr().out
    assert "MY_CS_001" in listed and "TC_001_CS" in listed  # beside the catalogue
    junit = tmp_path / "j.xml"
    code = main(["suite", "run", "--version", "1.6", "--sut", "charger", "--listen",
                 "127.0.0.1:0", "--simulate-sut", "--cases", str(EXAMPLE), "--junit", str(junit),
                 "--step-timeout", "10"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 passed, 0 failed" in out  # only the file's cases ran
    names = " ".join(case.get("name") for case in ET.parse(junit).getroot().iter("testcase"))
    assert "MY_CS_001" in names and "MY_CS_002" in names


def test_a_user_check_that_does_not_hold_fails_the_run(tmp_path, capsys):
    """The same engine judges user cases: a value the SUT does not give is a FAIL, exit 1."""
    wrong = cases_file(tmp_path, """
        CASES = [Case("MY_BAD_001", "Reads back a value never set", "1.6", "charger", "Mine", [
            Send("GetConfiguration", {"key": ["HeartbeatInterval"]},
                 checks=[eq("configurationKey[0].value", "999999")])])]
    """)
    code = main(["suite", "run", "--version", "1.6", "--sut", "charger", "--listen",
                 "127.0.0.1:0", "--simulate-sut", "--cases", str(wrong), "--step-timeout", "10"])
    out = capsys.readouterr().out
    assert code == 1 and "MY_BAD_001" in out and "0 passed, 1 failed" in out


def test_case_ids_pick_among_the_catalogue_and_the_file(tmp_path, capsys):
    code = main(["suite", "run", "--version", "1.6", "--sut", "charger", "--listen",
                 "127.0.0.1:0", "--simulate-sut", "--cases", str(EXAMPLE), "--case", "MY_CS_002",
                 "TC_019_CS", "--step-timeout", "10"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 passed" in out and "MY_CS_001" not in out


@pytest.mark.parametrize("body, problem", [
    ("X = 1\n", "must define CASES"),
    ("CASES = [Case('TC_001_CS', 'clash', '1.6', 'charger', 'Mine', [])]\n",
     "TC_001_CS (OCPP 1.6) is already in the catalogue"),
    ("CASES = [Case('A', 't', '1.6', 'charger', 'g', []), Case('A', 't', '1.6', 'charger', 'g', [])]\n",
     "A (OCPP 1.6) is already in cases.py"),
    ("CASES = [\n", "cases file cases.py line 2: SyntaxError"),
    ("CASES = [Case('B', 't', '1.6', 'robot', 'g', [])]\n", "unknown SUT kind 'robot'"),
])
def test_a_cases_file_that_cannot_work_is_one_line(tmp_path, capsys, body, problem):
    path = cases_file(tmp_path, body)
    assert main(["suite", "list", "--cases", str(path)]) == 1
    err = capsys.readouterr().err
    assert problem in err and err.count("\n") == 1


def test_loading_a_file_again_replaces_its_cases(tmp_path):
    path = cases_file(tmp_path, "CASES = [Case('C1', 'one', '1.6', 'charger', 'g', [])]\n")
    catalog.load_user_cases(path)
    path.write_text("from inspector.conformance.model import Case\n"
                    "CASES = [Case('C1', 'one, edited', '1.6', 'charger', 'g', [])]\n")
    catalog.load_user_cases(path)
    assert [c.title for c in catalog.user_cases()] == ["one, edited"]
