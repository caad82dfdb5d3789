"""What the SIP driver listens on with ``--sip-local-address 127.0.0.1``, during a call.

docs/sip.md ("What listens where") is the contract: SIP itself (UDP, and the TCP and TLS
listeners) only on the configured address; on a wildcard address only what baresip 4 binds
there whatever its configuration: the DNS client's two query sockets (0.0.0.0 and [::]) and
each live call's RTP and RTCP pair. Anything else on a wildcard address fails this test.
"""

import asyncio
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, OriginateRequest
from dialer.settings import NetworkSettings, SipSettings
from dialer.testing.sipp import Number, SippCarrier

LISTENING = "0A"  # a TCP socket's state in /proc/net/tcp


def own_sockets() -> list[tuple[str, str, int]]:
    """(protocol, local address, port) of every UDP socket and listening TCP socket we hold."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for proto in ("udp", "udp6", "tcp", "tcp6"):
        for line in Path(f"/proc/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] not in inodes or (proto.startswith("tcp") and fields[3] != LISTENING):
                continue
            address, port = fields[1].split(":")
            found.append((proto, address, int(port, 16)))
    return found


WILDCARDS = {"00000000", "0" * 32}
LOOPBACK = "0100007F"


@pytest.fixture(scope="module")
def carrier() -> Iterator[SippCarrier]:
    with SippCarrier(trace_messages=False) as sipp:
        yield sipp


def test_sip_binds_the_local_address_and_only_dns_and_media_are_on_a_wildcard(
    carrier: SippCarrier,
) -> None:
    async def scenario() -> tuple[list[tuple[str, str, int]], list[tuple[str, str, int]]]:
        trunk = SipSettings(host=carrier.host, port=carrier.port, local_address="127.0.0.1")
        net = build_sip_network(NetworkSettings(kind="sip", sip=trunk), RealTimer())
        await net.start()
        idle = own_sockets()
        calls = [
            await net.originate(
                OriginateRequest(
                    number=Number.HUMAN,
                    caller_id="+441632960000",
                    ring_timeout=timedelta(seconds=10),
                    reference=f"sockets:{i}",
                )
            )
            for i in range(2)
        ]
        try:
            for call in calls:
                assert isinstance(await call.progress(), Answered)
            return idle, own_sockets()
        finally:
            for call in calls:
                await call.hangup()
            await net.close()

    idle, during = asyncio.run(scenario())
    for sockets in (idle, during):
        bound = [s for s in sockets if s[1] not in WILDCARDS]
        assert bound, "SIP listens somewhere"
        assert all(address == LOOPBACK for _, address, _ in bound), bound
        assert not [s for s in sockets if s[0].startswith("tcp") and s[1] in WILDCARDS]
    # At rest: the DNS client's two query sockets, nothing else on a wildcard.
    assert sorted(p for p, a, _ in idle if a in WILDCARDS) == ["udp", "udp6"]
    # During two calls: those two, and one RTP/RTCP pair (even port, the odd one above) each.
    media = sorted(port for p, a, port in during if a in WILDCARDS and p == "udp")
    dns = [port for p, a, port in idle if a in WILDCARDS and p == "udp"]
    media = [port for port in media if port not in dns]
    assert len(media) == 4, media
    assert all(media[i] % 2 == 0 and media[i + 1] == media[i] + 1 for i in (0, 2)), media
    assert sorted(p for p, a, _ in during if a in WILDCARDS) == ["udp"] * 5 + ["udp6"]
