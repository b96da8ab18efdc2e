"""Your own conformance cases, next to the OCTT catalogue: a list named CASES of Case objects,
written with the same steps and checks as the catalogue (inspector.conformance.model; see
inspector/conformance/README.md and testsuites/ for many more).

    ocpp-inspector suite list --cases examples/cases/my_cases.py
    ocpp-inspector suite run --version 1.6 --sut charger --listen 0.0.0.0:9000 --cases examples/cases/my_cases.py
"""

from inspector.conformance.model import (Case, Connect, Expect, Prompt, Send, answer, eq,
                                         nonempty_str)

CASES = [
    Case("MY_CS_001", "The charger names its vendor and model when it boots", "1.6", "charger",
         "My checks", [
             Prompt("Power-cycle (or reboot) the charger so that it connects to {url}<id> "
                    "and boots", action="reboot"),  # --simulate-sut: the simulator does it
             Connect(),
             Expect("BootNotification",
                    checks=[nonempty_str("chargePointVendor"), nonempty_str("chargePointModel")],
                    reply=answer(status="Accepted", interval=300)),
         ], before="none",
         description="A fleet operator's rule: every charger reports who made it."),
    Case("MY_CS_002", "A new heartbeat interval is accepted and reads back", "1.6", "charger",
         "My checks", [
             Send("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"},
                  checks=[eq("status", "Accepted")]),
             Send("GetConfiguration", {"key": ["HeartbeatInterval"]},
                  checks=[eq("configurationKey[0].value", "120")]),
         ]),
]
