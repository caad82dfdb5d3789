"""Which calls have heard any provisional response (100 Trying included), from the SIP trace.

baresip-python reports 180 and 183 as events but never a bare 100 Trying, and "no provisional
response within a few seconds" must mean the carrier said nothing at all: a carrier that sends
100 and then takes ten seconds to ring is slow, not absent. The stack's SIP trace carries every
message, so this handler reads it: our INVITEs tie a Call-ID to the attempt's reference (we
send it in X-Dialer-Reference), and any 1xx with that Call-ID marks the attempt as heard.

The handler runs on the binding's log thread, hence the lock.
"""

import logging
import re
import threading

REFERENCE_HEADER = "X-Dialer-Reference"
_CALL_ID = re.compile(r"^(?:Call-ID|i)\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_REFERENCE = re.compile(rf"^{REFERENCE_HEADER}\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_PROVISIONAL = re.compile(r"^SIP/2\.0 1\d\d ", re.MULTILINE)
# A trace line is "TX UDP a -> b" or "RX UDP a -> b", then the message.
_MAX_TRACKED = 100_000


class ProvisionalWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._guard = threading.Lock()
        self._reference_by_call_id: dict[str, str] = {}
        self._heard: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        direction, _, message = text.partition("\n")
        call_id = _CALL_ID.search(message)
        if call_id is None:
            return
        if direction.startswith("TX") and message.startswith("INVITE "):
            reference = _REFERENCE.search(message)
            if reference is not None:
                with self._guard:
                    if len(self._reference_by_call_id) >= _MAX_TRACKED:
                        self._reference_by_call_id.clear()  # a leak guard; calls forget() first
                    self._reference_by_call_id[call_id.group(1)] = reference.group(1)
        elif direction.startswith("RX") and _PROVISIONAL.match(message):
            with self._guard:
                reference_of = self._reference_by_call_id.get(call_id.group(1))
                if reference_of is not None:
                    self._heard.add(reference_of)

    def heard(self, reference: str) -> bool:
        with self._guard:
            return reference in self._heard

    def forget(self, reference: str) -> None:
        with self._guard:
            self._heard.discard(reference)
            stale = [cid for cid, ref in self._reference_by_call_id.items() if ref == reference]
            for cid in stale:
                del self._reference_by_call_id[cid]
