"""SMPP 3.4: the provider that sends texts through a carrier's SMSC (docs/smpp.md)."""

from dialer.telephony.smpp.provider import SmppProvider

__all__ = ["SmppProvider"]
