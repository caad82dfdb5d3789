"""Texts per second through one SMPP bind to the local test SMSC (dialer.testing.smpp_server),
on the wall clock: short GSM texts, then long UCS-2 texts (3 concatenated parts each), with the
bind's rate limit set out of the way; then a run at a set limit, to show it holds.

    .venv/bin/python bench/sms.py [--messages 2000] [--window 10]

The server runs in the same process and event loop as the provider, sharing its core (and the
machine's 2 cores with whatever else runs): the figures are indicative, a floor for the
provider's own cost. The outbox's latency (attempt end to submit_sm) is measured once the SMS
outbox is merged; until then this says so.
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

from dialer.clocks import RealTimer
from dialer.domain.sms import (
    DeliveryReport,
    InboundSms,
    OutboundSms,
    SmppSettings,
    SubmitStatus,
)
from dialer.telephony.smpp import SmppProvider
from dialer.testing.smpp_server import SmppTestServer

SHORT = "Your appointment is tomorrow at 10:00. Reply STOP to opt out."
LONG_UCS2 = "Υπενθύμιση: το ραντεβού σας είναι αύριο στις 10:00. " * 3  # 3 parts of 67


class _Receipts:
    def __init__(self) -> None:
        self.count = 0

    async def delivery_report(self, report: DeliveryReport) -> None:
        self.count += 1

    async def inbound(self, message: InboundSms) -> None:
        pass


async def _measure(label: str, text: str, messages: int, window: int, throughput: float) -> None:
    timer = RealTimer()
    server = SmppTestServer("bench", "bench-pw", clock=timer, receipts=False)
    await server.start()
    settings = SmppSettings(
        "127.0.0.1", server.port, "bench", "bench-pw", throughput=throughput, window=window
    )
    provider = SmppProvider(settings, timer)
    await provider.start(_Receipts())
    try:
        assert await provider.wait_bound(), "no bind"
        limit = asyncio.Semaphore(window * 4)  # the outbox's batch: a few windows in flight

        async def one(number: int) -> SubmitStatus:
            async with limit:
                message = OutboundSms(f"bench-{number}", f"+4477009{number:05d}", "Dialer", text)
                return (await provider.submit(message)).status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(one(n) for n in range(messages)))
        elapsed = time.perf_counter() - started
    finally:
        await provider.close()
        await server.close()
    accepted = sum(1 for s in statuses if s is SubmitStatus.ACCEPTED)
    parts = len(server.parts)
    print(
        f"{label:<34} {accepted}/{messages} accepted in {elapsed:.2f}s: "
        f"{accepted / elapsed:,.0f} messages/s, {parts / elapsed:,.0f} parts/s"
    )


async def main(args: argparse.Namespace) -> None:
    unlimited = 1_000_000.0
    await _measure("GSM, 1 part", SHORT, args.messages, args.window, unlimited)
    await _measure("UCS-2, 3 parts", LONG_UCS2, args.messages // 3, args.window, unlimited)
    await _measure("GSM, 1 part, limit 200 parts/s", SHORT, 400, args.window, 200.0)
    print("outbox latency: not measured (outbox not merged)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--window", type=int, default=10)
    asyncio.run(main(parser.parse_args()))
