"""SIP load on loopback: one dialer process (the SIP driver, speech and detection) against SIPp.

Two runs, one after the other:
1. answered: ramp to N simultaneous answered calls (default 200, INVITEs at 50/s), each held
   about 10 s from its answer with the answering-machine detector listening first, then a
   personalised prompt rendered for that call (espeak-ng) and played until the end;
2. rejected: 50 calls/s of calls the carrier rejects with 486 for 10 s.

Prints calls completed and failed, CPU (this process, and espeak-ng's children), peak RSS, call
setup time p50/p99 (INVITE to answer, or to the final response), and answer-to-first-audio
p50/p99 (and verdict-to-first-audio, the part speech rendering costs).

    .venv/bin/python bench/sip_load.py [--calls 200] [--hold 10] [--reject-cps 50]
"""

import argparse
import asyncio
import resource
import time
from dataclasses import dataclass, field
from datetime import timedelta

from dialer.bootstrap import build_sip_network
from dialer.clocks import RealTimer
from dialer.domain.call import Answered, AnsweredBy, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.domain.events import FirstAudio, Recording
from dialer.settings import NetworkSettings, SipSettings
from dialer.telephony.sip import SipNetwork
from dialer.telephony.sip_capacity import CALL_CAPACITY
from dialer.testing.sipp import Number, SippCarrier


@dataclass
class Tally:
    completed: int = 0
    failed: int = 0
    setup: list[float] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    def fail(self, why: str) -> None:
        self.failed += 1
        self.reasons[why] = self.reasons.get(why, 0) + 1


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def answered_call(net: SipNetwork, i: int, hold: float, tally: Tally, up: list[int]) -> None:
    request = OriginateRequest(
        number=Number.HUMAN,
        caller_id="+441632960000",
        ring_timeout=timedelta(seconds=30),
        reference=f"load:{i}",
    )
    prompt = (
        f"Hello caller number {i}. This is a reminder of your appointment on the "
        f"{i % 28 + 1}th at {i % 12 + 1} o'clock. Please press 1 to confirm."
    )
    call = await net.originate(request)
    call.prepare(prompt, None)  # as the engine does: render while the phone rings
    result = await call.progress()
    if not isinstance(result, Answered):
        tally.fail(f"{result.outcome.api_name}: {result.cause}")
        return
    tally.setup.append((result.answered_at - result.originated_at).total_seconds())
    up[0] += 1
    up[1] = max(up[1], up[0])
    ends = time.monotonic() + hold - (net.timer.now() - result.answered_at).total_seconds()
    ok = result.by is AnsweredBy.HUMAN
    while ok and time.monotonic() < ends:
        ok = await call.say(prompt, None)
    ended = await call.hangup()
    up[0] -= 1
    if not ok:
        tally.fail("not heard as a person" if result.by is not AnsweredBy.HUMAN else "call dropped")
    elif ended.by_callee:
        tally.fail("the carrier hung up")
    else:
        tally.completed += 1


async def rejected_call(net: SipNetwork, i: int, tally: Tally) -> None:
    request = OriginateRequest(
        number=Number.BUSY,
        caller_id="+441632960000",
        ring_timeout=timedelta(seconds=30),
        reference=f"reject:{i}",
    )
    call = await net.originate(request)
    result = await call.progress()
    if isinstance(result, Answered) or result.outcome is not Outcome.BUSY:
        tally.fail(repr(result))
        return
    if result.originated_at is not None:
        tally.setup.append((result.ended_at - result.originated_at).total_seconds())
    tally.completed += 1


def report(name: str, tally: Tally, wall: float, cpu0: tuple[float, float], extra: str) -> None:
    own, kids = cpu()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    setup_p50, setup_p99 = pct(tally.setup, 0.5) * 1000, pct(tally.setup, 0.99) * 1000
    print(
        f"{name:9} completed {tally.completed}, failed {tally.failed} in {wall:.1f} s"
        f" | CPU {own - cpu0[0]:.1f} s dialer ({(own - cpu0[0]) / wall:.0%} of a core)"
        f" + {kids - cpu0[1]:.1f} s espeak-ng"
        f" | RSS now {rss_mb():.0f} MB, peak {peak_mb:.0f} MB"
    )
    print(f"{'':9} setup p50 {setup_p50:.0f} ms, p99 {setup_p99:.0f} ms" + extra)
    for why, n in sorted(tally.reasons.items(), key=lambda kv: -kv[1])[:5]:
        print(f"{'':9} failed: {n} x {why}")


async def main(args: argparse.Namespace) -> None:
    with SippCarrier(trace_messages=False, max_call_seconds=args.hold + 60) as carrier:
        trunk = SipSettings(
            host=carrier.host,
            port=carrier.port,
            local_address="127.0.0.1",
            # One process holds CALL_CAPACITY calls; more wait for a line instead of failing.
            max_calls=min(args.calls + 50, CALL_CAPACITY),
            calls_per_second=args.cps,
        )
        # The driver keeps no measurements: subscribe to them (a few events per call).
        first_audio = Recording(limit=10 * args.calls + 1000)
        net = build_sip_network(NetworkSettings(kind="sip", sip=trunk), RealTimer(), first_audio)
        await net.start()
        print(
            f"sip_load: SIPp {carrier.host}:{carrier.port}, {args.calls} answered calls held"
            f" {args.hold:g} s (INVITEs at {args.cps:g}/s), then {args.reject_cps:g}"
            f" rejected calls/s for {args.reject_seconds:g} s; {trunk.max_calls} lines"
            f" (capacity {net.capacity} calls per process)"
        )

        tally, up = Tally(), [0, 0]
        cpu0, started = cpu(), time.monotonic()
        await asyncio.gather(
            *(answered_call(net, i, args.hold, tally, up) for i in range(args.calls))
        )
        wall = time.monotonic() - started
        delays = first_audio.of(FirstAudio)
        from_answer = [d.frame for d in delays]
        from_verdict = [d.speech for d in delays]
        report(
            "answered",
            tally,
            wall,
            cpu0,
            f", simultaneous peak {up[1]}"
            f" | answer-to-first-audio p50 {pct(from_answer, 0.5) * 1000:.0f} ms,"
            f" p99 {pct(from_answer, 0.99) * 1000:.0f} ms"
            f" (verdict-to-first-audio p50 {pct(from_verdict, 0.5) * 1000:.0f} ms,"
            f" p99 {pct(from_verdict, 0.99) * 1000:.0f} ms)",
        )

        tally = Tally()
        cpu0, started = cpu(), time.monotonic()
        total = int(args.reject_cps * args.reject_seconds)
        tasks = []
        for i in range(total):
            # Offered at the rate asked for, whatever the driver's own INVITE pacing.
            await asyncio.sleep(max(0.0, started + i / args.reject_cps - time.monotonic()))
            tasks.append(asyncio.create_task(rejected_call(net, i, tally)))
        await asyncio.gather(*tasks)
        wall = time.monotonic() - started
        report("rejected", tally, wall, cpu0, f" | {total / wall:.1f} calls/s offered and answered")
        await net.close()
        stats = carrier.stats()
        print(f"{'':9} SIPp saw {stats.calls} calls, {stats.failed} failed on its side")
        if stats.failed:
            # What SIPp held against the calls it failed, a few entries of its error log.
            for line in carrier.errors().strip().splitlines()[:6]:
                print(f"{'':9} SIPp: {line[:160]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--hold", type=float, default=10.0)
    parser.add_argument("--cps", type=float, default=50.0, help="INVITE pacing of the driver")
    parser.add_argument("--reject-cps", type=float, default=50.0)
    parser.add_argument("--reject-seconds", type=float, default=10.0)
    asyncio.run(main(parser.parse_args()))
