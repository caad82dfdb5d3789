"""A text as SMPP carries it: GSM 03.38 or UCS-2 chosen by the text, split into concatenated
parts (a UDH with an 8-bit reference) when it does not fit one message.

GSM 03.38 is sent unpacked (one septet per byte, data_coding 0), as SMPP 3.4 carriers expect
for the SMSC default alphabet; UCS-2 (data_coding 8) is UTF-16-BE, so characters outside the
Basic Multilingual Plane (emoji) travel as surrogate pairs and count two.
"""

import zlib
from dataclasses import dataclass

DATA_CODING_GSM = 0x00
DATA_CODING_LATIN1 = 0x03
DATA_CODING_UCS2 = 0x08
ESM_CLASS_UDHI = 0x40  # the short_message starts with a user data header

GSM_SINGLE = 160  # septets in one message
GSM_PART = 153  # septets per part once the 6-byte UDH is in (7 septets)
UCS2_SINGLE = 70  # UTF-16 code units
UCS2_PART = 67
ESCAPE = 0x1B

# GSM 03.38 basic table, code point = index; "\x1b" at 0x1B is the escape to the extension table.
_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_ENCODE_BASIC = {char: code for code, char in enumerate(_BASIC) if code != ESCAPE}
_DECODE_BASIC = dict(enumerate(_BASIC))
_DECODE_EXTENSION = {code: char for char, code in _EXTENSION.items()}
assert len(_BASIC) == 128
_ENCODE = {char: bytes((code,)) for char, code in _ENCODE_BASIC.items()} | {
    char: bytes((ESCAPE, code)) for char, code in _EXTENSION.items()
}
_DECODE = [_BASIC[byte & 0x7F] for byte in range(256)]  # the eighth bit is not a septet's


@dataclass(frozen=True)
class Part:
    """One submit_sm's worth of a text."""

    short_message: bytes  # the UDH included when esm_class has UDHI
    esm_class: int
    data_coding: int
    text: str  # this part's characters, for logs and the test server's checks


def is_gsm(text: str) -> bool:
    return all(char in _ENCODE for char in text)


def gsm_encode(text: str) -> bytes:
    return b"".join(map(_ENCODE.__getitem__, text))


def gsm_decode(data: bytes) -> str:
    """Unpacked septets to text; an unknown extension code reads as a space (GSM 03.38's rule)."""
    if ESCAPE not in data:
        return "".join(map(_DECODE.__getitem__, data))
    chars: list[str] = []
    escaped = False
    for byte in data:
        code = byte & 0x7F
        if escaped:
            chars.append(_DECODE_EXTENSION.get(code, " "))
            escaped = False
        elif code == ESCAPE:
            escaped = True
        else:
            chars.append(_DECODE_BASIC[code])
    return "".join(chars)


def decode(data: bytes, data_coding: int) -> str:
    """A received short_message (its UDH removed) as text, by its data_coding."""
    if data_coding == DATA_CODING_UCS2:
        return data.decode("utf-16-be", errors="replace")
    if data_coding == DATA_CODING_LATIN1:
        return data.decode("latin-1")
    if data_coding == 0x01:  # IA5 / ASCII
        return data.decode("ascii", errors="replace")
    return gsm_decode(data)


def concat_reference(message_id: str) -> int:
    """The 8-bit concatenation reference, from our message id: a resent text carries the same
    reference, so a handset that got some parts the first time can join the two sends."""
    return zlib.crc32(message_id.encode()) & 0xFF


def split(text: str, message_id: str) -> list[Part]:
    """The parts `text` is sent as: one when it fits, else 153-septet or 67-unit parts that
    never cut a GSM escape pair or a UTF-16 surrogate pair."""
    if is_gsm(text):
        whole = gsm_encode(text)
        if len(whole) <= GSM_SINGLE:
            return [Part(whole, 0, DATA_CODING_GSM, text)]
        units = [_ENCODE[char] for char in text]
        per_part, coding = GSM_PART, DATA_CODING_GSM
    else:
        whole = text.encode("utf-16-be")
        if len(whole) <= UCS2_SINGLE * 2:
            return [Part(whole, 0, DATA_CODING_UCS2, text)]
        units = [char.encode("utf-16-be") for char in text]
        per_part, coding = UCS2_PART * 2, DATA_CODING_UCS2
    chunks: list[tuple[bytes, str]] = []
    body = bytearray()
    chars: list[str] = []
    for char, unit in zip(text, units, strict=True):
        if len(body) + len(unit) > per_part:
            chunks.append((bytes(body), "".join(chars)))
            body, chars = bytearray(), []
        body += unit
        chars.append(char)
    chunks.append((bytes(body), "".join(chars)))
    if len(chunks) > 255:
        raise ValueError("a text longer than 255 parts cannot be concatenated")
    reference = concat_reference(message_id)
    return [
        Part(bytes((5, 0, 3, reference, len(chunks), index)) + chunk, ESM_CLASS_UDHI, coding, words)
        for index, (chunk, words) in enumerate(chunks, start=1)
    ]


@dataclass(frozen=True)
class Concatenation:
    reference: int
    total: int
    index: int


def strip_udh(short_message: bytes, esm_class: int) -> tuple[bytes, Concatenation | None]:
    """The message body without its UDH, and the concatenation element if there is one
    (8-bit IEI 0x00 or 16-bit IEI 0x08 reference)."""
    if not esm_class & ESM_CLASS_UDHI or not short_message:
        return short_message, None
    header_length = short_message[0]
    header = short_message[1 : 1 + header_length]
    body = short_message[1 + header_length :]
    position = 0
    while position + 2 <= len(header):
        iei, length = header[position], header[position + 1]
        value = header[position + 2 : position + 2 + length]
        if iei == 0x00 and length == 3:
            return body, Concatenation(value[0], value[1], value[2])
        if iei == 0x08 and length == 4:
            return body, Concatenation(int.from_bytes(value[:2], "big"), value[2], value[3])
        position += 2 + length
    return body, None
