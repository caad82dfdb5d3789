"""The SMS sender wakes when its engine records attempts that queued texts (engine/sms_outbox.py
TextsQueued), on a real SQLite file and PostgreSQL: the text goes at once, not at the next
poll. The poll here is an hour, far past the test's bound, so only a wake can send it."""

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from dialer.bootstrap import Container
from dialer.clocks import ManualClock
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AttemptFinished, AttemptsFinished, FanOutSink
from dialer.domain.sms import SubmitResult, SubmitStatus
from dialer.domain.sms_outbox import SmsText
from dialer.engine.sms_outbox import SmsProviders, SmsSender
from dialer.ports.store import SmsSession
from tests.contract import support
from tests.integration.test_sms_sender import TEXT, ScriptedProvider

BOUND = 30.0  # real seconds; a bound, not a measurement


class CountedWrites:
    """The store, counting the sender's committed write transactions (its claims)."""

    def __init__(self, container: Container) -> None:
        self._store = container.store
        self.writes = 0

    @contextmanager
    def write(self) -> Iterator[SmsSession]:
        with self._store.write() as session:
            yield session
        self.writes += 1

    def read(self) -> object:
        return self._store.read()


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(BOUND):
        while not condition():
            await asyncio.sleep(0.01)


def test_texts_queued_in_this_process_wake_the_sender(container: Container) -> None:
    acct = support.account(container.store)
    cid = support.campaign(container.store, acct, support.numbers(1))
    (job,) = support.claim(container.store, cid)
    assert job.e164 is not None
    clock = ManualClock(support.T0 - timedelta(minutes=1))  # before the text is due
    provider = ScriptedProvider(clock, [SubmitResult(SubmitStatus.ACCEPTED, ("w1",), 1)])
    store = CountedWrites(container)
    sender = SmsSender(
        store,  # type: ignore[arg-type]
        clock,
        SmsProviders(provider),  # type: ignore[arg-type]
        poll_interval=timedelta(hours=1),
    )
    events = FanOutSink([sender.waker])  # as the engine subscribes it

    async def main() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(sender.run(stop))
        try:
            # Its first look (receipts swept, one claim) found nothing due: it idles.
            await until(lambda: store.writes >= 2)
            attempt = support.finished(job, acct)
            texts = (SmsText(job.e164 or "", "+441632960000", TEXT),)
            record = dataclasses.replace(attempt.record, sms_sent=True, texts=texts)
            support.finish(container.store, [dataclasses.replace(attempt, record=record)])
            clock.advance(timedelta(minutes=1))
            finished = AttemptFinished(
                cid, job.destination_id, 1, Outcome.BUSY, Stage.NONE, True, final=True
            )
            # Published from the recorder's thread, as the engine does.
            await asyncio.to_thread(events.publish, AttemptsFinished((finished,)))
            await until(lambda: len(provider.sent) == 1)
        finally:
            stop.set()
            await running
        assert [m.text for m in provider.sent] == [TEXT]

    asyncio.run(main())
