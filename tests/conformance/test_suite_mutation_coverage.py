"""Every conformance case can fail: a mutant SUT per case, with the one behaviour it checks wrong.

Each entry of `MUTANTS` is one of our simulators (tests/conformance/mutants.py) with one
behaviour broken, and the cases that exist to check that behaviour. Run against it, each
of those cases must end FAIL (not ERROR or INCONCLUSIVE) with a reason that names what
went wrong. `test_every_case_has_a_mutant` keeps the table honest: at least 90% of the
catalog is covered here or by a mutant test elsewhere (`ELSEWHERE`: test_suite_mutations.py,
test_suite_security.py), and the rest is listed, with why, in `UNCOVERED`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import pytest

from inspector.certs import create_lab_pki
from inspector.conformance import Verdict, catalog
from inspector.tls import ClientTls, ServerTls

import mutants as m
from suite_helpers import by_id, run

V16, V201 = "1.6", "2.0.1"
CS, CSMS = "charger", "csms"
SECRET = "mutation-lab-password-0123"  # the run's --password in the Basic-auth cases


@dataclass(frozen=True)
class Mutant:
    """A simulated SUT with one behaviour wrong, and what each case it breaks must report.

    `fails` maps a case id to a substring of that case's reason (and, when the same reason
    could come from another step, `step` maps it to a substring of the failing step's title)."""

    name: str
    version: str
    sut: str
    fails: dict
    charger: type | None = None  # a FakeCharger subclass
    csms: Callable | None = None  # a csms_factory
    overrides: dict = field(default_factory=dict)  # FakeCsms response overrides
    step: dict = field(default_factory=dict)
    sut_sent: dict = field(default_factory=dict)  # case id -> text in a frame of the failing step
    security: Callable | None = None  # pki folder -> run options (password, TLS)
    params: dict = field(default_factory=dict)  # run parameters over suite_helpers.FAST
    step_timeout: float = 1.0

    def __str__(self) -> str:
        return self.name


MUTANTS = [
    # ---- OCPP 1.6 charge point -------------------------------------------------------------
    Mutant("16cs-heartbeat-interval-ignored", V16, CS, {"TC_001_CS": "expected Heartbeat within"},
           charger=m.IgnoresHeartbeatInterval),
    Mutant("16cs-boot-not-retried-when-pending", V16, CS, {"TC_002_CS": "expected BootNotification"},
           charger=m.GivesUpWhenPending),
    Mutant("16cs-card-ignored-when-plugged", V16, CS, {"TC_003_CS": "expected StartTransaction"},
           charger=m.IgnoresCardWhilePlugged),
    Mutant("16cs-authorization-forgotten-on-plug-in", V16, CS,
           {"TC_004_1_CS": "expected StartTransaction"}, charger=m.ForgetsAuthorizationOnPlugIn),
    Mutant("16cs-starts-for-an-invalid-card", V16, CS,
           {"TC_023_4_CS": "but it must not send StartTransaction here"},
           charger=m.StartsDespiteRefusal),
    Mutant("16cs-remote-start-with-own-tag", V16, CS, {"TC_010_CS": "idTag is 'OWNTAG99'"},
           charger=m.RemoteStartWithOwnTag),
    Mutant("16cs-remote-stop-reported-local", V16, CS, {"TC_012_CS": "reason is 'Local'"},
           charger=m.RemoteStopReportedAsLocal),
    Mutant("16cs-reset-ignored", V16, CS,
           {"TC_013_CS": "did not close the connection", "TC_014_CS": "did not close the connection"},
           charger=m.ResetIgnored),
    Mutant("16cs-reset-stop-reason-wrong", V16, CS, {"TC_015_CS": "reason is 'Reboot'"},
           charger=m.ResetStopsWithWrongReason),
    Mutant("16cs-get-configuration-lists-nothing", V16, CS,
           {"TC_019_CS": "configurationKey[*].key does not contain"}, charger=m.ListsOnlyAskedKeys),
    Mutant("16cs-change-configuration-not-applied", V16, CS, {"TC_021_CS": "configurationKey[0].value"},
           charger=m.ChangeNotApplied),
    Mutant("16cs-unknown-key-rejected", V16, CS, {"TC_040_1_CS": "status is 'Rejected'"},
           charger=m.RejectsUnknownKey),
    Mutant("16cs-invalid-value-accepted", V16, CS, {"TC_040_2_CS": "status is 'Accepted'"},
           charger=m.AcceptsInvalidValue),
    Mutant("16cs-unlock-fails", V16, CS, {"TC_017_1_CS": "status is 'UnlockFailed'"},
           charger=m.UnlockFails),
    Mutant("16cs-unknown-connector-unlocked", V16, CS, {"TC_031_CS": "status is 'Unlocked'"},
           charger=m.UnlocksAnyConnector),
    Mutant("16cs-starts-before-the-cable", V16, CS,
           {"TC_011_1_CS": "must not send StartTransaction here"}, charger=m.StartsBeforeTheCable),
    Mutant("16cs-remote-start-on-connector-0", V16, CS, {"TC_027_CS": "status is 'Accepted'"},
           charger=m.AcceptsRemoteStartOnConnectorZero),
    Mutant("16cs-unknown-transaction-stop-accepted", V16, CS, {"TC_028_CS": "status is 'Accepted'"},
           charger=m.AcceptsAnyRemoteStop),
    Mutant("16cs-trigger-ignored", V16, CS, {"TC_054_CS": "expected Heartbeat within"},
           charger=m.TriggerIgnored),
    Mutant("16cs-occupied-connector-reserved", V16, CS, {"TC_048_2_CS": "status is 'Accepted'"},
           charger=m.ReservesOccupiedConnector),
    Mutant("16cs-cancel-reservation-rejected", V16, CS, {"TC_051_CS": "status is 'Rejected'"},
           charger=m.CancelRejected),
    Mutant("16cs-unknown-reservation-cancelled", V16, CS, {"TC_052_CS": "status is 'Accepted'"},
           charger=m.CancelsUnknownReservation),
    Mutant("16cs-unknown-vendor-accepted", V16, CS, {"TC_062_CS": "status is 'Accepted'"},
           charger=m.AcceptsUnknownVendor),
    Mutant("16cs-meter-values-without-transaction", V16, CS, {"TC_070_CS": "transactionId is absent"},
           charger=m.MeterValuesWithoutTransactionId),
    # a 2 s interval: the burst's second sample must come 1.3 s early, whatever the load
    Mutant("16cs-meter-values-in-bursts", V16, CS, {"TC_070_CS": "before the interval of 1.6 s"},
           charger=m.SamplesInBursts, params={"meter_interval": 2}),
    Mutant("16cs-tx-default-profile-ignored", V16, CS,
           {"TC_056_CS": "chargingSchedule.chargingSchedulePeriod[0].limit is 32.0, expected 10.0"},
           charger=m.IgnoresTxDefaultProfile),
    Mutant("16cs-tx-profile-rejected", V16, CS, {"TC_057_CS": "status is 'Rejected'"},
           charger=m.RejectsTxProfile),
    Mutant("16cs-tx-profile-without-transaction", V16, CS, {"TC_058_1_CS": "status is 'Accepted'"},
           charger=m.TxProfileWithoutTransaction),
    Mutant("16cs-tx-profile-for-any-transaction", V16, CS, {"TC_058_2_CS": "status is 'Accepted'"},
           charger=m.TxProfileForAnyTransaction),
    Mutant("16cs-composite-first-period-only", V16, CS, {"TC_066_CS": "are 10 A then 6 A"},
           charger=m.CompositeFirstPeriodOnly),
    Mutant("16cs-clear-by-id-keeps-profile", V16, CS, {"TC_067_CS": "no longer include the cleared 10 A"},
           charger=m.ClearsNothingById),
    Mutant("16cs-lowest-stack-level-wins", V16, CS,
           {"TC_072_CS": "chargingSchedule.chargingSchedulePeriod[0].limit is 10"},
           charger=m.LowestStackLevelWins),
    Mutant("16cs-empty-list-keeps-its-version", V16, CS, {"TC_042_2_CS": "listVersion is 420"},
           charger=m.EmptyListKeepsItsVersion),
    Mutant("16cs-list-version-forgotten", V16, CS, {"TC_043_CS": "listVersion is 0"},
           charger=m.ForgetsTheListVersion),
    Mutant("16cs-stale-differential-accepted", V16, CS, {"TC_043_2_CS": "status is 'Accepted'"},
           charger=m.AcceptsStaleDifferentials),
    Mutant("16cs-transaction-forgotten-on-loss", V16, CS,
           {"TC_036_CS": "status is 'Rejected'"}, charger=m.ForgetsItsTransactionOnLoss),
    Mutant("16cs-cards-refused-offline", V16, CS,
           {"TC_037_1_CS": "expected StartTransaction", "TC_039_CS": "expected StartTransaction"},
           charger=m.RefusesCardsOffline),
    Mutant("16cs-refused-card-charges-on", V16, CS,
           {"TC_037_2_CS": "expected StatusNotification", "TC_037_3_CS": "expected StopTransaction"},
           charger=m.IgnoresCardsRefusedLater),
    Mutant("16cs-stop-on-invalid-id-ignored", V16, CS,
           {"TC_037_2_CS": "expected StatusNotification"}, charger=m.AlwaysStopsOnRefusedCards),
    Mutant("16cs-offline-stop-lost", V16, CS,
           {"TC_038_CS": "expected StopTransaction", "TC_039_CS": "expected StopTransaction"},
           charger=m.LosesItsOfflineStop),
    Mutant("16cs-local-transaction-id-kept", V16, CS,
           {"TC_039_CS": "transactionId is -1"}, charger=m.KeepsItsLocalTransactionId),
    Mutant("16cs-long-list-truncated", V16, CS, {"TC_043_3_CS": "status is 'Accepted'"},
           charger=m.TruncatesLongLists),
    Mutant("16cs-missing-local-list-claimed", V16, CS,
           {"TC_042_1_CS": "listVersion is 0", "TC_043_1_CS": "status is 'Accepted'"},
           charger=m.ClaimsALocalListItLacks, security=lambda pki: {"sut_config": m.NO_LOCAL_LIST_SUT}),
    Mutant("16cs-cache-kept", V16, CS, {"TC_061_CS": "status is 'Rejected'"},
           charger=m.KeepsItsCache),
    Mutant("16cs-installed-before-reboot", V16, CS,
           {"TC_044_1_CS": "expected FirmwareStatusNotification"}, charger=m.InstalledBeforeTheReboot,
           params={"transfer_time": 3}),
    Mutant("16cs-empty-image-installed", V16, CS, {"TC_044_3_CS": "expected InstallationFailed"},
           charger=m.InstallsAnyImage, params={"transfer_time": 3}),
    Mutant("16cs-failed-download-reported-downloaded", V16, CS,
           {"TC_044_2_CS": "status is 'Downloaded', expected DownloadFailed"},
           charger=m.ReportsDownloadedAnyway, params={"transfer_time": 3}),
    Mutant("16cs-diagnostics-never-uploaded", V16, CS,
           {"TC_045_1_CS": "expected DiagnosticsStatusNotification"},
           charger=m.NeverUploads, params={"transfer_time": 1}),
    Mutant("16cs-failed-upload-reported-uploaded", V16, CS,
           {"TC_045_2_CS": "status is 'Uploaded', expected UploadFailed"},
           charger=m.ReportsUploadedAnyway, params={"transfer_time": 3}),
    Mutant("16cs-own-unique-ids-too-long", V16, CS, {"RPC_01_CS": "malformed frame (unique id of 40 characters exceeds 36)"},
           charger=m.OwnIdsTooLong),
    Mutant("16cs-no-payload-validation", V16, CS, {"RPC_02_CS": "answered CALLERROR InternalError, expected OccurenceConstraintViolation"},
           charger=m.NoPayloadValidation),
    Mutant("16cs-overlapping-calls", V16, CS, {"RPC_03_CS": "one outstanding CALL at a time"},
           charger=m.DoesNotWaitForAnswers),
    Mutant("16cs-basic-auth-credentials-not-sent", V16, CS,
           {"TC_085_CS": "refused with HTTP 401: no HTTP Basic credentials"},
           charger=m.NoCredentials, security=lambda pki: {"password": SECRET, "connect_timeout": 2}),
    Mutant("16cs-plain-ws-instead-of-tls", V16, CS, {"TC_086_CS": "did not connect to wss://"},
           charger=m.PlainWebSocket,
           security=lambda pki: {"server_tls": ServerTls(str(pki / "server.pem"), str(pki / "server.key")),
                                 "client_tls": ClientTls(str(pki / "ca.pem")), "connect_timeout": 2}),

    # ---- OCPP 1.6 central system ---------------------------------------------------------------
    Mutant("16csms-start-refused-for-valid-tag", V16, CSMS,
           {"TC_003_CSMS": "idTagInfo.status is 'Invalid'"},
           overrides={"StartTransaction": {"idTagInfo": {"status": "Invalid"}}}),
    Mutant("16csms-valid-tag-refused", V16, CSMS, {"TC_004_1_CSMS": "idTagInfo.status is 'Invalid'"},
           overrides={"Authorize": {"idTagInfo": {"status": "Invalid"}}}),
    Mutant("16csms-every-tag-accepted", V16, CSMS,
           {"TC_023_2_CSMS": "idTagInfo.status is 'Accepted'",
            "TC_023_3_CSMS": "idTagInfo.status is 'Accepted'"},
           overrides={"Authorize": {"idTagInfo": {"status": "Accepted"}}}),
    Mutant("16csms-remote-start-wrong-connector", V16, CSMS, {"TC_010_CSMS": "connectorId is 2"},
           csms=m.rewriting(m.changed("RemoteStartTransaction", connectorId=2))),
    Mutant("16csms-remote-started-transaction-refused", V16, CSMS,
           {"TC_010_CSMS": "idTagInfo.status is 'Invalid'"}, csms=m.refuses_started_transaction()),
    Mutant("16csms-remote-stop-wrong-transaction", V16, CSMS, {"TC_012_CSMS": "transactionId is"},
           csms=m.rewriting(m.wrong_transaction_id("RemoteStopTransaction"))),
    Mutant("16csms-offline-start-accepted-for-invalid-tag", V16, CSMS,
           {"TC_037_3_CSMS": "idTagInfo.status is 'Accepted'"},
           overrides={"StartTransaction": {"idTagInfo": {"status": "Accepted"}}}),
    Mutant("16csms-heartbeat-refused-after-a-refusal", V16, CSMS,
           {case: "CALLERROR" for case in ("TC_042_1_CSMS", "TC_042_2_CSMS", "TC_043_1_CSMS",
                                           "TC_043_3_CSMS")},
           overrides={"Heartbeat": {"$error": ["InternalError", "gave up"]}}),
    Mutant("16csms-offline-meter-values-refused", V16, CSMS, {"TC_039_CSMS": "CALLERROR"},
           overrides={"MeterValues": {"$error": ["InternalError", "too late"]}}),
    Mutant("16csms-local-list-version-zero", V16, CSMS,
           {"TC_043_4_CSMS": "is 1 or more", "TC_043_5_CSMS": "is 1 or more"},
           csms=m.rewriting(m.changed("SendLocalList", listVersion=0))),
    Mutant("16csms-full-list-without-status", V16, CSMS,
           {"TC_043_4_CSMS": "gives every card an idTagInfo"},
           csms=m.rewriting(m.full_list_without_status)),
    Mutant("16csms-clear-cache-malformed", V16, CSMS, {"TC_061_CSMS": "schema"},
           csms=m.rewriting(m.changed("ClearCache", everything=True))),
    Mutant("16csms-firmware-status-refused", V16, CSMS,
           {"TC_044_1_CSMS": "CALLERROR", "TC_044_2_CSMS": "CALLERROR", "TC_044_3_CSMS": "CALLERROR"},
           overrides={"FirmwareStatusNotification": {"$error": ["NotImplemented", "no firmware"]}}),
    Mutant("16csms-diagnostics-status-refused", V16, CSMS,
           {"TC_045_1_CSMS": "CALLERROR", "TC_045_2_CSMS": "CALLERROR"},
           overrides={"DiagnosticsStatusNotification": {"$error": ["NotImplemented", "no logs"]}}),
    Mutant("16csms-reset-type-swapped", V16, CSMS,
           {"TC_013_CSMS": "type is 'Soft'", "TC_014_CSMS": "type is 'Hard'"},
           csms=m.rewriting(m.swapped_reset)),
    Mutant("16csms-configuration-keys-swapped", V16, CSMS,
           {"TC_019_1_CSMS": "is absent or empty", "TC_019_2_CSMS": "does not contain"},
           csms=m.rewriting(m.swapped_configuration_keys)),
    Mutant("16csms-change-configuration-wrong-value", V16, CSMS, {"TC_021_CSMS": "value is '600'"},
           csms=m.rewriting(m.changed("ChangeConfiguration", value="600"))),
    Mutant("16csms-trigger-wrong-message", V16, CSMS,
           {"TC_054_CSMS": "requestedMessage is 'StatusNotification'"},
           csms=m.rewriting(m.changed("TriggerMessage", requestedMessage="StatusNotification"))),
    Mutant("16csms-unlock-wrong-connector", V16, CSMS, {"TC_017_1_CSMS": "connectorId is 2"},
           csms=m.rewriting(m.changed("UnlockConnector", connectorId=2))),
    Mutant("16csms-reserved-start-refused", V16, CSMS, {"TC_046_CSMS": "idTagInfo.status is 'Invalid'"},
           csms=m.refuses_reserved_start()),
    Mutant("16csms-reserves-another-connector", V16, CSMS,
           {"TC_046_CSMS": "connectorId is 2, expected 1"},
           csms=m.rewriting(m.changed("ReserveNow", connectorId=2))),
    Mutant("16csms-past-start-refused", V16, CSMS,
           {"TC_037_1_CSMS": "idTagInfo.status is 'Invalid', expected Accepted"},
           csms=m.refuses_past_start()),
    Mutant("16csms-unknown-vendor-accepted", V16, CSMS, {"TC_064_CSMS": "status is 'Accepted'"},
           overrides={"DataTransfer": {"status": "Accepted"}}),
    Mutant("16csms-tx-default-sent-as-tx-profile", V16, CSMS,
           {"TC_056_CSMS": "chargingProfilePurpose is 'TxProfile'"},
           csms=m.rewriting(m.profile_changed(chargingProfilePurpose="TxProfile"))),
    Mutant("16csms-tx-profile-for-another-transaction", V16, CSMS,
           {"TC_057_CSMS": "csChargingProfiles.transactionId is"},
           csms=m.rewriting(m.profile_for_another_transaction)),
    Mutant("16csms-composite-of-another-connector", V16, CSMS, {"TC_066_CSMS": "connectorId is 2"},
           csms=m.rewriting(m.changed("GetCompositeSchedule", connectorId=2))),
    Mutant("16csms-clears-another-profile", V16, CSMS, {"TC_067_CSMS": "id is 999"},
           csms=m.rewriting(m.changed("ClearChargingProfile", id=999))),
    Mutant("16csms-unique-id-not-echoed", V16, CSMS, {"RPC_01_CSMS": "the SUT answered with id "
                                                          "'ocpp-inspector-rpc-id-36-characters' instead of"},
           csms=m.csms(m.PatchedEndpointCsms, patch=m.sanitized_echoed_ids),
           sut_sent={"RPC_01_CSMS": '[3,"ocpp-inspector-rpc-id-36-characters",'}),
    Mutant("16csms-no-payload-validation", V16, CSMS, {"RPC_02_CSMS": 'answered with CALLRESULT [3,"rpc02-missing",'},
           csms=m.csms(m.PatchedEndpointCsms, patch=m.no_payload_validation)),
    Mutant("16csms-overlapping-calls", V16, CSMS, {"RPC_03_CSMS": "one outstanding CALL at a time"},
           csms=m.csms(m.CallsWithoutWaiting)),
    Mutant("16csms-unoffered-subprotocol-chosen", V16, CSMS, {"RPC_04_CSMS": "unsupported subprotocol"},
           csms=m.csms(m.ImposesItsSubprotocol)),

    # ---- OCPP 2.0.1 charging station ----------------------------------------------------------
    Mutant("201cs-heartbeat-interval-ignored", V201, CS, {"TC_B_01_CS": "expected Heartbeat within"},
           charger=m.IgnoresHeartbeatInterval),
    Mutant("201cs-boot-not-retried-when-pending", V201, CS,
           {"TC_B_02_CS": "expected BootNotification"}, charger=m.GivesUpWhenPending),
    Mutant("201cs-get-variables-unknown", V201, CS, {"TC_B_06_CS": "attributeStatus is 'UnknownVariable'"},
           charger=m.VariablesUnknown),
    Mutant("201cs-set-variables-not-applied", V201, CS, {"TC_B_09_CS": "attributeValue is '300'"},
           charger=m.ChangeNotApplied),
    Mutant("201cs-starts-for-a-refused-card", V201, CS,
           {"TC_C_02_CS": "but it must not send TransactionEvent here",
            "TC_C_06_CS": "but it must not send TransactionEvent here"},
           charger=m.StartsDespiteRefusal),
    Mutant("201cs-card-ignored-when-plugged", V201, CS,
           {"TC_E_01_CS": "expected TransactionEvent with eventType Started"},
           charger=m.IgnoresCardWhilePlugged),
    Mutant("201cs-authorization-forgotten-on-plug-in", V201, CS,
           {"TC_E_04_CS": "expected TransactionEvent with eventType Started"},
           charger=m.ForgetsAuthorizationOnPlugIn),
    Mutant("201cs-local-stop-reported-deauthorized", V201, CS,
           {"TC_E_15_CS": "triggerReason is 'Deauthorized'"}, charger=m.LocalStopReportedDeauthorized),
    Mutant("201cs-remote-start-without-remote-start-id", V201, CS,
           {"TC_F_01_CS": "transactionInfo.remoteStartId is absent"},
           charger=m.RemoteStartWithoutRemoteStartId),
    Mutant("201cs-remote-stop-reported-local", V201, CS,
           {"TC_F_08_CS": "triggerReason is 'StopAuthorized'"}, charger=m.RemoteStopReportedAsLocal),
    Mutant("201cs-unknown-transaction-stop-accepted", V201, CS, {"TC_F_09_CS": "status is 'Accepted'"},
           charger=m.AcceptsAnyRemoteStop),
    Mutant("201cs-unlock-fails", V201, CS, {"TC_F_06_CS": "status is 'UnlockFailed'"},
           charger=m.UnlockFails),
    Mutant("201cs-unknown-connector-unlocked", V201, CS, {"TC_F_10_CS": "status is 'Unlocked'"},
           charger=m.UnlocksAnyConnector),
    Mutant("201cs-trigger-ignored", V201, CS,
           {"TC_F_20_CS": "expected Heartbeat within",
            "TC_F_23_CS": "expected StatusNotification with evseId 1"},
           charger=m.TriggerIgnored),
    Mutant("201cs-unimplemented-trigger-accepted", V201, CS, {"TC_F_27_CS": "status is 'Accepted'"},
           charger=m.TriggersAnything),
    Mutant("201cs-inoperative-ignored", V201, CS, {"TC_G_03_CS": "connectorStatus Unavailable"},
           charger=m.InoperativeIgnored),
    Mutant("201cs-operative-ignored", V201, CS, {"TC_G_04_CS": "connectorStatus Available"},
           charger=m.OperativeIgnored),
    Mutant("201cs-cancel-reservation-rejected", V201, CS, {"TC_H_17_CS": "status is 'Rejected'"},
           charger=m.CancelRejected),
    Mutant("201cs-unknown-reservation-cancelled", V201, CS, {"TC_H_18_CS": "status is 'Accepted'"},
           charger=m.CancelsUnknownReservation),
    Mutant("201cs-samples-outside-transaction-event", V201, CS,
           {"TC_J_09_CS": "expected TransactionEvent with eventType Updated"},
           charger=m.MeterValuesOutsideTransactionEvent),
    Mutant("201cs-unknown-vendor-accepted", V201, CS, {"TC_P_01_CS": "status is 'Accepted'"},
           charger=m.AcceptsUnknownVendor),
    Mutant("201cs-own-unique-ids-too-long", V201, CS, {"RPC_01_CS": "malformed frame (unique id of 40 characters exceeds 36)"},
           charger=m.OwnIdsTooLong),
    Mutant("201cs-no-payload-validation", V201, CS, {"RPC_02_CS": 'answered with CALLRESULT [3,"rpc02-missing",'},
           charger=m.NoPayloadValidation),

    # ---- OCPP 2.0.1 CSMS --------------------------------------------------------------------
    Mutant("201csms-right-password-refused", V201, CSMS,
           {"TC_A_01_CSMS": "the CSMS refused the upgrade with HTTP 401"},
           csms=m.with_passwords("not-" + SECRET), security=lambda pki: {"password": SECRET}),
    Mutant("201csms-any-password-accepted", V201, CSMS, {"TC_A_03_CSMS": "expected HTTP 401"},
           csms=m.with_passwords(None), security=lambda pki: {"password": SECRET}),
    Mutant("201csms-status-of-another-transaction", V201, CSMS,
           {case: "transactionId" for case in ("TC_E_29_CSMS", "TC_E_30_CSMS", "TC_E_31_CSMS",
                                                "TC_E_33_CSMS", "TC_E_34_CSMS")},
           csms=m.rewriting(m.changed("GetTransactionStatus", transactionId="TX-OTHER"))),
    Mutant("201csms-security-event-refused", V201, CSMS,
           {case: "CALLERROR" for case in ("TC_L_04_CSMS", "TC_L_05_CSMS", "TC_L_06_CSMS")},
           overrides={"SecurityEventNotification": {"$error": ["NotImplemented", "no security"]}}),
    Mutant("201csms-firmware-request-id-reused", V201, CSMS,
           {"TC_L_10_CSMS": "requestId", "TC_L_11_CSMS": "requestId"},
           csms=m.rewriting(m.changed("UpdateFirmware", requestId=2001))),
    Mutant("201csms-log-request-id-reused", V201, CSMS, {"TC_N_36_CSMS": "requestId"},
           csms=m.rewriting(m.changed("GetLog", requestId=2036))),
    Mutant("201csms-heartbeat-refused-after-a-refusal", V201, CSMS,
           {"TC_N_34_CSMS": "CALLERROR", "TC_C_38_CSMS": "CALLERROR"},
           overrides={"Heartbeat": {"$error": ["InternalError", "gave up"]}}),
    Mutant("201csms-cached-card-refused", V201, CSMS,
           {"TC_C_08_CSMS": "idTokenInfo.status is 'Invalid'"},
           overrides={"TransactionEvent": {"idTokenInfo": {"status": "Invalid"}}}),
    Mutant("201csms-cached-invalid-card-accepted", V201, CSMS,
           {"TC_C_20_CSMS": "idTokenInfo.status is 'Accepted'"},
           overrides={"TransactionEvent": {"idTokenInfo": {"status": "Accepted"}}}),
    Mutant("201csms-customer-report-flag-flipped", V201, CSMS,
           {case: "report is" for case in ("TC_N_27_CSMS", "TC_N_28_CSMS", "TC_N_29_CSMS",
                                           "TC_N_30_CSMS", "TC_N_31_CSMS", "TC_N_32_CSMS",
                                           "TC_N_62_CSMS")},
           csms=m.rewriting(m.flipped("CustomerInformation", "report"))),
    Mutant("201csms-customer-clear-flag-flipped", V201, CSMS,
           {case: "clear is" for case in ("TC_N_27_CSMS", "TC_N_30_CSMS", "TC_N_32_CSMS")},
           csms=m.rewriting(m.flipped("CustomerInformation", "clear"))),
    Mutant("201csms-customer-data-refused", V201, CSMS,
           {case: "CALLERROR" for case in ("TC_N_27_CSMS", "TC_N_28_CSMS", "TC_N_30_CSMS",
                                           "TC_N_31_CSMS")},
           overrides={"NotifyCustomerInformation": {"$error": ["NotImplemented", "no"]}}),
    Mutant("201csms-clear-cache-malformed", V201, CSMS, {"TC_C_37_CSMS": "schema"},
           csms=m.rewriting(m.changed("ClearCache", everything=True))),
    Mutant("201csms-unsigned-firmware", V201, CSMS, {"TC_L_01_CSMS": "firmware.signature"},
           csms=m.rewriting(m.unsigned_firmware)),
    Mutant("201csms-firmware-status-refused", V201, CSMS,
           {case: "CALLERROR" for case in ("TC_L_01_CSMS", "TC_L_02_CSMS", "TC_L_03_CSMS",
                                           "TC_L_06_CSMS", "TC_L_07_CSMS", "TC_L_08_CSMS",
                                           "TC_L_09_CSMS", "TC_L_10_CSMS", "TC_L_11_CSMS",
                                           "TC_L_13_CSMS")},
           overrides={"FirmwareStatusNotification": {"$error": ["NotImplemented", "no firmware"]}}),
    Mutant("201csms-security-log-asked", V201, CSMS, {"TC_N_25_CSMS": "logType is 'SecurityLog'"},
           csms=m.rewriting(m.changed("GetLog", logType="SecurityLog"))),
    Mutant("201csms-diagnostics-log-asked", V201, CSMS,
           {"TC_N_35_CSMS": "logType is 'DiagnosticsLog'"},
           csms=m.rewriting(m.changed("GetLog", logType="DiagnosticsLog"))),
    Mutant("201csms-install-date-dropped", V201, CSMS,
           {"TC_L_02_CSMS": "firmware.installDateTime"}, csms=m.rewriting(m.without_install_date)),
    Mutant("201csms-log-status-refused", V201, CSMS, {"TC_N_25_CSMS": "CALLERROR",
                                                      "TC_N_35_CSMS": "CALLERROR",
                                                      "TC_N_36_CSMS": "CALLERROR"},
           overrides={"LogStatusNotification": {"$error": ["NotImplemented", "no logs"]}}),
    Mutant("201csms-boot-interval-zero", V201, CSMS, {"TC_B_01_CSMS": "interval is 0"},
           overrides={"BootNotification": {"interval": 0}}),
    Mutant("201csms-retried-boot-rejected", V201, CSMS, {"TC_B_02_CSMS": "status is 'Rejected'"},
           csms=m.csms(m.RejectsRetriedBoot)),
    Mutant("201csms-unaccepted-station-served", V201, CSMS,
           {"TC_B_30_CSMS": "expected CALLERROR SecurityError"}, csms=m.csms(m.ServesUnacceptedStation)),
    Mutant("201csms-extra-variable", V201, CSMS,
           {"TC_B_06_CSMS": "getVariableData has 2 item(s)", "TC_B_09_CSMS": "setVariableData has 2 item(s)"},
           csms=m.rewriting(m.extra_variable)),
    Mutant("201csms-other-variable", V201, CSMS,
           {"TC_B_06_CSMS": "variable.name is 'OfflineThreshold', expected HeartbeatInterval",
            "TC_B_09_CSMS": "variable.name is 'OfflineThreshold', expected HeartbeatInterval"},
           csms=m.rewriting(m.other_variable)),
    Mutant("201csms-other-value", V201, CSMS,
           {"TC_B_09_CSMS": "attributeValue is '300', expected 120"}, csms=m.rewriting(m.other_value)),
    Mutant("201csms-seq-no-per-station", V201, CSMS,
           {"TC_E_53_CSMS": "CALLERROR OccurrenceConstraintViolation"},
           csms=m.refuses_restarted_seq_no(),
           step={"TC_E_53_CSMS": "Started of a second transaction"}),
    Mutant("201csms-reset-type-wrong", V201, CSMS, {"TC_B_20_CSMS": "type is 'Immediate'"},
           csms=m.rewriting(m.swapped_reset)),
    Mutant("201csms-every-token-accepted", V201, CSMS,
           {"TC_C_02_CSMS": "idTokenInfo.status is 'Accepted'",
            "TC_C_06_CSMS": "idTokenInfo.status is 'Accepted'",
            "TC_C_07_CSMS": "idTokenInfo.status is 'Accepted'"},
           overrides={"Authorize": {"idTokenInfo": {"status": "Accepted"}}}),
    Mutant("201csms-late-authorization-refused", V201, CSMS,
           {"TC_E_03_CSMS": "idTokenInfo.status is 'Invalid'"}, csms=m.token_refused_in("Updated"),
           step={"TC_E_03_CSMS": "send TransactionEvent Updated (Authorized"}),
    Mutant("201csms-started-token-refused", V201, CSMS,
           {"TC_E_04_CSMS": "idTokenInfo.status is 'Invalid'"}, csms=m.token_refused_in("Started"),
           step={"TC_E_04_CSMS": "send TransactionEvent Started"}),
    Mutant("201csms-stop-token-refused", V201, CSMS,
           {"TC_E_15_CSMS": "idTokenInfo.status is 'Invalid'"}, csms=m.token_refused_in("Ended"),
           step={"TC_E_15_CSMS": "send TransactionEvent Ended"}),
    Mutant("201csms-remote-stop-wrong-transaction", V201, CSMS, {"TC_E_21_CSMS": "transactionId is"},
           csms=m.rewriting(m.wrong_transaction_id("RequestStopTransaction"))),
    Mutant("201csms-remote-start-wrong-evse", V201, CSMS, {"TC_F_01_CSMS": "evseId is 2"},
           csms=m.rewriting(m.changed("RequestStartTransaction", evseId=2))),
    Mutant("201csms-unlock-wrong-evse", V201, CSMS, {"TC_F_06_CSMS": "evseId is 2"},
           csms=m.rewriting(m.changed("UnlockConnector", evseId=2))),
    Mutant("201csms-trigger-wrong-message", V201, CSMS,
           {"TC_F_20_CSMS": "requestedMessage is 'StatusNotification'"},
           csms=m.rewriting(m.changed("TriggerMessage", requestedMessage="StatusNotification"))),
    Mutant("201csms-availability-wrong-status", V201, CSMS,
           {"TC_G_03_CSMS": "operationalStatus is 'Operative'"},
           csms=m.rewriting(m.changed("ChangeAvailability", operationalStatus="Operative"))),
    Mutant("201csms-periodic-meter-values-refused", V201, CSMS,
           {"TC_J_09_CSMS": "with CALLERROR NotSupported"}, csms=m.csms(m.RefusesPeriodicMeterValues),
           step={"TC_J_09_CSMS": "send TransactionEvent Updated (MeterValuePeriodic"}),
    Mutant("201csms-unknown-vendor-accepted", V201, CSMS, {"TC_P_02_CSMS": "status is 'Accepted'"},
           overrides={"DataTransfer": {"status": "Accepted"}}),
    Mutant("201csms-unique-id-not-echoed", V201, CSMS, {"RPC_01_CSMS": "the SUT answered with id "
                                                          "'ocpp-inspector-rpc-id-36-characters' instead of"},
           csms=m.csms(m.PatchedEndpointCsms, patch=m.sanitized_echoed_ids),
           sut_sent={"RPC_01_CSMS": '[3,"ocpp-inspector-rpc-id-36-characters",'}),
    Mutant("201csms-no-payload-validation", V201, CSMS, {"RPC_02_CSMS": 'answered with CALLRESULT [3,"rpc02-missing",'},
           csms=m.csms(m.PatchedEndpointCsms, patch=m.no_payload_validation)),
    Mutant("201csms-overlapping-calls", V201, CSMS, {"RPC_03_CSMS": "one outstanding CALL at a time"},
           csms=m.csms(m.CallsWithoutWaiting)),
    Mutant("201csms-unoffered-subprotocol-chosen", V201, CSMS, {"RPC_04_CSMS": "unsupported subprotocol"},
           csms=m.csms(m.ImposesItsSubprotocol)),
]

# cases whose mutant already runs in another test: the test (in test_suite_mutations.py
# unless a module is named) asserts the case's FAIL and its reason
ELSEWHERE = {
    (V16, CSMS, "TC_001_CSMS"): "test_csms_boot_answer_missing_interval_fails_with_the_schema_finding",
    (V16, CSMS, "TC_023_1_CSMS"): "test_csms_accepting_an_invalid_card_fails_the_authorization_case",
    (V201, CS, "TC_B_03_CS"): "test_rejected_boot_retried_before_the_interval_fails",
    (V201, CS, "TC_B_20_CS"): "test_boot_reason_after_reset_is_checked",
    (V201, CS, "RPC_03_CS"): "test_second_call_while_one_is_outstanding_fails_the_rpc_case",
    # test_suite_trust.py: an independent station that starts only on authorization
    (V201, CS, "TC_E_03_CS"):
        "test_suite_trust.test_cable_plugin_first_needs_the_transaction_to_start_on_plug_in",
    # test_suite_security.py: a client certificate issued to another charge point
    (V16, CS, "TC_087_CS"): "test_suite_security.test_charger_security_mutants_fail",
}

# cases no mutant of our simulators can make fail, and why
UNCOVERED: dict = {}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    create_lab_pki(folder, charge_points=["SUITE-CP"])
    return folder


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
async def test_the_mutant_fails_the_cases_that_check_its_behaviour(mutant: Mutant, pki):
    security = mutant.security(pki) if mutant.security else {}
    result = await run(mutant.version, mutant.sut, list(mutant.fails), step_timeout=mutant.step_timeout,
                       params=mutant.params, charger_factory=m.charger(mutant.charger) if mutant.charger else None,
                       csms_factory=mutant.csms, csms_overrides=mutant.overrides, **security)
    cases = by_id(result)
    assert set(cases) == set(mutant.fails)
    for case_id, wanted in mutant.fails.items():
        case = cases[case_id]
        log = case.log(frames=False)
        assert case.verdict is Verdict.FAIL, log
        assert wanted in case.reason, log
        failed = next(s for s in case.steps if s.verdict is Verdict.FAIL)
        if case_id in mutant.step:
            assert mutant.step[case_id] in failed.title, log
        if case_id in mutant.sut_sent:
            # the evidence is in the step's log: the SUT did answer, with the wrong id
            assert any(mutant.sut_sent[case_id] in f.raw for f in failed.frames if f.from_sut), \
                case.log(frames=True)


def test_every_case_has_a_mutant():
    import test_suite_mutations

    every = {(c.version, c.sut, c.id) for c in catalog.list_cases()}
    here = [(mu.version, mu.sut, case_id) for mu in MUTANTS for case_id in mu.fails]
    assert len({mu.name for mu in MUTANTS}) == len(MUTANTS), "mutant names must be unique"
    for key, test_name in ELSEWHERE.items():
        module, _, name = test_name.rpartition(".")
        module = importlib.import_module(module) if module else test_suite_mutations
        assert callable(getattr(module, name, None)), (key, test_name)
    covered = set(here) | set(ELSEWHERE)
    assert covered <= every, f"unknown cases in the table: {sorted(covered - every)}"
    assert every - covered == set(UNCOVERED), (
        f"not covered and not in UNCOVERED: {sorted(every - covered - set(UNCOVERED))}; "
        f"in UNCOVERED but covered (or gone): {sorted(set(UNCOVERED) - (every - covered))}")
    assert len(covered) >= 0.9 * len(every), f"{len(covered)}/{len(every)} cases have a mutant"


async def test_the_not_supported_cases_pass_a_charger_without_local_lists_and_need_a_description():
    """TC_042_1_CS / TC_043_1_CS: a charger whose model leaves LocalAuthListManagement out
    passes both when the SUT description says so; without a description they never assume
    the feature is missing (NOT APPLICABLE, with the reason)."""
    ids = ["TC_042_1_CS", "TC_043_1_CS"]
    result = await run(V16, CS, ids, charger_factory=m.charger(m.WithoutLocalLists),
                       sut_config=m.NO_LOCAL_LIST_SUT)
    assert all(c.verdict is Verdict.PASS for c in result.cases), [c.reason for c in result.cases]
    real = await run(V16, CS, ids, auto=False, connect_timeout=1)
    assert all(c.verdict is Verdict.NOT_APPLICABLE for c in real.cases)
    assert "--sut-config" in real.cases[0].reason and "LocalAuthListManagement" in real.cases[0].reason
