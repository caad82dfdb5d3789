"""Texts per second through one SMPP bind to the local test SMSC (dialer.testing.smpp_server),
on the wall clock: short GSM texts, then long UCS-2 texts (3 concatenated parts each), with the
bind's rate limit set out of the way; then a run at a set limit, to show it holds.

    .venv/bin/python bench/sms.py [--messages 2000] [--window 10]

The server runs in the same process and event loop as the provider, sharing its core (and the
machine's 2 cores with whatever else runs): the figures are indicative, a floor for the
provider's own cost.

Then the outbox's latency: attempts end one every ``--gap`` ms on a SQLite file, each queueing a
text in its own transaction as the engine does, while the outbox's sender (its default 1 s poll)
sends them through the bind; the latency of a text is from its attempt's end to the submit_sm's
arrival at the SMSC, p50 and p95 over ``--texts`` texts: once with the poll only, once with the
sender woken by each AttemptsFinished, as the engine's recorder publishes it.
"""

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "src"))

from dialer.bootstrap import build
from dialer.clocks import RealTimer
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.campaign import CampaignSpec, CampaignStatus, PhoneNumber
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AttemptFinished, AttemptsFinished, FanOutSink
from dialer.domain.policy import AttemptRule, MessagePolicy
from dialer.domain.schedule import Schedule, Window
from dialer.domain.sms import (
    DeliveryReport,
    InboundSms,
    OutboundSms,
    SmppSettings,
    SubmitStatus,
)
from dialer.domain.sms_outbox import SmsText
from dialer.engine.sms_outbox import SmsProviders, SmsSender
from dialer.ports.store import Store
from dialer.settings import Settings
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


def _jobs(store: Store, count: int, now: datetime) -> list[FinishedAttempt]:
    """A tenant and a campaign of ``count`` numbers, claimed: the attempts about to end."""
    with store.write() as s:
        tenant = s.tenants.add_tenant("Bench", "GB", "Europe/London", "hash", now)
        flow = s.catalog.add_callflow(tenant.id, "F", "message: 'Hello'\n", now)
        cli = s.catalog.add_cli(tenant.id, "+441632960000", now)
        spec = CampaignSpec(
            name="SMS latency",
            schedule=Schedule(date(2025, 10, 1), Window(clock_time(9), clock_time(12))),
            callflow_id=flow.id,
            cli_id=cli.id,
            attempts=(AttemptRule(1, 15),),
            answerphone=MessagePolicy.NEVER,
            sms_on_busy=MessagePolicy.ON_THE_FIRST_CALL,
        )
        cid = s.campaigns.add_campaign(tenant.id, "bench", spec, CampaignStatus.ENABLED, now)
        numbers = [
            PhoneNumber(raw=f"077009{i:05d}", e164=f"+4477009{i:05d}", name=f"n{i}", number_type=1)
            for i in range(count)
        ]
        s.destinations.add_numbers(cid, numbers, now)
    with store.write() as s:
        jobs = s.queue.claim(cid, now, count, "bench", now + timedelta(hours=1))
    return [
        FinishedAttempt(
            AttemptRecord(
                destination_id=job.destination_id,
                attempt_number=job.attempt_number,
                outcome=Outcome.BUSY,
                stage=Stage.NONE,
                queued_at=job.queued_at,
                sms_sent=True,
                texts=(SmsText(job.e164 or job.raw, "+441632960000", SHORT),),
            ),
            cid,
            tenant.id,
            job.priority,
            None,
            None,
        )
        for job in jobs
    ]


async def _outbox_latency(texts: int, gap_ms: float, wake: bool) -> None:
    """``wake``: each finish publishes its AttemptsFinished to the sender's waker, as the
    engine's recorder does; without it the sender finds texts only at its 1 s poll."""
    timer = RealTimer()
    with tempfile.TemporaryDirectory() as tmp:
        container = build(Settings(database_url=f"sqlite:///{tmp}/sms.db"), clock=timer)
        server = SmppTestServer("bench", "bench-pw", clock=timer)
        await server.start()
        settings = SmppSettings("127.0.0.1", server.port, "bench", "bench-pw", throughput=1000.0)
        provider = SmppProvider(settings, timer)
        sender = SmsSender(container.store, timer, SmsProviders(provider))
        events = FanOutSink([sender.waker] if wake else [])
        stop = asyncio.Event()
        try:
            attempts = await asyncio.to_thread(_jobs, container.store, texts, timer.now())
            running = asyncio.create_task(sender.run(stop))
            ended: dict[str, datetime] = {}
            for attempt in attempts:
                at = timer.now()
                record = replace(attempt.record, originated_at=at, ended_at=at)
                done = replace(attempt, record=record)

                def finish(done: FinishedAttempt = done, at: datetime = at) -> None:
                    with container.store.write() as s:
                        s.queue.finish_attempts([done], "bench", at)
                    item = AttemptFinished(
                        done.campaign_id,
                        done.record.destination_id,
                        1,
                        Outcome.BUSY,
                        Stage.NONE,
                        True,
                        final=True,
                    )
                    events.publish(AttemptsFinished((item,)))

                await asyncio.to_thread(finish)
                ended[record.texts[0].to.removeprefix("+")] = at
                await asyncio.sleep(gap_ms / 1000)
            while len(server.parts) < texts:
                await asyncio.sleep(0.05)
            stop.set()
            await running
        finally:
            await server.close()
            container.close()
    waits = sorted(
        (part.at - ended[part.destination]).total_seconds() * 1000 for part in server.parts
    )
    cuts = statistics.quantiles(waits, n=100)
    how = "1 s poll, woken when queued" if wake else "1 s poll only"
    print(
        f"outbox latency, attempt end -> submit_sm, {len(waits)} texts one every {gap_ms:g} ms"
        f" (SQLite, {how}): p50 {cuts[49]:.0f} ms, p95 {cuts[94]:.0f} ms,"
        f" max {waits[-1]:.0f} ms"
    )


async def main(args: argparse.Namespace) -> None:
    unlimited = 1_000_000.0
    await _measure("GSM, 1 part", SHORT, args.messages, args.window, unlimited)
    await _measure("UCS-2, 3 parts", LONG_UCS2, args.messages // 3, args.window, unlimited)
    await _measure("GSM, 1 part, limit 200 parts/s", SHORT, 400, args.window, 200.0)
    await _outbox_latency(args.texts, args.gap, wake=False)
    await _outbox_latency(args.texts, args.gap, wake=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--texts", type=int, default=300, help="texts for the outbox latency")
    parser.add_argument("--gap", type=float, default=10.0, help="ms between attempt ends")
    asyncio.run(main(parser.parse_args()))
