"""The agents' test phone itself (dialer.testing.sipp_phone, sipp/phone.xml): what it logs when a
call goes wrong, and that a failing test's report shows that log (dialer.testing.sipp_report).

The calls here are a few hand-written SIP requests over UDP, not the SIP driver: baresip allows
one runtime per process, and the phone's own behaviour is what is under test.
"""

import socket
import textwrap
from collections.abc import Iterator

import pytest

from dialer.testing.sipp_phone import PhoneCall, SippPhone


@pytest.fixture
def udp() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(10.0)
    yield sock
    sock.close()


def request(method: str, user: str, phone: SippPhone, sock: socket.socket, cseq: int) -> bytes:
    host, port = sock.getsockname()
    body = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
        if method == "INVITE"
        else ""
    )
    lines = [
        f"{method} sip:{user}@{phone.host}:{phone.port} SIP/2.0",
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-test-{method.lower()}",
        f"From: <sip:tester@{host}>;tag=tester",
        f"To: <sip:{user}@{phone.host}>",
        "Call-ID: phone-test-call",
        f"CSeq: {cseq} {method}",
        f"Contact: <sip:tester@{host}:{port}>",
        "Max-Forwards: 70",
        *(["Content-Type: application/sdp"] if body else []),
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def receive(sock: socket.socket, first_line: str) -> str:
    """The next message starting with ``first_line`` (retransmissions of others skipped)."""
    while True:
        message = sock.recv(65535).decode("latin-1")
        if message.startswith(first_line):
            return message


def test_a_call_left_up_past_max_call_seconds_is_hung_up_and_logged(udp: socket.socket) -> None:
    with SippPhone(max_call_seconds=0.3) as phone:
        call = PhoneCall(tone=0)
        udp.sendto(request("INVITE", call.user, phone, udp, 1), (phone.host, phone.port))
        answer = receive(udp, "SIP/2.0 200")
        to = next(line for line in answer.split("\r\n") if line.startswith("To:"))
        ack = request("ACK", call.user, phone, udp, 1).replace(
            f"To: <sip:{call.user}@{phone.host}>".encode(), to.encode()
        )
        udp.sendto(ack, (phone.host, phone.port))
        receive(udp, "BYE ")  # nobody hung up within max_call_seconds: the phone does
        assert "no BYE from the dialer within 300 ms" in phone.errors()
        assert call.user in phone.errors()


def test_a_failing_test_shows_the_error_log_of_each_running_sipp(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import socket
            import time

            import pytest

            from dialer.testing.sipp_phone import SippPhone


            @pytest.fixture(scope="module")
            def phone():
                with SippPhone() as phone:
                    yield phone


            def misdial(phone, call_id):
                # An INVITE whose Request-URI says nothing the scenario can read.
                invite = (
                    f"INVITE sip:nobody@{phone.host}:{phone.port} SIP/2.0\\r\\n"
                    "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-x\\r\\n"
                    "From: <sip:a@127.0.0.1>;tag=a\\r\\nTo: <sip:nobody@127.0.0.1>\\r\\n"
                    f"Call-ID: {call_id}\\r\\nCSeq: 1 INVITE\\r\\n"
                    "Content-Length: 0\\r\\n\\r\\n"
                )
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.sendto(invite.encode(), (phone.host, phone.port))
                deadline = time.monotonic() + 10
                while call_id not in phone.errors() and time.monotonic() < deadline:
                    time.sleep(0.02)


            def test_a_module_phone(phone):
                misdial(phone, "misdialled-on-the-module-phone")
                assert False, "the dialer did something wrong"


            def test_a_phone_of_its_own():
                with SippPhone() as own:
                    misdial(own, "misdialled-on-its-own-phone")
                assert False, "the dialer did something wrong"


            def test_passes_and_shows_nothing(phone):
                assert True
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "dialer.testing.sipp_report", "-rN")
    result.assert_outcomes(passed=1, failed=2)
    out = result.stdout.str()
    # Each failure shows the log of the phone it used: running (a module's), or stopped.
    assert out.count("SIPp: the SIPp phone on port") == 2, out
    first, second = out.split("test_a_phone_of_its_own ___")
    assert "misdialled-on-the-module-phone" in first
    assert "misdialled-on-its-own-phone" not in first
    assert "misdialled-on-its-own-phone" in second
