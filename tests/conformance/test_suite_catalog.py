"""The first-release catalog: size, coverage, well-formed cases."""

from __future__ import annotations

import re

import pytest

from inspector.conformance import catalog
from inspector.conformance.model import Expect, Prompt, Send

ID = re.compile(r"^(TC_\d{3}(_\d)?_(CS|CSMS)|TC_[A-P]_\d{2}_(CS|CSMS)|RPC_\d{2}_(CS|CSMS))$")


def test_catalog_has_at_least_40_cases_for_both_versions_and_sut_kinds():
    cases = catalog.all_cases()
    assert len(cases) >= 40
    for version in ("1.6", "2.0.1"):
        for sut in ("charger", "csms"):
            assert len(catalog.list_cases(version, sut)) >= 10, (version, sut)


def test_case_ids_follow_octt_naming_and_match_the_sut_kind():
    for case in catalog.all_cases():
        assert ID.match(case.id), case.id
        assert case.id.endswith("_CS") == (case.sut == "charger"), case.id
        if case.id.startswith("TC_") and case.version == "2.0.1":
            assert re.match(r"TC_[A-P]_", case.id), case.id
        assert case.title and case.group and case.steps, case.id


def test_catalog_covers_the_first_release_topics():
    ids = {(c.version, c.id) for c in catalog.all_cases()}
    wanted = {
        # boot accepted / pending / rejected, heartbeat
        ("1.6", "TC_001_CS"), ("1.6", "TC_002_CS"), ("2.0.1", "TC_B_03_CS"), ("1.6", "TC_001_CSMS"),
        ("2.0.1", "TC_B_02_CSMS"), ("2.0.1", "TC_B_30_CSMS"), ("2.0.1", "TC_F_20_CS"),
        # authorization valid / invalid / blocked
        ("1.6", "TC_023_1_CSMS"), ("1.6", "TC_023_3_CSMS"), ("1.6", "TC_023_4_CS"),
        ("2.0.1", "TC_C_02_CS"), ("2.0.1", "TC_C_06_CS"), ("2.0.1", "TC_C_06_CSMS"),
        # local and remote start/stop, meter values
        ("1.6", "TC_003_CS"), ("1.6", "TC_010_CS"), ("1.6", "TC_012_CS"), ("1.6", "TC_070_CS"),
        ("2.0.1", "TC_E_03_CSMS"), ("2.0.1", "TC_F_01_CS"), ("2.0.1", "TC_J_09_CS"),
        # reset, configuration / variables, trigger, unlock, availability, reservation, data
        ("1.6", "TC_013_CS"), ("1.6", "TC_014_CS"), ("2.0.1", "TC_B_20_CSMS"), ("1.6", "TC_021_CS"),
        ("2.0.1", "TC_B_09_CS"), ("1.6", "TC_054_CS"), ("1.6", "TC_017_1_CS"),
        ("2.0.1", "TC_G_03_CS"), ("2.0.1", "TC_G_03_CSMS"), ("1.6", "TC_051_CS"),
        ("1.6", "TC_046_CSMS"), ("1.6", "TC_062_CS"), ("2.0.1", "TC_P_02_CSMS"),
        # the RPC framework, both versions and SUT kinds
        *((v, f"RPC_0{n}_{s}") for v in ("1.6", "2.0.1") for n in (1, 2, 3) for s in ("CS", "CSMS")),
    }
    assert wanted <= ids, sorted(wanted - ids)


def test_charger_cases_drive_the_sut_and_csms_cases_send_to_it():
    for case in catalog.all_cases():
        kinds = {type(step) for step in case.steps}
        assert kinds & {Expect, Send, Prompt}, case.id
        for step in case.steps:
            assert step.describe(), (case.id, step)
        info = case.info()
        assert info["id"] == case.id and len(info["steps"]) == len(case.steps)


def test_select_keeps_the_given_order_and_refuses_unknown_ids():
    chosen = catalog.select("1.6", "charger", ["tc_013_cs", "TC_001_CS"])
    assert [c.id for c in chosen] == ["TC_013_CS", "TC_001_CS"]
    with pytest.raises(Exception, match="no case 'TC_999_CS'"):
        catalog.select("1.6", "charger", ["TC_999_CS"])
