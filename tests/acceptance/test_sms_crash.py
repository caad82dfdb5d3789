"""Issue 15: a crash mid-submit sends no text twice (docs/sms.md, "A sender that dies
mid-submit"), on a real SQLite file and the real PostgreSQL.

A `dialer worker --sms smpp` dials a busy number and owes its text; the test SMSC on 127.0.0.1
takes the submit_sm and holds its answer, and the worker is killed (SIGKILL) meanwhile. A second
worker starts: its claim finds the text still marked as being submitted once the lease ends, so
it waits UNKNOWN for a receipt instead of sending it again; its bind brings the receipt the SMSC
kept, and the text is delivered. The SMSC must have received the text exactly once.
"""

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import psycopg
import pytest

from dialer.bootstrap import build
from dialer.domain.sms_outbox import SmsStatus
from dialer.settings import Settings
from dialer.testing.smpp_server import SmppTestServer

T = TypeVar("T")
PASSWORD = "pw-crash1"
BUSY = "+447700900001"  # the simulated network: busy after 1 s
TEXT = "Sorry we missed you, Ann: please call 0161 496 0000."
FLOW = f"message: 'Hello {{Name}}'\nsms: '{TEXT.replace('Ann', '{Name}')}'\n"
ZONE = "Europe/London"
WITHIN = 60.0  # real seconds for each wait; a bound, not a measurement


class Smsc:
    """The test SMSC on a loop of its own thread: the workers are other processes."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = SmppTestServer("crash", PASSWORD)

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(10)

    def hold_answers(self, hold: bool) -> None:
        async def set_it() -> None:
            self.server.hold_answers = hold

        self.run(set_it())

    def texts(self) -> list[str]:
        async def read() -> list[str]:
            return [m.text for m in self.server.messages]

        return self.run(read())

    @contextmanager
    def running(self) -> Iterator["Smsc"]:
        self._thread.start()
        self.run(self.server.start())
        try:
            yield self
        finally:
            self.run(self.server.close())
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


def create_campaign(url: str) -> int:
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    day = {"startTime": "00:00", "finishTime": "23:59"}
    container = build(Settings(database_url=url))
    try:
        tenant, _ = container.tenants.create("Crash", "GB", ZONE, "00:00-23:59")
        flow = container.catalog.add_callflow(tenant, "Busy", FLOW)
        cli = container.catalog.add_cli(tenant, "+441632960000")
        body = {
            "name": "Texts on busy",
            "startDate": today.isoformat(),
            **day,
            "runoverDays": [{"date": (today + timedelta(days=1)).isoformat(), **day}],
            "callflow_Id": flow.id,
            "cli_Id": cli.id,
            "attempts": [{"attemptNumber": 1, "interval": 1}],
            "answerMachineDetected": 0,
            "smsOnBusy": 1,
            "phoneNumbers": [{"number": BUSY, "name": "Ann"}],
        }
        return int(container.campaigns.create(tenant, body).campaign.id)
    finally:
        container.close()


def outbox(url: str) -> list[tuple[str, str]]:
    """Each text's (status, reason)."""
    query = "SELECT status, reason FROM sms_outbox ORDER BY id"
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return [(str(s), str(r)) for s, r in conn.execute(query)]
    with psycopg.connect(url, autocommit=True) as pg:
        return [(str(s), str(r)) for s, r in pg.execute(query).fetchall()]


class Worker:
    def __init__(self, name: str, url: str, port: int, folder: Path) -> None:
        self.output = folder / f"worker-{name}.out"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIALER_SMS_")}
        env.update(
            DIALER_SMS_SMPP_HOST="127.0.0.1",
            DIALER_SMS_SMPP_PORT=str(port),
            DIALER_SMS_SMPP_SYSTEM_ID="crash",
            DIALER_SMS_SMPP_PASSWORD=PASSWORD,
            # A claimed text is held 1 s; one with no answer waits up to 60 s for a receipt
            # (the test ends as soon as the receipt settles it).
            DIALER_SMS_LEASE_SECONDS="1",
            DIALER_SMS_GRACE_SECONDS="60",
        )
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dialer", "worker", "--database", url, "--sms", "smpp"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its whole group can be killed
            )

    def kill(self) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=60)

    def tail(self) -> str:
        lines = self.output.read_text(errors="replace").splitlines()[-30:]
        return f"--- {self.output.name}:\n" + "\n".join(lines)


def until(condition: Any, what: str, *workers: Worker) -> None:
    deadline = time.monotonic() + WITHIN
    while not condition():
        for worker in workers:
            assert worker.process.poll() is None, f"a worker exited\n{worker.tail()}"
        assert time.monotonic() < deadline, f"{what}\n" + "\n".join(w.tail() for w in workers)
        time.sleep(0.05)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_worker_killed_mid_submit_leaves_its_text_sent_once_and_delivered(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'dialer.db'}"
    else:
        url = request.getfixturevalue("postgres_server").create_database()
    campaign = create_campaign(url)
    workers: list[Worker] = []
    with Smsc().running() as smsc:
        try:
            smsc.hold_answers(True)
            first = Worker("A", url, smsc.server.port, tmp_path)
            workers.append(first)
            until(lambda: smsc.texts() != [], "the SMSC got no text", first)
            first.kill()  # its submit_sm taken, the answer never written
            smsc.hold_answers(False)
            second = Worker("B", url, smsc.server.port, tmp_path)
            workers.append(second)
            until(
                lambda: [s for s, _ in outbox(url)] == ["delivered"],
                f"the text was not delivered: {outbox(url)}",
                second,
            )
            assert second.stop() == 0, second.tail()
            texts = smsc.texts()
        finally:
            for worker in workers:
                worker.kill()
    assert texts == [TEXT], "\n".join(w.tail() for w in workers)
    container = build(Settings(database_url=url))
    try:
        with container.store.read() as session:
            (result,) = session.results.attempt_results(campaign, None, 10)
    finally:
        container.close()
    assert [t.status for t in result.sms] == [SmsStatus.DELIVERED]
    assert "Traceback" not in workers[1].output.read_text(errors="replace"), workers[1].tail()
