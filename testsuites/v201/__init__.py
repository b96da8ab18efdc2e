"""OCPP 2.0.1 cases: `charger` (TC_X_NN_CS, the engine plays the CSMS) and `csms`
(TC_X_NN_CSMS, the engine plays the Charging Station)."""
