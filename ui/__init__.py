"""OCPP Inspector desktop application (PySide6). The core lives in `inspector/` and has no Qt.

Qt-free helpers used by the views (and unit-testable without a display):
`framestore` (columnar frame log with vectorised filters), `metering` (MeterValues
parsing and unit normalisation) and `session` (connections and meter series state).
"""
