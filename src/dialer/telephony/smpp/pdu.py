"""SMPP 3.4 PDUs: framing, the command ids and statuses we use, and encoders/decoders.

submit_sm and deliver_sm, the PDUs with many fields and TLVs, go through smpp34's codec
(docs/smpp.md says why that library); the small ones (binds, responses, enquire_link,
unbind, generic_nack) and data_sm's body are a few struct calls, written here.
"""

import asyncio
import struct
from dataclasses import dataclass, field

import smpp34

HEADER = struct.Struct("!IIII")
MAX_PDU = 64 * 1024  # far above any real PDU: a larger length means a broken stream

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
BIND_TRANSCEIVER = 0x00000009
ENQUIRE_LINK = 0x00000015
DATA_SM = 0x00000103
ALERT_NOTIFICATION = 0x00000102
RESPONSE = 0x80000000  # the bit every response's command id has

ESME_ROK = 0x00
STATUS_NAMES = {
    0x00: "ESME_ROK",
    0x01: "ESME_RINVMSGLEN",
    0x02: "ESME_RINVCMDLEN",
    0x03: "ESME_RINVCMDID",
    0x04: "ESME_RINVBNDSTS",
    0x05: "ESME_RALYBND",
    0x06: "ESME_RINVPRTFLG",
    0x07: "ESME_RINVREGDLVFLG",
    0x08: "ESME_RSYSERR",
    0x0A: "ESME_RINVSRCADR",
    0x0B: "ESME_RINVDSTADR",
    0x0C: "ESME_RINVMSGID",
    0x0D: "ESME_RBINDFAIL",
    0x0E: "ESME_RINVPASWD",
    0x0F: "ESME_RINVSYSID",
    0x11: "ESME_RCANCELFAIL",
    0x13: "ESME_RREPLACEFAIL",
    0x14: "ESME_RMSGQFUL",
    0x15: "ESME_RINVSERTYP",
    0x33: "ESME_RINVNUMDESTS",
    0x34: "ESME_RINVDLNAME",
    0x40: "ESME_RINVDESTFLAG",
    0x42: "ESME_RINVSUBREP",
    0x43: "ESME_RINVESMCLASS",
    0x44: "ESME_RCNTSUBDL",
    0x45: "ESME_RSUBMITFAIL",
    0x48: "ESME_RINVSRCTON",
    0x49: "ESME_RINVSRCNPI",
    0x50: "ESME_RINVDSTTON",
    0x51: "ESME_RINVDSTNPI",
    0x53: "ESME_RINVSYSTYP",
    0x54: "ESME_RINVREPFLAG",
    0x55: "ESME_RINVNUMMSGS",
    0x58: "ESME_RTHROTTLED",
    0x61: "ESME_RINVSCHED",
    0x62: "ESME_RINVEXPIRY",
    0x63: "ESME_RINVDFTMSGID",
    0x64: "ESME_RX_T_APPN",
    0x65: "ESME_RX_P_APPN",
    0x66: "ESME_RX_R_APPN",
    0x67: "ESME_RQUERYFAIL",
    0xC0: "ESME_RINVOPTPARSTREAM",
    0xC1: "ESME_ROPTPARNOTALLWD",
    0xC2: "ESME_RINVPARLEN",
    0xC3: "ESME_RMISSINGOPTPARAM",
    0xC4: "ESME_RINVOPTPARAMVAL",
    0xFE: "ESME_RDELIVERYFAILURE",
    0xFF: "ESME_RUNKNOWNERR",
}
ESME_RINVCMDID = 0x03
ESME_RSYSERR = 0x08
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427

TON_INTERNATIONAL = 1
TON_ALPHANUMERIC = 5
NPI_ISDN = 1


def status_name(status: int) -> str:
    """`ESME_RTHROTTLED (0x58)`: the name a carrier's documentation uses, and the code."""
    return f"{STATUS_NAMES.get(status, 'unknown status')} (0x{status:02x})"


@dataclass(frozen=True)
class Pdu:
    command_id: int
    status: int
    sequence: int
    body: bytes


def encode(command_id: int, sequence: int, body: bytes = b"", status: int = ESME_ROK) -> bytes:
    return HEADER.pack(HEADER.size + len(body), command_id, status, sequence) + body


async def read_pdu(reader: asyncio.StreamReader) -> Pdu:
    """The next PDU on the stream; IncompleteReadError at its end, ValueError if it is broken."""
    header = await reader.readexactly(HEADER.size)
    length, command_id, status, sequence = HEADER.unpack(header)
    if not HEADER.size <= length <= MAX_PDU:
        raise ValueError(f"a PDU of {length} bytes")
    body = await reader.readexactly(length - HEADER.size)
    return Pdu(command_id, status, sequence, body)


def c_string(value: str) -> bytes:
    return value.encode("ascii", errors="replace") + b"\x00"


def read_c_string(body: bytes, offset: int) -> tuple[str, int]:
    end = body.index(b"\x00", offset)
    return body[offset:end].decode("latin-1"), end + 1


def bind_body(system_id: str, password: str, system_type: str) -> bytes:
    # interface_version 0x34, then addr_ton, addr_npi and an empty address_range
    return c_string(system_id) + c_string(password) + c_string(system_type) + b"\x34\x00\x00\x00"


@dataclass(frozen=True)
class Bind:
    system_id: str
    password: str
    system_type: str


def parse_bind(body: bytes) -> Bind:
    system_id, offset = read_c_string(body, 0)
    password, offset = read_c_string(body, offset)
    system_type, _ = read_c_string(body, offset)
    return Bind(system_id, password, system_type)


def message_id_body(message_id: str) -> bytes:
    return c_string(message_id)


def parse_message_id(body: bytes) -> str:
    """submit_sm_resp's message_id; an error response may carry no body at all."""
    if not body:
        return ""
    return read_c_string(body, 0)[0] if b"\x00" in body else body.decode("latin-1")


@dataclass
class ShortMessage:
    """A submit_sm, deliver_sm or data_sm's fields that matter here."""

    source_addr: str
    source_ton: int
    destination_addr: str
    destination_ton: int
    esm_class: int
    data_coding: int
    registered_delivery: int
    short_message: bytes
    tlvs: dict[int, bytes] = field(default_factory=dict)

    def body(self) -> bytes:
        """The message: short_message, or message_payload when short_message is empty."""
        return self.short_message or self.tlvs.get(TLV_MESSAGE_PAYLOAD, b"")


def encode_short_message(command_id: int, sequence: int, message: ShortMessage) -> bytes:
    """A submit_sm or a deliver_sm (the test server's receipts and inbound texts)."""
    kind = smpp34.SubmitSm if command_id == SUBMIT_SM else smpp34.DeliverSm
    pdu = kind(
        message.source_addr,
        message.destination_addr,
        message.short_message,
        source_addr_ton=message.source_ton,
        source_addr_npi=NPI_ISDN if message.source_ton == TON_INTERNATIONAL else 0,
        dest_addr_ton=message.destination_ton,
        dest_addr_npi=NPI_ISDN if message.destination_ton == TON_INTERNATIONAL else 0,
        esm_class=message.esm_class,
        registered_delivery=message.registered_delivery,
        data_coding=message.data_coding,
        tlvs=[smpp34.Tlv(tag, value) for tag, value in message.tlvs.items()],
        sequence_number=sequence,
    )
    return pdu.encode()


def decode_short_message(pdu: Pdu) -> ShortMessage:
    """A submit_sm or deliver_sm (through smpp34's codec), or a data_sm (parsed here)."""
    if pdu.command_id == DATA_SM:
        return _decode_data_sm(pdu.body)
    decoded = smpp34.decode(encode(pdu.command_id, pdu.sequence, pdu.body, pdu.status))
    if isinstance(decoded, smpp34.RawPdu):
        raise ValueError(f"command 0x{pdu.command_id:08x} is not a short message")
    return ShortMessage(
        decoded.source_addr,
        decoded.source_addr_ton,
        decoded.destination_addr,
        decoded.dest_addr_ton,
        decoded.esm_class,
        decoded.data_coding,
        decoded.registered_delivery,
        decoded.short_message,
        {tlv.tag: tlv.value for tlv in decoded.tlvs},
    )


def _decode_data_sm(body: bytes) -> ShortMessage:
    _service_type, offset = read_c_string(body, 0)
    source_ton = body[offset]
    source_addr, offset = read_c_string(body, offset + 2)
    destination_ton = body[offset]
    destination_addr, offset = read_c_string(body, offset + 2)
    esm_class, registered_delivery, data_coding = body[offset : offset + 3]
    return ShortMessage(
        source_addr,
        source_ton,
        destination_addr,
        destination_ton,
        esm_class,
        data_coding,
        registered_delivery,
        b"",
        parse_tlvs(body[offset + 3 :]),
    )


def parse_tlvs(data: bytes) -> dict[int, bytes]:
    tlvs: dict[int, bytes] = {}
    offset = 0
    while offset + 4 <= len(data):
        tag, length = struct.unpack_from("!HH", data, offset)
        tlvs[tag] = data[offset + 4 : offset + 4 + length]
        offset += 4 + length
    return tlvs


def encode_data_sm_body(message: ShortMessage) -> bytes:
    """A data_sm's body: the text travels in message_payload (data_sm has no short_message)."""
    tlvs = dict(message.tlvs)
    if message.short_message:
        tlvs[TLV_MESSAGE_PAYLOAD] = message.short_message
    return (
        c_string("")
        + bytes((message.source_ton, NPI_ISDN if message.source_ton == TON_INTERNATIONAL else 0))
        + c_string(message.source_addr)
        + bytes(
            (
                message.destination_ton,
                NPI_ISDN if message.destination_ton == TON_INTERNATIONAL else 0,
            )
        )
        + c_string(message.destination_addr)
        + bytes((message.esm_class, message.registered_delivery, message.data_coding))
        + b"".join(struct.pack("!HH", tag, len(value)) + value for tag, value in tlvs.items())
    )
