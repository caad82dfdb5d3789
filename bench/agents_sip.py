"""Bridged agents over SIP on loopback: one dialer process (the SIP driver) holding N agents'
phone legs on one SIPp phone and N customers on another (the trunk), bridged in pairs.

Each agent's phone sends 1200 Hz and each customer 700 Hz, so audio flows both ways through
every bridge. All N bridges start together (the moment ``bridge()`` is called stands in for
the detector's verdict), are held ``--hold`` seconds, then released and every call hung up.

Prints the pairs bridged at once, failures (a leg or a customer not answering, a bridge ending
early, no customer audio reaching the agent's leg), CPU per pair (this process's CPU time over
the hold / pairs / seconds, as a share of one core), and bridge start -> the customer's first
audio handed to the agent's leg (after the bridge tone) p50/p95; with ``--ear``, also until
that audio arrives at the agent's phone as RTP (baresip's encoding and packetisation added).
The ears (one RTP listener per agent's phone, decoding what arrives) run in a process of their
own, so they neither slow the dialer's media clock nor count in its CPU.

    .venv/bin/python bench/agents_sip.py [--pairs 50] [--hold 30] [--ear]
"""

import argparse
import asyncio
import multiprocessing
import resource
import time
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, BridgeEnd, OriginateRequest
from dialer.domain.events import AgentHearsCustomer, Recording
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.telephony.sip_agent import SipAgentLeg
from dialer.telephony.sip_call import SipCall
from dialer.testing.sipp_phone import PhoneCall, RtpListener, SippPhone

CALLER_ID = "+441632960000"


@dataclass
class Tally:
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, why: str) -> None:
        self.failures[why] = self.failures.get(why, 0) + 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def ears(pairs: int, conn: Connection) -> None:
    """The agents' phones' ears, in their own process: their ports, then, given the moment the
    bridges started (time.monotonic() is one clock for every process), when the customer's
    700 Hz first arrived at each."""
    listening = [RtpListener() for _ in range(pairs)]
    try:
        conn.send([ear.port for ear in listening])
        after = conn.recv()
        conn.send([ear.arrived_with(700, after=after) for ear in listening])
    finally:
        for ear in listening:
            ear.close()


async def pair(
    net: SipNetwork, agents: SippPhone, i: int, tally: Tally, ear_port: int
) -> tuple[SipAgentLeg, SipCall] | None:
    desk = PhoneCall(tone=1200, rtp_port=ear_port)
    leg = await net.call_agent(agents.uri(desk), CALLER_ID)
    request = OriginateRequest(
        number=PhoneCall(tone=700).user,
        caller_id=CALLER_ID,
        ring_timeout=timedelta(seconds=30),
        reference=f"bench:{i}",
        detect_answer=False,
    )
    customer = await net.originate(request)
    answered = await customer.progress()
    if not await leg.answered():
        tally.fail("agent leg not answered")
        await customer.hangup()
        return None
    if not isinstance(answered, Answered):
        tally.fail(f"customer not answered: {answered.cause}")
        await leg.hangup()
        return None
    return leg, customer


async def main(args: argparse.Namespace) -> None:
    tally = Tally()
    events = Recording()
    ear_ports = [0] * args.pairs
    if args.ear:
        # Spawned before the SIP stack starts, so the child shares none of it.
        context = multiprocessing.get_context("spawn")
        to_ears, ears_end = context.Pipe()
        listener = context.Process(target=ears, args=(args.pairs, ears_end), daemon=True)
        listener.start()
        ear_ports = to_ears.recv()
    with SippPhone(max_call_seconds=args.hold + 120) as customers, SippPhone() as agents:
        trunk = SipSettings(
            host=customers.host,
            port=customers.port,
            local_address="127.0.0.1",
            max_calls=max(200, 2 * args.pairs),
            calls_per_second=args.cps,
        )
        net = build_sip_network(NetworkSettings(kind="sip", sip=trunk), RealTimer(), events)
        ear_seconds: list[float] = []
        try:
            started = time.monotonic()
            made = await asyncio.gather(
                *(pair(net, agents, i, tally, ear_ports[i]) for i in range(args.pairs))
            )
            pairs = [p for p in made if p is not None]
            print(f"{len(pairs)} pairs set up in {time.monotonic() - started:.1f} s")
            bridged_at = asyncio.get_running_loop().time()  # time.monotonic(), as the ears'
            releases = [asyncio.Event() for _ in pairs]
            bridges = [
                asyncio.ensure_future(leg.bridge(customer, released))
                for (leg, customer), released in zip(pairs, releases, strict=True)
            ]
            await asyncio.sleep(1.0)  # every bridge past its tone
            held = sum(1 for (leg, customer), b in zip(pairs, bridges, strict=True) if not b.done())
            played = [customer.live_media() for _, customer in pairs]
            before = [m.played_bytes if m else 0 for m in played]
            cpu0, t0 = cpu(), time.monotonic()
            await asyncio.sleep(max(0.0, args.hold - 1.0))
            cpu_used, seconds = cpu() - cpu0, time.monotonic() - t0
            for media, was in zip(played, before, strict=True):
                # The agent's audio, handed to the customer's leg while the bridge held.
                if media is None or media.played_bytes <= was:
                    tally.fail("no agent audio reached the customer's leg")
            still = sum(1 for b in bridges if not b.done())
            for released in releases:
                released.set()
            ends = await asyncio.gather(*bridges)
            for end in ends:
                if end is not BridgeEnd.RELEASED:
                    tally.fail(f"bridge ended early: {end.value} left")
            heard = [e.seconds for e in events.of(AgentHearsCustomer)]
            if len(heard) < len(pairs):
                tally.fail("no customer audio reached the agent's leg")
            await asyncio.gather(
                *(customer.hangup() for _, customer in pairs),
                *(leg.hangup() for leg, _ in pairs),
            )
            if args.ear:
                # The customer's 700 Hz arriving at the agent's phone.
                to_ears.send(bridged_at)
                heard_at = [at for at in to_ears.recv()[: len(pairs)] if at is not None]
                ear_seconds = [at - bridged_at for at in heard_at]
                if len(ear_seconds) < len(pairs):
                    tally.fail("the customer's tone never reached the agent's phone")
                listener.join(5)
        finally:
            await net.close()
    per_pair = cpu_used / max(1, still) / max(seconds, 1e-9)
    print(f"pairs requested {args.pairs}, bridged at once {held}, still bridged at release {still}")
    print(f"failures {sum(tally.failures.values())} {tally.failures or ''}")
    print(
        f"CPU per pair {per_pair * 100:.2f}% of a core"
        f" ({cpu_used:.1f} s CPU over {seconds:.1f} s, {still} pairs)"
    )
    print(
        "bridge start -> first customer audio on the agent leg"
        f" p50 {pct(heard, 0.5) * 1000:.0f} ms, p95 {pct(heard, 0.95) * 1000:.0f} ms"
        f" ({len(heard)} bridges; includes the bridge tone)"
    )
    if args.ear:
        print(
            "bridge start -> the customer's tone arriving at the agent's phone (RTP)"
            f" p50 {pct(ear_seconds, 0.5) * 1000:.0f} ms,"
            f" p95 {pct(ear_seconds, 0.95) * 1000:.0f} ms ({len(ear_seconds)} phones)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--hold", type=float, default=30.0, help="seconds each bridge is held")
    parser.add_argument("--cps", type=float, default=50.0, help="INVITE pacing of the driver")
    parser.add_argument(
        "--ear",
        action="store_true",
        help="also time the customer's tone arriving at each agent's phone (an RTP listener"
        " thread per agent in this process: CPU per pair then counts them too)",
    )
    asyncio.run(main(parser.parse_args()))
