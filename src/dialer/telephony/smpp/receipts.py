"""What a deliver_sm or data_sm brings: a delivery receipt for one of our parts, or a text a
person sent. Receipts are read from the TLVs (receipted_message_id, message_state) when the
carrier sends them, else from the text SMPP 3.4's appendix B describes:
``id:IIII sub:001 dlvrd:001 submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DELIVRD err:000
text:first 20 chars``."""

import re
from datetime import datetime

from dialer.domain.sms import DeliveryReport, DeliveryState, InboundSms
from dialer.telephony.smpp import pdu, text

# esm_class bits 2-5: 0x04 SMSC delivery receipt, 0x20 intermediate delivery notification
_RECEIPT_TYPES = {0x04, 0x20}
_RECEIPT_TYPE_MASK = 0x3C

_FIELD = re.compile(r"(id|sub|dlvrd|submit date|done date|stat|err):(\S*)", re.IGNORECASE)
_TEXT = re.compile(r"\btext:(.*)\Z", re.IGNORECASE | re.DOTALL)

_STAT = {
    "ENROUTE": DeliveryState.ENROUTE,
    "DELIVRD": DeliveryState.DELIVERED,
    "DELIVERED": DeliveryState.DELIVERED,
    "EXPIRED": DeliveryState.EXPIRED,
    "DELETED": DeliveryState.DELETED,
    "UNDELIV": DeliveryState.UNDELIVERABLE,
    "UNDELIVERABLE": DeliveryState.UNDELIVERABLE,
    # ACCEPTD: the spec's "read by customer service", which carriers also use for "accepted
    # by the SMSC": not taken as final either way.
    "ACCEPTD": DeliveryState.ENROUTE,
    "UNKNOWN": DeliveryState.UNKNOWN,
    "REJECTD": DeliveryState.REJECTED,
    "REJECTED": DeliveryState.REJECTED,
}
# message_state TLV values (SMPP 3.4, 5.2.28)
_MESSAGE_STATE = {
    1: DeliveryState.ENROUTE,
    2: DeliveryState.DELIVERED,
    3: DeliveryState.EXPIRED,
    4: DeliveryState.DELETED,
    5: DeliveryState.UNDELIVERABLE,
    6: DeliveryState.ENROUTE,
    7: DeliveryState.UNKNOWN,
    8: DeliveryState.REJECTED,
}
STATE_CODES = {state: code for code, state in _MESSAGE_STATE.items() if code != 6}
STAT_WORDS = {
    DeliveryState.ENROUTE: "ENROUTE",
    DeliveryState.DELIVERED: "DELIVRD",
    DeliveryState.EXPIRED: "EXPIRED",
    DeliveryState.DELETED: "DELETED",
    DeliveryState.UNDELIVERABLE: "UNDELIV",
    DeliveryState.UNKNOWN: "UNKNOWN",
    DeliveryState.REJECTED: "REJECTD",
}


def is_receipt(message: pdu.ShortMessage) -> bool:
    return message.esm_class & _RECEIPT_TYPE_MASK in _RECEIPT_TYPES


def e164(address: str, ton: int) -> str:
    """A number as the domain writes it: international ones with their +."""
    if ton == pdu.TON_INTERNATIONAL and address.isdigit():
        return "+" + address
    return address


def receipt_text(
    provider_id: str, state: DeliveryState, error: str, original: str, when: datetime
) -> str:
    """The appendix B receipt text (the test server sends it; carriers send the same shape)."""
    stamp = when.strftime("%y%m%d%H%M")
    return (
        f"id:{provider_id} sub:001 dlvrd:{'001' if state is DeliveryState.DELIVERED else '000'} "
        f"submit date:{stamp} done date:{stamp} stat:{STAT_WORDS[state]} err:{error} "
        f"text:{original[:20]}"
    )


def parse_receipt(message: pdu.ShortMessage, at: datetime) -> DeliveryReport:
    """A receipt's fields; the TLVs win over the text where both are given. `at` is when it
    reached us: the receipt's own dates are in the carrier's local time, without a zone."""
    words = text.decode(text.strip_udh(message.body(), message.esm_class)[0], message.data_coding)
    prefix = _TEXT.search(words)
    # the quoted text may itself hold "stat:" or "id:": only what comes before it is read
    head = words[: prefix.start()] if prefix else words
    fields = {name.lower(): value for name, value in _FIELD.findall(head)}
    provider_id = fields.get("id", "")
    if pdu.TLV_RECEIPTED_MESSAGE_ID in message.tlvs:
        provider_id = message.tlvs[pdu.TLV_RECEIPTED_MESSAGE_ID].rstrip(b"\x00").decode("latin-1")
    state = _STAT.get(fields.get("stat", "").upper(), DeliveryState.UNKNOWN)
    state_tlv = message.tlvs.get(pdu.TLV_MESSAGE_STATE, b"")
    if len(state_tlv) == 1 and state_tlv[0] in _MESSAGE_STATE:
        state = _MESSAGE_STATE[state_tlv[0]]
    error = fields.get("err", "")
    network_error = message.tlvs.get(pdu.TLV_NETWORK_ERROR_CODE, b"")
    if len(network_error) == 3 and not error.strip("0"):
        error = f"network {network_error[0]}:{int.from_bytes(network_error[1:], 'big')}"
    if error and not error.strip("0"):
        error = ""  # err:000 is "no error"
    return DeliveryReport(
        provider_id=provider_id,
        state=state,
        at=at,
        error=error,
        # a receipt travels back: its source is the handset the text went to
        recipient=e164(message.source_addr, message.source_ton) or None,
        text_prefix=prefix.group(1) if prefix else None,
    )


def parse_inbound(body: bytes, message: pdu.ShortMessage, at: datetime) -> InboundSms:
    """A person's text; `body` is the whole text, its parts joined when it came in several."""
    return InboundSms(
        sender=e164(message.source_addr, message.source_ton),
        recipient=e164(message.destination_addr, message.destination_ton),
        text=text.decode(body, message.data_coding),
        at=at,
    )
