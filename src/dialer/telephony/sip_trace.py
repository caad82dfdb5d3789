"""Which calls have heard any provisional response (100 Trying included), from the SIP trace.

baresip-python reports 180 and 183 as events but never a bare 100 Trying, and "no provisional
response within a few seconds" must mean the carrier said nothing at all: a carrier that sends
100 and then takes ten seconds to ring is slow, not absent. The stack's SIP trace carries every
message, so this handler reads it: our INVITEs tie a Call-ID to the attempt's reference (we
send it in X-Dialer-Reference), and any 1xx with that Call-ID marks the attempt as heard.

It also follows our client transactions, so that shutdown can wait for them (``open``): a
request we sent is open until its final response, and an INVITE that was answered at all until
we ACK its final response (the 487 after our CANCEL above all). An INVITE nothing answered is
not waited for: the stack abandons it, and nothing at the far end waits for us.

The handler runs on the binding's log thread, hence the lock.
"""

import logging
import re
import threading
import time

REFERENCE_HEADER = "X-Dialer-Reference"
_CALL_ID = re.compile(r"^(?:Call-ID|i)\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_REFERENCE = re.compile(rf"^{REFERENCE_HEADER}\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_PROVISIONAL = re.compile(r"^SIP/2\.0 1\d\d ", re.MULTILINE)
_STATUS = re.compile(r"^SIP/2\.0 (\d\d\d) ")
_CSEQ = re.compile(r"^CSeq\s*:\s*(\d+)\s+(\S+)", re.IGNORECASE | re.MULTILINE)
# A trace line is "TX UDP a -> b" or "RX UDP a -> b", then the message.
_MAX_TRACKED = 100_000
_TRANSACTION_SECONDS = 32.0  # 64 x T1: no client transaction outlives this unanswered


class ProvisionalWatch(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._guard = threading.Lock()
        self._reference_by_call_id: dict[str, str] = {}
        self._heard: set[str] = set()
        # (Call-ID, CSeq number, method) of our requests still waiting for an end, and the
        # INVITEs among them that have been answered at all.
        self._open: dict[tuple[str, str, str], float] = {}
        self._answered_invites: set[tuple[str, str, str]] = set()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        direction, _, message = text.partition("\n")
        call_id = _CALL_ID.search(message)
        if call_id is None:
            return
        self._follow(direction, message, call_id.group(1))
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

    def _follow(self, direction: str, message: str, call_id: str) -> None:
        cseq = _CSEQ.search(message)
        if cseq is None:
            return
        key = (call_id, cseq.group(1), cseq.group(2).upper())
        status = _STATUS.match(message)
        with self._guard:
            if direction.startswith("TX") and status is None:
                if key[2] == "ACK":  # the end of an INVITE transaction, 2xx or not
                    invite = (call_id, key[1], "INVITE")
                    self._open.pop(invite, None)
                    self._answered_invites.discard(invite)
                else:
                    if len(self._open) >= _MAX_TRACKED:
                        self._prune()
                    self._open.setdefault(key, time.monotonic())
            elif direction.startswith("RX") and status is not None and key in self._open:
                if key[2] == "INVITE":
                    self._answered_invites.add(key)  # open until we ACK its final response
                elif int(status.group(1)) >= 200:
                    self._open.pop(key, None)

    def _prune(self) -> None:
        """Forget what the stack itself has given up on: a request unanswered for longer than
        its transaction may live (64 T1), or an INVITE nothing ever answered."""
        stale = time.monotonic() - _TRANSACTION_SECONDS
        for key, opened in list(self._open.items()):
            if opened < stale and (key[2] != "INVITE" or key not in self._answered_invites):
                del self._open[key]

    def open(self) -> int:
        """Our transactions the far end is still waiting on us to finish (see the docstring)."""
        with self._guard:
            self._prune()
            return sum(1 for key in self._open if key[2] != "INVITE") + len(self._answered_invites)

    def heard(self, reference: str) -> bool:
        with self._guard:
            return reference in self._heard

    def forget(self, reference: str) -> None:
        with self._guard:
            self._heard.discard(reference)
            stale = [cid for cid, ref in self._reference_by_call_id.items() if ref == reference]
            for cid in stale:
                del self._reference_by_call_id[cid]
