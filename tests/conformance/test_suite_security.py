"""Security profile and handshake cases: Basic auth, TLS, client certificates (TC_085..087_CS,
TC_A_01/03_CSMS) and subprotocol negotiation (RPC_04_CSMS), against our simulators, an
independent CSMS on the `ocpp` library, and mutants that get the one checked thing wrong."""

from __future__ import annotations

import dataclasses
import hmac

import pytest

from inspector.certs import create_lab_pki
from inspector.conformance import SuiteRunner, Verdict, catalog
from inspector.roles.charger import FakeCharger
from inspector.roles.csms import FakeCsms
from inspector.tls import ClientTls, ServerTls, parse_basic_auth

from independent import Csms201, serve_csms
from suite_helpers import by_id, failures, options, run

SECRET = "lab-password-0123456789"
SIMULATED_ID = "SUITE-CP"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    create_lab_pki(folder, charge_points=[SIMULATED_ID, "OTHER-CP"])
    return folder


def listener(pki, mutual=False) -> ServerTls:
    return ServerTls(str(pki / "server.pem"), str(pki / "server.key"),
                     str(pki / "ca.pem") if mutual else None)


def trust(pki, cert_for: str | None = None) -> ClientTls:
    if cert_for:
        return ClientTls(str(pki / "ca.pem"), str(pki / f"{cert_for}.pem"), str(pki / f"{cert_for}.key"))
    return ClientTls(str(pki / "ca.pem"))


def charger_with(**changes):
    """A simulated charger whose options differ from the run's (a wrong password, another
    certificate): the mutant of a security case."""
    return lambda hub, opts: FakeCharger(hub, dataclasses.replace(opts, **changes))


async def test_charger_security_profiles_pass_when_the_charger_is_set_up(pki):
    basic = await run("1.6", "charger", ["TC_085_CS"], password=SECRET)
    assert basic.passed, failures(basic)
    assert "HTTP Basic user SUITE-CP" in basic.cases[0].steps[3].reason
    tls = await run("1.6", "charger", ["TC_086_CS", "TC_019_CS"], server_tls=listener(pki),
                    client_tls=trust(pki))
    assert tls.passed, failures(tls)
    assert tls.cases[0].steps[3].reason in ("TLSv1.2", "TLSv1.3")
    assert tls.tested.startswith("simulated") and tls.cases[1].passed
    mutual = await run("1.6", "charger", ["TC_087_CS"], server_tls=listener(pki, mutual=True),
                       client_tls=trust(pki, SIMULATED_ID))
    assert mutual.passed, failures(mutual)


async def test_charger_security_mutants_fail(pki):
    wrong = await run("1.6", "charger", ["TC_085_CS"], password=SECRET, connect_timeout=2,
                      step_timeout=2, charger_factory=charger_with(password="not-the-password"))
    case = wrong.cases[0]
    assert case.verdict is Verdict.FAIL, case.log(frames=False)
    assert "refused with HTTP 401: wrong password for SUITE-CP" in case.log(frames=False)
    other = await run("1.6", "charger", ["TC_087_CS"], server_tls=listener(pki, mutual=True),
                      client_tls=trust(pki, SIMULATED_ID),
                      charger_factory=charger_with(tls=trust(pki, "OTHER-CP")))
    case = other.cases[0]
    assert case.verdict is Verdict.FAIL
    assert case.reason.endswith("client certificate CN 'OTHER-CP' is not the charge point id "
                                "'SUITE-CP'")
    # no client certificate at all: the handshake fails, and the verdict says why
    bare = await run("1.6", "charger", ["TC_087_CS"], server_tls=listener(pki, mutual=True),
                     client_tls=trust(pki, SIMULATED_ID), connect_timeout=2, step_timeout=2,
                     charger_factory=charger_with(tls=trust(pki)))
    case = bare.cases[0]
    assert case.verdict is Verdict.FAIL, case.log(frames=False)
    assert "TLS handshake failed: the client sent no certificate" in case.log(frames=False)


async def test_a_charger_booting_with_a_serial_its_certificate_does_not_hold_fails(pki):
    """The engine checks profile 3 as a CSMS must: the certificate's CN holds the serial
    number the station boots with, or the connection is closed and the case fails."""

    class ForeignSerial(FakeCharger):
        def serial_number(self) -> str:
            return "SOMEONE-ELSE"
    result = await run("1.6", "charger", ["TC_087_CS"], server_tls=listener(pki, mutual=True),
                       client_tls=trust(pki, SIMULATED_ID), step_timeout=2,
                       charger_factory=lambda hub, opts: ForeignSerial(hub, opts))
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL, case.log(frames=False)
    assert ("BootNotification serial number 'SOMEONE-ELSE' does not match the client certificate "
            "CN 'SUITE-CP'") in case.log(frames=False)


async def test_security_cases_do_not_apply_to_a_run_not_set_up_for_them():
    result = await run("1.6", "charger", ["TC_085_CS", "TC_086_CS", "TC_019_CS"])
    cases = by_id(result)
    assert cases["TC_085_CS"].verdict is Verdict.NOT_APPLICABLE
    assert "--password" in cases["TC_085_CS"].reason
    assert cases["TC_086_CS"].verdict is Verdict.NOT_APPLICABLE
    assert result.passed  # TC_019_CS passed, the rest did not apply


# ---- CSMS SUT: Basic auth and subprotocols --------------------------------------------------------

async def _independent_csms(accept_any_password=False):
    """The ocpp library's CSMS behind websockets' own handshake: Basic auth as the station
    id with SECRET, subprotocol ocpp2.0.1 only (websockets refuses other offers)."""

    def authenticate(connection, request):
        credentials = parse_basic_auth(request.headers.get("Authorization"))
        cp_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        if accept_any_password or (credentials is not None and credentials[0] == cp_id
                                   and hmac.compare_digest(credentials[1], SECRET)):
            return None
        return connection.respond(401, "Unauthorized\n")

    return await serve_csms(Csms201, process_request=authenticate)


async def _against_csms(ids, **csms):
    async with await _independent_csms(**csms) as server:
        port = server.sockets[0].getsockname()[1]
        runner = SuiteRunner(options("2.0.1", "csms", auto=False, step_timeout=2, password=SECRET,
                                     target=f"ws://127.0.0.1:{port}/CP7"))
        try:
            return await runner.run(catalog.select("2.0.1", "csms", ids))
        finally:
            runner.close()


async def test_an_independent_csms_passes_basic_auth_and_subprotocol_cases():
    result = await _against_csms(["TC_A_01_CSMS", "TC_A_03_CSMS", "RPC_04_CSMS"])
    assert result.passed, failures(result)
    assert by_id(result)["TC_A_03_CSMS"].steps[1].reason == "refused with HTTP 401"


async def test_a_csms_accepting_any_password_fails_tc_a_03():
    result = await _against_csms(["TC_A_03_CSMS"], accept_any_password=True)
    case = result.cases[0]
    assert case.verdict is Verdict.FAIL
    assert case.reason == ("step 1: the CSMS accepted the connection (subprotocol ocpp2.0.1), "
                           "expected HTTP 401")


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_subprotocol_negotiation_against_our_simulator_and_a_lenient_mutant(version):
    correct = await run(version, "csms", ["RPC_04_CSMS"])
    assert correct.passed, failures(correct)
    assert correct.cases[0].steps[1].reason == ("the CSMS answered without a subprotocol and "
                                                "closed the connection")

    def lenient(hub, listen, **kwargs):  # serves a station that offered nothing it supports
        return FakeCsms(hub, listen, **{**kwargs, "require_subprotocol": False})
    mutant = await run(version, "csms", ["RPC_04_CSMS"], step_timeout=1, csms_factory=lenient)
    assert mutant.cases[0].verdict is Verdict.FAIL
    assert mutant.cases[0].reason == ("step 1: the CSMS answered without a subprotocol but did "
                                      "not close the connection within 1 s")


async def test_basic_auth_against_our_simulated_csms():
    result = await run("2.0.1", "csms", ["TC_A_01_CSMS", "TC_A_03_CSMS"], password=SECRET)
    assert result.passed, failures(result)
