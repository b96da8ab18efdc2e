"""OCPP 1.6 cases for a Charge Point (TC_xxx_CS): the engine plays the Central System.

Steps follow the intent of the OCA test cases: what the Charge Point must send, in which
order, with which values, and how it must answer the Central System's requests. Operator
prompts name the physical action; in --auto mode the simulated charger performs it.
"""

from __future__ import annotations

from inspector.conformance.model import (Calc, Case, Check, CheckSecurity, Fmt, Connect, Expect, ExpectDisconnect,
                                         ExpectNone, IntV, NetworkDown, NetworkUp, Now, Prompt, Send,
                                         StepTimeoutPlus, StrV, V, Wait, answer,
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


# ---- Smart Charging ---------------------------------------------------------------------------
# Limits in A (every 1.6 charger with Smart Charging takes Current), well below any
# connector's own maximum, so the composite schedule shows the profile's value and nothing else.
SMART = {"needs": ("feature:SmartCharging",),
         "preconditions": "The Smart Charging feature profile is supported (SupportedFeatureProfiles) "
                          "and no charging profile is installed on the connector."}


def charging_profile(profile_id: int, purpose: str, periods: list, *, stack_level: int = 0,
                     start_offset: float | None = -60, duration: int | None = None,
                     transaction_id=None) -> dict:
    """A SetChargingProfile request for the connector: `periods` are (startPeriod s, limit A);
    Absolute from `start_offset` seconds from now, or Relative (to the transaction) when None."""
    schedule = {"chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": start, "limit": float(limit)}
                                           for start, limit in periods]}
    if start_offset is not None:
        schedule["startSchedule"] = Now(start_offset)
    if duration is not None:
        schedule["duration"] = duration
    profile = {"chargingProfileId": profile_id, "stackLevel": stack_level,
               "chargingProfilePurpose": purpose,
               "chargingProfileKind": "Relative" if start_offset is None else "Absolute",
               "chargingSchedule": schedule}
    if transaction_id is not None:
        profile["transactionId"] = transaction_id
    return {"connectorId": CONNECTOR, "csChargingProfiles": profile}


def set_profile(request: dict, status_value: str = "Accepted", **kw) -> Send:
    return Send("SetChargingProfile", request, checks=[eq("status", status_value)], **kw)


LIMITS = "chargingSchedule.chargingSchedulePeriod[*].limit"


def composite(*checks, duration: int = 300, **kw) -> Send:
    """GetCompositeSchedule for the connector in A, Accepted, with `checks` on its answer."""
    return Send("GetCompositeSchedule", {"connectorId": CONNECTOR, "duration": duration,
                                         "chargingRateUnit": "A"},
                checks=[eq("status", "Accepted"), *checks], **kw)


def first_limit(amps: float) -> Check:
    return eq("chargingSchedule.chargingSchedulePeriod[0].limit", amps)


def limits_are(amps: list) -> Check:
    """The composite's limits, in order, are `amps` (a period may repeat a limit: merged first)."""
    def merged(values) -> bool:
        out = []
        for value in values:
            if not out or out[-1] != value:
                out.append(value)
        return out == amps
    return satisfies(LIMITS, f"are {' then '.join(f'{a:g} A' for a in amps)}", merged)


LOCAL_LIST = {"needs": ("feature:LocalAuthListManagement",),
              "preconditions": "The LocalAuthListManagement feature profile is supported and "
                               "LocalAuthListEnabled is true."}


NO_LOCAL_LIST = {"needs": ("lacks:LocalAuthListManagement",),
                 "preconditions": "The Charge Point does not support LocalAuthListManagement, and "
                                  "the SUT description's features say so."}


FIRMWARE = {"needs": ("feature:FirmwareManagement",),
            "params": {"transfer_time": 30},
            "preconditions": "The FirmwareManagement feature profile is supported and the Charge "
                             "Point can reach the test system's file server over HTTP (its URL "
                             "is the run's firmware_url / upload_url; --param sets others)."}


# ---- Offline ----------------------------------------------------------------------------------
OFFLINE = {"params": {"offline_time": 5},
           "preconditions": "The Charge Point reconnects by itself after a lost connection (within "
                            "the connect timeout) and keeps its transactions meanwhile. The test "
                            "system cuts the connection and refuses reconnections for the outage."}
OFFLINE_CARD = {**OFFLINE, "preconditions": OFFLINE["preconditions"] + " LocalAuthorizeOffline and "
                "AuthorizationCacheEnabled are true: a card accepted online is accepted offline."}


def back_online() -> list:
    return [NetworkUp(),
            Connect(title="the Charge Point reconnects after the outage"),
            ExpectNone("BootNotification", seconds=V("quiet_period"),
                       title="no BootNotification: a lost connection is not a reboot")]


def card_known_offline() -> list:
    """One short session online with the card: the answers put it in the cache."""
    return [*plug_in(),
            Prompt("Present a valid card ({id_tag}) to the reader", action="present_card",
                   args={"tag": V("id_tag")}),
            Expect("Authorize", checks=[eq("idTag", V("id_tag"))]),
            start_transaction_expected(),
            status("Charging"),
            Prompt("Present the same card again to stop charging", action="present_card",
                   args={"tag": V("id_tag")}),
            Expect("StopTransaction", checks=[eq("transactionId", V("tx"))]),
            status("Finishing"),
            *unplug()]


def offline(text: str, action: str, **args) -> Prompt:
    return Prompt(f"While the Charge Point is offline: {text}", action=action, args=args)


def offline_start() -> list:
    """The card is known from an online session; offline, the cable and the card start a
    transaction; then the network is back."""
    return [*card_known_offline(),
            NetworkDown(),
            offline("plug the cable into connector {connector}", "plug_in"),
            offline("present the card {id_tag}: it is accepted from the cache and charging "
                    "starts", "present_card", tag=V("id_tag")),
            *back_online()]


def stop_on_invalid(value: str, **kw) -> Send:
    return Send("ChangeConfiguration", {"key": "StopTransactionOnInvalidId", "value": value},
                checks=[eq("status", "Accepted")], **kw)


def refused_offline_start() -> Expect:
    return Expect("StartTransaction", where={"connectorId": CONNECTOR}, checks=[eq("idTag", V("id_tag"))],
                  reply=answer(idTagInfo={"status": "Invalid"}), save={"tx": "response.transactionId"},
                  title="the StartTransaction made offline; answer idTagInfo Invalid")


def firmware_status(value: str, title: str | None = None) -> Expect:
    return Expect("FirmwareStatusNotification", checks=[eq("status", value)],
                  timeout=StepTimeoutPlus("transfer_time"), title=title)


def update_firmware(url_param: str, title: str, *statuses: str) -> list:
    """UpdateFirmware for the image at run parameter `url_param`, then the statuses the
    Charge Point must report, in order."""
    return [Send("UpdateFirmware", {"location": V(url_param), "retrieveDate": Now(-60), "retries": 1},
                 title=title),
            *(firmware_status(value) for value in statuses)]


def clear_profile(profile_id: int) -> dict:
    return {"id": profile_id}


def clean_slate() -> Send:
    """Profiles a failed earlier case left behind would change this case's composite."""
    return Send("ClearChargingProfile", {}, checks=[one_of("status", ["Accepted", "Unknown"])],
                title="ClearChargingProfile without criteria: start with no profile installed")


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

    case("TC_056_CS", "Central Smart Charging - TxDefaultProfile", "SmartCharging", [
        clean_slate(),
        set_profile(charging_profile(56, "TxDefaultProfile", [(0, 10)]),
                    title="SetChargingProfile TxDefaultProfile 10 A on the connector: Accepted"),
        composite(first_limit(10.0), title="GetCompositeSchedule shows the 10 A limit"),
        Send("ClearChargingProfile", clear_profile(56), checks=[eq("status", "Accepted")],
             title="ClearChargingProfile removes it again"),
    ], **SMART, description="A TxDefaultProfile is accepted and is what the composite "
                            "schedule of the connector shows."),

    case("TC_057_CS", "Central Smart Charging - TxProfile", "SmartCharging", [
        clean_slate(),
        *plug_in(),
        *remote_start(),
        set_profile(charging_profile(57, "TxProfile", [(0, 8)], start_offset=None,
                                     transaction_id=V("tx")),
                    title="SetChargingProfile TxProfile 8 A for the transaction: Accepted"),
        composite(first_limit(8.0), title="GetCompositeSchedule shows the 8 A limit"),
        *remote_stop(),
    ], **SMART, description="During a transaction a TxProfile for it is accepted and limits "
                            "the connector."),

    case("TC_058_1_CS", "Central Smart Charging - No ongoing transaction", "SmartCharging", [
        clean_slate(),
        set_profile(charging_profile(581, "TxProfile", [(0, 8)], start_offset=None,
                                     transaction_id=987654321), "Rejected",
                    title="SetChargingProfile TxProfile without a transaction: Rejected"),
    ], **SMART, description="A TxProfile needs a transaction: without one it is rejected."),

    case("TC_058_2_CS", "Central Smart Charging - Wrong transactionId", "SmartCharging", [
        clean_slate(),
        *plug_in(),
        *remote_start(),
        set_profile(charging_profile(582, "TxProfile", [(0, 8)], start_offset=None,
                                     transaction_id=Calc(lambda c: int(c.value("tx")) + 1,
                                                         "<tx + 1>")), "Rejected",
                    title="SetChargingProfile TxProfile for another transaction id: Rejected"),
        *remote_stop(),
    ], **SMART, description="A TxProfile for a transaction that is not the one on the "
                            "connector is rejected."),

    case("TC_066_CS", "Get Composite Schedule", "SmartCharging", [
        clean_slate(),
        set_profile(charging_profile(66, "TxDefaultProfile", [(0, 10), (180, 6)], start_offset=-60),
                    title="SetChargingProfile TxDefaultProfile: 10 A, then 6 A from 180 s"),
        composite(first_limit(10.0), limits_are([10.0, 6.0]),
                  satisfies("chargingSchedule.chargingSchedulePeriod[1].startPeriod",
                            "is about 120 s (the 6 A period, counted from now)",
                            lambda value: isinstance(value, (int, float)) and 100 <= value <= 125),
                  eq("connectorId", CONNECTOR),
                  title="GetCompositeSchedule for 300 s: 10 A now, 6 A from about 120 s"),
        Send("ClearChargingProfile", clear_profile(66), checks=[eq("status", "Accepted")]),
    ], **SMART, description="The composite schedule follows the periods of the profile in "
                            "force, counted from the moment it is asked for."),

    case("TC_067_CS", "Clear Charging Profile", "SmartCharging", [
        clean_slate(),
        set_profile(charging_profile(67, "TxDefaultProfile", [(0, 10)])),
        Send("ClearChargingProfile", clear_profile(67), checks=[eq("status", "Accepted")],
             title="ClearChargingProfile with its id: Accepted"),
        Send("GetCompositeSchedule", {"connectorId": CONNECTOR, "duration": 300,
                                      "chargingRateUnit": "A"},
             checks=[one_of("status", ["Accepted", "Rejected"]),
                     satisfies(LIMITS, "no longer include the cleared 10 A",
                               lambda values: all(v != 10.0 for v in values))],
             title="GetCompositeSchedule: the 10 A limit is gone (Rejected: nothing to report)"),
        Send("ClearChargingProfile", clear_profile(67), checks=[eq("status", "Unknown")],
             title="ClearChargingProfile for it again: Unknown (nothing matches)"),
    ], **SMART, description="A cleared profile no longer limits the connector; clearing "
                            "what is not installed answers Unknown."),

    case("TC_072_CS", "Stacking Charging Profiles", "SmartCharging", [
        clean_slate(),
        set_profile(charging_profile(720, "TxDefaultProfile", [(0, 10)], stack_level=0),
                    title="TxDefaultProfile stack level 0: 10 A, open-ended"),
        set_profile(charging_profile(721, "TxDefaultProfile", [(0, 6)], stack_level=1,
                                     duration=300),
                    title="TxDefaultProfile stack level 1: 6 A for 300 s (from a minute ago)"),
        composite(first_limit(6.0), limits_are([6.0, 10.0]), duration=600,
                  title="GetCompositeSchedule: the higher stack level (6 A) first, then 10 A"),
        Send("ClearChargingProfile", {"chargingProfilePurpose": "TxDefaultProfile"},
             checks=[eq("status", "Accepted")], title="ClearChargingProfile of every TxDefaultProfile"),
    ], **SMART, description="Of two profiles of one purpose, the higher stack level rules "
                            "while it is valid; then the lower one again."),

    case("TC_042_2_CS", "Get Local List Version (empty)", "LocalAuthList", [
        Send("SendLocalList", {"listVersion": 420, "updateType": "Full", "localAuthorizationList": []},
             checks=[eq("status", "Accepted")], title="SendLocalList Full with no cards: the list is empty"),
        Send("GetLocalListVersion", {}, checks=[eq("listVersion", 0)],
             title="GetLocalListVersion: 0 (an empty list)"),
    ], **LOCAL_LIST, description="An empty Local Authorization List has version 0."),

    case("TC_043_CS", "Send Local Authorization List", "LocalAuthList", [
        Send("SendLocalList", {"listVersion": 43, "updateType": "Full", "localAuthorizationList": [
            {"idTag": V("id_tag"), "idTagInfo": {"status": "Accepted"}},
            {"idTag": "OCTTBLOCK1", "idTagInfo": {"status": "Blocked"}}]},
             checks=[eq("status", "Accepted")], title="SendLocalList Full, version 43, two cards"),
        Send("GetLocalListVersion", {}, checks=[eq("listVersion", 43)],
             title="GetLocalListVersion: the version just sent"),
    ], **LOCAL_LIST, description="A full list is installed with its version."),

    case("TC_043_2_CS", "Send Local Authorization List - VersionMismatch", "LocalAuthList", [
        Send("SendLocalList", {"listVersion": 432, "updateType": "Full", "localAuthorizationList": [
            {"idTag": V("id_tag"), "idTagInfo": {"status": "Accepted"}}]},
             checks=[eq("status", "Accepted")], title="SendLocalList Full, version 432"),
        Send("SendLocalList", {"listVersion": 432, "updateType": "Differential",
                               "localAuthorizationList": [{"idTag": "OCTTNEW01",
                                                           "idTagInfo": {"status": "Accepted"}}]},
             checks=[eq("status", "VersionMismatch")],
             title="SendLocalList Differential with the same version: VersionMismatch"),
    ], **LOCAL_LIST, description="A differential update must carry a newer version."),

    case("TC_036_CS", "Connection Loss During Transaction", "Core/Transactions", [
        *plug_in(),
        *remote_start(),
        NetworkDown(),
        Wait(V("offline_time"), title="the Charge Point stays offline for offline_time seconds"),
        *back_online(),
        *remote_stop(),
    ], **OFFLINE, description="The connection is lost while charging: the transaction goes on, "
                              "and back online it is the same transaction (a remote stop with its "
                              "id ends it), without a reboot."),

    case("TC_037_1_CS", "Offline Start Transaction - Valid IdTag", "Core/Transactions", [
        *offline_start(),
        Expect("StartTransaction", where={"connectorId": CONNECTOR},
               checks=[eq("idTag", V("id_tag")), is_int("meterStart"), is_datetime("timestamp")],
               save={"tx": "response.transactionId"},
               title="the StartTransaction made offline, delivered after reconnecting"),
        *remote_stop(),
    ], **OFFLINE_CARD, description="A card known from the cache starts a transaction offline; "
                                   "back online the Charge Point delivers it and uses the "
                                   "transaction id the Central System gives."),

    case("TC_037_2_CS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId=false",
         "Core/Transactions", [
        stop_on_invalid("false"),
        *offline_start(),
        refused_offline_start(),
        status("SuspendedEVSE", title="StatusNotification SuspendedEVSE: the energy stops, the "
                                      "transaction goes on"),
        *remote_stop(),
        stop_on_invalid("true", title="StopTransactionOnInvalidId back to true"),
    ], **OFFLINE_CARD, description="A card the Central System refuses once the offline start is "
                                   "delivered: with StopTransactionOnInvalidId false the Charge "
                                   "Point stops the energy only (SuspendedEVSE)."),

    case("TC_037_3_CS", "Offline Start Transaction - Invalid IdTag - StopTransactionOnInvalidId=true",
         "Core/Transactions", [
        stop_on_invalid("true"),
        *offline_start(),
        refused_offline_start(),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx")), eq("reason", "DeAuthorized")],
               title="StopTransaction with reason DeAuthorized"),
        status("Finishing"),
        *unplug(),
    ], **OFFLINE_CARD, description="A card the Central System refuses once the offline start is "
                                   "delivered: with StopTransactionOnInvalidId true the Charge "
                                   "Point stops the transaction (reason DeAuthorized)."),

    case("TC_038_CS", "Offline Stop Transaction", "Core/Transactions", [
        *plug_in(),
        *remote_start(),
        NetworkDown(),
        offline("present the card {id_tag} to stop charging", "present_card", tag=V("id_tag")),
        offline("unplug the cable from connector {connector}", "unplug"),
        *back_online(),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx")), eq_or_absent("reason", "Local"),
                                          is_int("meterStop"), is_datetime("timestamp")],
               title="the StopTransaction made offline, delivered after reconnecting"),
        Expect("StatusNotification", where={"connectorId": CONNECTOR, "status": "Available"},
               title="StatusNotification: the connector is Available"),
    ], **OFFLINE, description="A transaction stopped while offline is reported once back online."),

    case("TC_039_CS", "Offline Transaction", "Core/Transactions", [
        *card_known_offline(),
        NetworkDown(),
        offline("plug the cable into connector {connector}", "plug_in"),
        offline("present the card {id_tag} to start charging", "present_card", tag=V("id_tag")),
        offline("present the card {id_tag} again to stop charging", "present_card", tag=V("id_tag")),
        offline("unplug the cable from connector {connector}", "unplug"),
        *back_online(),
        Expect("StartTransaction", where={"connectorId": CONNECTOR}, checks=[eq("idTag", V("id_tag"))],
               save={"tx": "response.transactionId"},
               title="the StartTransaction made offline"),
        Expect("StopTransaction", checks=[eq("transactionId", V("tx")), is_int("meterStop")],
               title="the StopTransaction made offline, with the id the Central System gave "
                     "the StartTransaction"),
    ], **OFFLINE_CARD, description="A whole transaction offline: back online the Charge Point "
                                   "delivers its StartTransaction, then its StopTransaction "
                                   "with the transaction id it was given."),

    case("TC_042_1_CS", "Get Local List Version (not supported)", "LocalAuthList", [
        Send("GetLocalListVersion", {}, checks=[eq("listVersion", -1)],
             title="GetLocalListVersion: -1, the Charge Point has no Local Authorization List"),
    ], **NO_LOCAL_LIST, description="A Charge Point without LocalAuthListManagement answers "
                                    "GetLocalListVersion with -1 (1.6 §5.10)."),

    case("TC_043_1_CS", "Send Local Authorization List - NotSupported", "LocalAuthList", [
        Send("SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [
                 {"idTag": "OCTTCARD1", "idTagInfo": {"status": "Accepted"}}]},
             checks=[eq("status", "NotSupported")],
             title="SendLocalList: NotSupported, the Charge Point has no Local Authorization List"),
    ], **NO_LOCAL_LIST, description="A Charge Point without LocalAuthListManagement answers "
                                    "SendLocalList with NotSupported."),

    case("TC_043_3_CS", "Send Local Authorization List - Failed", "LocalAuthList", [
        Send("GetConfiguration", {"key": ["SendLocalListMaxLength"]},
             checks=[contains("configurationKey[*].key", "SendLocalListMaxLength")],
             save={"per_message": "configurationKey[0].value"},
             title="GetConfiguration SendLocalListMaxLength: how many cards one update may carry"),
        Send("SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": Calc(
                 lambda c: [{"idTag": f"OCTT{i:05d}", "idTagInfo": {"status": "Accepted"}}
                            for i in range(int(float(c.value("per_message"))) + 1)],
                 "<SendLocalListMaxLength>+1 cards")},
             checks=[eq("status", "Failed")],
             title="SendLocalList Full with one card more than SendLocalListMaxLength: Failed"),
    ], **LOCAL_LIST, description="An update larger than the Charge Point takes fails."),

    case("TC_061_CS", "Clear Authorization Data in Authorization Cache", "Core/Auth", [
        Send("ClearCache", {}, checks=[eq("status", "Accepted")]),
    ], description="The Charge Point empties its authorization cache on request."),

    case("TC_044_1_CS", "Firmware Update - Download and Install", "FirmwareMgmt", [
        *update_firmware("firmware_url", "UpdateFirmware with the test system's image",
                         "Downloading", "Downloaded", "Installing"),
        ExpectDisconnect(title="the Charge Point reboots to install", timeout=StepTimeoutPlus("transfer_time")),
        Connect(),
        Expect("BootNotification", title="BootNotification after the reboot (firmwareVersion "
                                         "is optional in 1.6, so not checked)"),
        Expect("StatusNotification", where={"connectorId": CONNECTOR},
               title="StatusNotification for the connector"),
        Expect("FirmwareStatusNotification", checks=[eq("status", "Installed")],
               title="FirmwareStatusNotification Installed, once rebooted"),
    ], **FIRMWARE, description="The Charge Point downloads the image, installs it, reboots and "
                               "reports Installed after its boot (1.6 §7.25)."),

    case("TC_044_3_CS", "Firmware Update - Installation Failed", "FirmwareMgmt", [
        *update_firmware("invalid_firmware_url",
                         "UpdateFirmware with an image the Charge Point cannot install",
                         "Downloading", "Downloaded", "Installing"),
        firmware_status("InstallationFailed", "FirmwareStatusNotification InstallationFailed"),
    ], **{**FIRMWARE, "preconditions": FIRMWARE["preconditions"] + " invalid_firmware_url is an "
                                      "image the Charge Point downloads but cannot install (by "
                                      "default an empty file)."},
        description="An image that cannot be installed is reported as InstallationFailed."),

    case("TC_044_2_CS", "Firmware Update - Download Failed", "FirmwareMgmt", [
        *update_firmware("missing_firmware_url",
                         "UpdateFirmware for an image the test system does not have", "Downloading"),
        firmware_status("DownloadFailed",
                        "FirmwareStatusNotification DownloadFailed (the image is not there)"),
    ], **FIRMWARE, description="A download that fails is reported as DownloadFailed."),

    case("TC_045_1_CS", "Get Diagnostics", "FirmwareMgmt", [
        Send("GetDiagnostics", {"location": V("upload_url"), "retries": 1},
             checks=[nonempty_str("fileName")], save={"file": "fileName"},
             title="GetDiagnostics to the test system's upload location: a file name"),
        Expect("DiagnosticsStatusNotification", checks=[eq("status", "Uploading")],
               timeout=StepTimeoutPlus("transfer_time")),
        Expect("DiagnosticsStatusNotification", checks=[eq("status", "Uploaded")],
               timeout=StepTimeoutPlus("transfer_time")),
    ], **FIRMWARE, description="The Charge Point uploads its diagnostics and reports it."),

    case("TC_045_2_CS", "Get Diagnostics - Upload Failed", "FirmwareMgmt", [
        Send("GetDiagnostics", {"location": Fmt("{upload_url}no/such/folder/"), "retries": 1},
             title="GetDiagnostics to a location that refuses uploads"),
        Expect("DiagnosticsStatusNotification", checks=[eq("status", "Uploading")],
               timeout=StepTimeoutPlus("transfer_time")),
        Expect("DiagnosticsStatusNotification", checks=[eq("status", "UploadFailed")],
               timeout=StepTimeoutPlus("transfer_time")),
    ], **FIRMWARE, description="An upload that fails is reported as UploadFailed."),

    secured_boot("TC_085_CS", "Basic Authentication - Valid username/password combination", "basic_auth",
                 basic_auth=True),
    secured_boot("TC_086_CS", "TLS - server-side certificate - Valid certificate", "tls", tls=True),
    secured_boot("TC_087_CS", "TLS - Client-side certificate - valid certificate", "client_cert", tls=True,
                 client_cert=True),
]
