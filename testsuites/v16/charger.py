"""OCPP 1.6 cases for a Charge Point (TC_xxx_CS): the engine plays the Central System.

Steps follow the intent of the OCA test cases: what the Charge Point must send, in which
order, with which values, and how it must answer the Central System's requests. Operator
prompts name the physical action; in --auto mode the simulated charger performs it.
"""

from __future__ import annotations

from inspector.conformance.model import (Case, CheckSecurity, Connect, Expect, ExpectDisconnect,
                                         ExpectNone, IntV, Now, Prompt, Send, StepTimeoutPlus, StrV, V, answer,
                                         contains, eq, eq_or_absent, FloatV, is_datetime, is_int,
                                         nonempty_str, not_before, one_of, present, satisfies)

VERSION = "1.6"
CONNECTOR = IntV("connector")
ENERGY = "Energy.Active.Import.Register"
# a representative part of the configuration keys OCPP 1.6 makes required for Core
CORE_KEYS = ("HeartbeatInterval", "MeterValueSampleInterval", "ConnectionTimeOut",
             "NumberOfConnectors", "AuthorizeRemoteTxRequests", "LocalAuthorizeOffline",
             "StopTransactionOnEVSideDisconnect", "SupportedFeatureProfiles",
             "MeterValuesSampledData")


def case(case_id: str, title: str, group: str, steps: list, **kw) -> Case:
    return Case(case_id, title, VERSION, "charger", group, steps, **kw)


def status(value: str, **kw) -> Expect:
    return Expect("StatusNotification", where={"connectorId": CONNECTOR, "status": value},
                  checks=[eq("errorCode", "NoError")], **kw)


def reboot() -> list:
    return [Prompt("Power-cycle (or reboot) the Charge Point so that it connects to {url}<id> "
                   "and boots", action="reboot"),
            Connect()]


def secured_boot(case_id: str, title: str, need: str, **check) -> Case:
    """The Charge Point connects with a security profile and boots (TC_085..087_CS)."""
    return case(case_id, title, "Security", [
                    *reboot(),
                    CheckSecurity(**check),
                    Expect("BootNotification",
                           reply=answer(status="Accepted", interval=IntV("heartbeat_interval"))),
                ], before="none", needs=(f"security:{need}",),
                preconditions="The Charge Point is configured for the security profile this run "
                              "offers (--password, --cert/--key, --client-ca).")


def reset_when_idle(kind: str) -> list:
    """Reset accepted, the charger reconnects, boots and reports its connector Available."""
    return [
        Send("Reset", {"type": kind}, checks=[eq("status", "Accepted")]),
        ExpectDisconnect(),
        Connect(),
        Expect("BootNotification"),
        Expect("StatusNotification", where={"connectorId": CONNECTOR}, checks=[eq("status", "Available")]),
    ]


def plug_in() -> list:
    return [Prompt("Plug the cable into connector {connector}", action="plug_in"),
            status("Preparing")]


def unplug() -> list:
    return [Prompt("Unplug the cable from connector {connector}", action="unplug"),
            status("Available")]


def start_transaction_expected(tag=V("id_tag")) -> Expect:
    return Expect("StartTransaction", where={"connectorId": CONNECTOR},
                  checks=[eq("idTag", tag), is_int("meterStart"), is_datetime("timestamp")],
                  save={"tx": "response.transactionId"})


def remote_start() -> list:
    return [Send("RemoteStartTransaction", {"connectorId": CONNECTOR, "idTag": V("id_tag")},
                 checks=[eq("status", "Accepted")]),
            start_transaction_expected(),
            status("Charging")]


def remote_stop() -> list:
    return [Send("RemoteStopTransaction", {"transactionId": V("tx")}, checks=[eq("status", "Accepted")]),
            Expect("StopTransaction", checks=[eq("transactionId", V("tx")), eq("reason", "Remote"),
                                              is_int("meterStop")]),
            status("Finishing"),
            *unplug()]


def _energy_sampled(values) -> bool:
    return any(isinstance(v, dict) and v.get("measurand", ENERGY) == ENERGY for v in values)


CASES = [
    case("TC_001_CS", "Cold Boot Charge Point", "Core/Provisioning", [
        *reboot(),
        Expect("BootNotification",
               checks=[nonempty_str("chargePointVendor"), nonempty_str("chargePointModel")],
               reply=answer(status="Accepted", interval=IntV("heartbeat_interval"))),
        status("Available", title="StatusNotification Available for the connector"),
        Expect("Heartbeat", timeout=StepTimeoutPlus("heartbeat_interval"),
               title="Heartbeat within the granted heartbeat interval"),
    ], before="none", preconditions="The Charge Point is configured with the test system's URL.",
        description="After power-up the Charge Point sends BootNotification, then a "
                    "StatusNotification per connector, then heartbeats at the interval granted."),

    case("TC_002_CS", "Cold Boot Charge Point - Pending", "Core/Provisioning", [
        *reboot(),
        Expect("BootNotification",
               reply=answer(status="Pending", interval=IntV("boot_retry_interval")),
               title="BootNotification; answer Pending with interval <boot_retry_interval>"),
        Send("GetConfiguration", {"key": ["HeartbeatInterval"]},
             checks=[contains("configurationKey[*].key", "HeartbeatInterval")],
             title="while Pending, the Charge Point answers GetConfiguration"),
        Expect("BootNotification", reply=answer(status="Accepted", interval=IntV("heartbeat_interval")),
               title="the Charge Point sends BootNotification again; answer Accepted"),
        status("Available"),
    ], before="none",
        description="While Pending the Charge Point accepts the Central System's requests and "
                    "retries BootNotification until Accepted."),

    case("TC_003_CS", "Regular Charging Session - Plugin First", "Core/Transactions", [
        *plug_in(),
        Prompt("Present a valid card ({id_tag}) to the reader", action="present_card",
               args={"tag": V("id_tag")}),
        Expect("Authorize", checks=[nonempty_str("idTag")], save={"card": "idTag"}),
        start_transaction_expected(V("card")),
        status("Charging"),
        Prompt("Present the same card again to stop charging", action="present_card",
               args={"tag": V("card")}),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx")), eq_or_absent("reason", "Local"),
                                          is_int("meterStop"), is_datetime("timestamp")]),
        status("Finishing"),
        *unplug(),
    ], description="Plug in, authorize, charge, stop locally, unplug."),

    case("TC_004_1_CS", "Regular Charging Session - Identification First", "Core/Transactions", [
        Prompt("Present a valid card ({id_tag}) to the reader", action="present_card",
               args={"tag": V("id_tag")}),
        Expect("Authorize", checks=[nonempty_str("idTag")], save={"card": "idTag"}),
        *plug_in(),
        start_transaction_expected(V("card")),
        status("Charging"),
        Prompt("Present the same card again to stop charging", action="present_card",
               args={"tag": V("card")}),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx")), eq_or_absent("reason", "Local")]),
        status("Finishing"),
        *unplug(),
    ], description="Authorize first, then plug in: the transaction starts on plug-in."),

    case("TC_023_4_CS", "Start local Charging Session - Authorize invalid", "Core/Auth", [
        *plug_in(),
        Prompt("Present a card to the reader (the test system answers Invalid)",
               action="present_card", args={"tag": V("id_tag")}),
        Expect("Authorize", reply=answer(idTagInfo={"status": "Invalid"}),
               title="Authorize; answer idTagInfo Invalid"),
        ExpectNone("StartTransaction", seconds=V("quiet_period"),
                   title="no StartTransaction for an invalid card"),
        *unplug(),
    ], description="A card the Central System declares Invalid does not start a transaction."),

    case("TC_010_CS", "Remote Start Charging Session - Cable Plugged in First", "Core/Remote", [
        *plug_in(),
        *remote_start(),
        Prompt("Present the card {id_tag} to stop charging", action="present_card",
               args={"tag": V("id_tag")}),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx"))]),
        status("Finishing"),
        *unplug(),
    ], preconditions="AuthorizeRemoteTxRequests is false (or Authorize is answered Accepted)."),

    case("TC_011_1_CS", "Remote Start Charging Session - Remote Start First", "Core/Remote", [
        Send("GetConfiguration", {"key": ["AuthorizeRemoteTxRequests"]},
             checks=[contains("configurationKey[*].key", "AuthorizeRemoteTxRequests")],
             title="GetConfiguration AuthorizeRemoteTxRequests (whether it will Authorize first)"),
        Send("RemoteStartTransaction", {"connectorId": CONNECTOR, "idTag": V("id_tag")},
             checks=[eq("status", "Accepted")],
             title="RemoteStartTransaction before any cable is plugged in: Accepted"),
        ExpectNone("StartTransaction", seconds=V("quiet_period"),
                   title="no transaction starts before the cable is plugged in"),
        *plug_in(),
        start_transaction_expected(),
        status("Charging"),
        *remote_stop(),
    ], preconditions="The cable is not plugged in. The Charge Point waits ConnectionTimeOut for "
                     "the cable after a remote start.",
        description="A remote start first, the cable after: the transaction starts once the "
                    "cable is plugged in (an Authorize first when AuthorizeRemoteTxRequests is "
                    "true is answered Accepted)."),

    case("TC_012_CS", "Remote Stop Charging Session", "Core/Remote", [
        *plug_in(),
        *remote_start(),
        *remote_stop(),
    ], description="RemoteStopTransaction ends the transaction with reason Remote."),

    case("TC_013_CS", "Hard Reset Without transaction", "Core/Provisioning", reset_when_idle("Hard")),

    case("TC_014_CS", "Soft Reset Without Transaction", "Core/Provisioning", reset_when_idle("Soft")),

    case("TC_015_CS", "Hard Reset With transaction", "Core/Provisioning", [
        *plug_in(),
        *remote_start(),
        Send("Reset", {"type": "Hard"}, checks=[eq("status", "Accepted")]),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx")), eq("reason", "HardReset")],
               title="the transaction is stopped with reason HardReset (before or after the reboot)"),
        ExpectDisconnect(),
        Connect(),
        Expect("BootNotification"),
        Expect("StatusNotification", where={"connectorId": CONNECTOR},
               checks=[one_of("status", ["Available", "Preparing", "Finishing"])]),
        *unplug(),
    ]),

    case("TC_019_CS", "Retrieve configuration", "Core/Provisioning", [
        Send("GetConfiguration", {},
             checks=[*(contains("configurationKey[*].key", key) for key in CORE_KEYS),
                     satisfies("configurationKey[*].readonly", "are booleans",
                               lambda values: all(isinstance(v, bool) for v in values))],
             title="GetConfiguration without keys lists all keys (required Core keys present)"),
        Send("GetConfiguration", {"key": ["HeartbeatInterval", "OcppInspectorUnknownKey"]},
             checks=[contains("configurationKey[*].key", "HeartbeatInterval"),
                     contains("unknownKey[*]", "OcppInspectorUnknownKey")],
             title="GetConfiguration for a known and an unknown key reports the unknown one"),
    ]),

    case("TC_021_CS", "Change/set Configuration", "Core/Provisioning", [
        Send("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": StrV("meter_interval")},
             checks=[one_of("status", ["Accepted", "RebootRequired"])]),
        Send("GetConfiguration", {"key": ["MeterValueSampleInterval"]},
             checks=[eq("configurationKey[0].value", StrV("meter_interval"))],
             title="GetConfiguration shows the new value"),
    ]),

    case("TC_040_1_CS", "Configuration key - NotSupported", "Core/Provisioning", [
        Send("ChangeConfiguration", {"key": "OcppInspectorUnknownKey", "value": "1"},
             checks=[eq("status", "NotSupported")]),
    ]),

    case("TC_040_2_CS", "Configuration key - Invalid value", "Core/Provisioning", [
        Send("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "not-a-number"},
             checks=[eq("status", "Rejected")]),
    ]),

    case("TC_017_1_CS", "Unlock connector - no charging session (Not fixed cable)", "Core/Remote", [
        Send("UnlockConnector", {"connectorId": CONNECTOR}, checks=[eq("status", "Unlocked")]),
    ], preconditions="The connector has a socket (no fixed cable)."),

    case("TC_031_CS", "Unlock Connector - Unknown Connector", "Core/Remote", [
        Send("GetConfiguration", {"key": ["NumberOfConnectors"]},
             save={"connectors": "configurationKey[key=NumberOfConnectors].value"}),
        Send("UnlockConnector",
             {"connectorId": IntV("connectors", 1)}, checks=[eq("status", "NotSupported")],
             title="UnlockConnector for connector NumberOfConnectors + 1 is NotSupported"),
    ]),

    case("TC_027_CS", "Remote start transaction - connector id shall not be 0", "Core/Remote", [
        Send("RemoteStartTransaction", {"connectorId": 0, "idTag": V("id_tag")},
             checks=[eq("status", "Rejected")]),
        ExpectNone("StartTransaction", seconds=V("quiet_period")),
    ]),

    case("TC_028_CS", "Remote Stop Transaction - Rejected", "Core/Remote", [
        Send("RemoteStopTransaction", {"transactionId": 987654321}, checks=[eq("status", "Rejected")],
             title="RemoteStopTransaction for an unknown transaction is Rejected"),
    ]),

    case("TC_054_CS", "Trigger Message", "RemoteTrigger", [
        Send("TriggerMessage", {"requestedMessage": "Heartbeat"}, checks=[eq("status", "Accepted")]),
        Expect("Heartbeat"),
        Send("TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": CONNECTOR},
             checks=[eq("status", "Accepted")]),
        Expect("StatusNotification", where={"connectorId": CONNECTOR}),
        Send("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": CONNECTOR},
             checks=[eq("status", "Accepted")]),
        Expect("MeterValues", where={"connectorId": CONNECTOR}, checks=[present("meterValue[0].sampledValue")]),
    ], preconditions="The RemoteTrigger feature profile is supported.",
        needs=("feature:RemoteTrigger",)),

    case("TC_048_2_CS", "Reservation of a Connector - Occupied", "Reservation", [
        *plug_in(),
        Send("ReserveNow", {"connectorId": CONNECTOR, "expiryDate": Now(3600), "idTag": V("id_tag"),
                            "reservationId": 48},
             checks=[eq("status", "Occupied")],
             title="ReserveNow for an occupied connector is answered Occupied"),
        *unplug(),
    ], preconditions="The Reservation feature profile is supported.",
        needs=("feature:Reservation",)),

    case("TC_051_CS", "Cancel Reservation", "Reservation", [
        Send("ReserveNow", {"connectorId": CONNECTOR, "expiryDate": Now(3600), "idTag": V("id_tag"),
                            "reservationId": 51}, checks=[eq("status", "Accepted")]),
        status("Reserved"),
        Send("CancelReservation", {"reservationId": 51}, checks=[eq("status", "Accepted")]),
        status("Available"),
    ], preconditions="The Reservation feature profile is supported.",
        needs=("feature:Reservation",)),

    case("TC_052_CS", "Cancel Reservation - Rejected", "Reservation", [
        Send("CancelReservation", {"reservationId": 987654}, checks=[eq("status", "Rejected")],
             title="CancelReservation for an unknown reservation is Rejected"),
    ], preconditions="The Reservation feature profile is supported.",
        needs=("feature:Reservation",)),

    case("TC_062_CS", "Data Transfer to a Charge Point", "Core", [
        Send("DataTransfer", {"vendorId": V("vendor_id"), "messageId": "Test", "data": "ping"},
             checks=[eq("status", "UnknownVendorId")],
             title="DataTransfer with a vendor id the Charge Point does not know: UnknownVendorId"),
    ]),

    case("TC_070_CS", "Sampled Meter Values", "Core/MeterValues", [
        Send("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": StrV("meter_interval")},
             checks=[eq("status", "Accepted")]),
        *plug_in(),
        *remote_start(),
        Expect("MeterValues", where={"connectorId": CONNECTOR},
               checks=[eq("transactionId", V("tx")),
                       satisfies("meterValue[*].sampledValue[*]", f"include {ENERGY}", _energy_sampled),
                       is_datetime("meterValue[0].timestamp")],
               save_time="first_sample", timeout=StepTimeoutPlus("meter_interval"),
               title="MeterValues with the transaction id within the sample interval"),
        Expect("MeterValues", where={"connectorId": CONNECTOR},
               checks=[eq("transactionId", V("tx")),
                       not_before("first_sample", FloatV("meter_interval", 0.8))],
               timeout=StepTimeoutPlus("meter_interval"),
               title="the next MeterValues one sample interval later"),
        *remote_stop(),
    ], description="During a transaction the Charge Point sends sampled meter values every "
                   "MeterValueSampleInterval seconds."),

    secured_boot("TC_085_CS", "Basic Authentication - Valid username/password combination", "basic_auth",
                 basic_auth=True),
    secured_boot("TC_086_CS", "TLS - server-side certificate - Valid certificate", "tls", tls=True),
    secured_boot("TC_087_CS", "TLS - Client-side certificate - valid certificate", "client_cert", tls=True,
                 client_cert=True),
]
