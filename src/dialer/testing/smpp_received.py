"""What the test SMSC took: each submit_sm, and the texts they join into."""

from dataclasses import dataclass, field
from datetime import datetime

from dialer.telephony.smpp.text import Concatenation


@dataclass(frozen=True)
class ReceivedPart:
    """One submit_sm as the server read it."""

    message_id: str
    source: str
    source_ton: int
    destination: str
    esm_class: int
    data_coding: int
    registered_delivery: int
    text: str  # this part's text, its UDH removed
    concatenation: Concatenation | None
    at: datetime
    answered: bool  # False when the connection was dropped before its submit_sm_resp


@dataclass
class ReceivedMessage:
    """A whole text, its parts joined in order."""

    source: str
    source_ton: int
    destination: str
    data_coding: int
    text: str
    message_ids: list[str]


@dataclass
class Received:
    parts: list[ReceivedPart] = field(default_factory=list)
    messages: list[ReceivedMessage] = field(default_factory=list)
    _fragments: dict[tuple[str, str, int], dict[int, ReceivedPart]] = field(default_factory=dict)

    def add(self, part: ReceivedPart) -> str:
        """Keep a part; join a long text once all its parts are in. Returns the text as far as
        it is known, for the part's receipt (which quotes the start of the whole text)."""
        self.parts.append(part)
        if part.concatenation is None or part.concatenation.total <= 1:
            self.messages.append(_message([part]))
            return part.text
        key = (part.source, part.destination, part.concatenation.reference)
        parts = self._fragments.setdefault(key, {})
        parts[part.concatenation.index] = part
        ordered = [parts[index] for index in sorted(parts)]
        if len(parts) == part.concatenation.total:
            del self._fragments[key]
            self.messages.append(_message(ordered))
        return "".join(p.text for p in ordered)


def _message(parts: list[ReceivedPart]) -> ReceivedMessage:
    first = parts[0]
    return ReceivedMessage(
        first.source,
        first.source_ton,
        first.destination,
        first.data_coding,
        "".join(p.text for p in parts),
        [p.message_id for p in parts],
    )
