"""The SIP trace watch: which of our transactions the far end still waits on us to finish."""

import logging

from dialer.telephony.sip_trace import ProvisionalWatch


def message(direction: str, first_line: str, cseq: str, call_id: str = "c1") -> logging.LogRecord:
    text = f"{direction} UDP 127.0.0.1:5062 -> 127.0.0.1:5060\n{first_line}\r\n"
    text += f"Call-ID: {call_id}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n\r\n"
    return logging.LogRecord("baresip.native.sip", logging.DEBUG, "", 0, text, None, None)


def feed(watch: ProvisionalWatch, *records: logging.LogRecord) -> None:
    for record in records:
        watch.emit(record)


def test_a_cancelled_invite_is_open_until_its_487_is_acked() -> None:
    watch = ProvisionalWatch()
    feed(watch, message("TX", "INVITE sip:1@h SIP/2.0", "7 INVITE"))
    assert watch.open() == 0, "an INVITE nothing answered is the stack's to abandon"
    feed(watch, message("RX", "SIP/2.0 180 Ringing", "7 INVITE"))
    assert watch.open() == 1
    feed(watch, message("TX", "CANCEL sip:1@h SIP/2.0", "7 CANCEL"))
    assert watch.open() == 2
    feed(watch, message("RX", "SIP/2.0 200 OK", "7 CANCEL"))
    feed(watch, message("RX", "SIP/2.0 487 Request Terminated", "7 INVITE"))
    assert watch.open() == 1, "the 487 still waits for our ACK"
    feed(watch, message("TX", "ACK sip:1@h SIP/2.0", "7 ACK"))
    assert watch.open() == 0


def test_a_bye_is_open_until_its_final_response() -> None:
    watch = ProvisionalWatch()
    feed(watch, message("TX", "BYE sip:1@h SIP/2.0", "9 BYE", call_id="c2"))
    feed(watch, message("RX", "SIP/2.0 100 Trying", "9 BYE", call_id="c2"))
    assert watch.open() == 1
    feed(watch, message("RX", "SIP/2.0 200 OK", "9 BYE", call_id="c2"))
    assert watch.open() == 0


def test_requests_from_the_far_end_are_not_ours_to_finish() -> None:
    watch = ProvisionalWatch()
    feed(watch, message("RX", "BYE sip:d@h SIP/2.0", "3 BYE"))
    feed(watch, message("TX", "SIP/2.0 200 OK", "3 BYE"))
    assert watch.open() == 0
