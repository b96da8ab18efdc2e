"""OCPP Inspector core: codec, validation, frame log and roles. No Qt here."""

__version__ = "0.1.0"
