"""OCPP 1.6 cases: `charger` (TC_xxx_CS, the engine plays the Central System) and
`csms` (TC_xxx_CSMS, the engine plays the Charge Point)."""
