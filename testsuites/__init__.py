"""The conformance catalog: OCTT-style cases for OCPP 1.6 and 2.0.1, both SUT kinds.

Each module builds `inspector.conformance.model.Case` objects from the spec's intent;
IDs and titles follow the Open Charge Alliance test tool (OCTT). `RPC_*` cases are our own
checks of the OCPP-J RPC framework. Run them with `ocpp-inspector suite run`.
"""

from __future__ import annotations


def all_cases() -> list:
    from . import rpc
    from .v16 import charger as v16_charger, csms as v16_csms
    from .v201 import charger as v201_charger, csms as v201_csms
    cases = []
    for version, module_charger, module_csms in (("1.6", v16_charger, v16_csms),
                                                  ("2.0.1", v201_charger, v201_csms)):
        cases += module_charger.CASES + rpc.cases(version, "charger")
        cases += module_csms.CASES + rpc.cases(version, "csms")
    return cases
