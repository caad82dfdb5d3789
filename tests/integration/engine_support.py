"""A rig for engine tests: a store on a virtual clock, an account, and a simulated network."""

import asyncio
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from dialer.bootstrap import Container, EngineRuntime, build, build_engine
from dialer.clocks import ManualClock, VirtualTimer
from dialer.domain.attempt import DialJob
from dialer.domain.campaign import Campaign
from dialer.domain.events import Recording, SmsSent
from dialer.settings import EngineSettings, NetworkSettings, Settings
from tests.conftest import Account

START = datetime(2025, 9, 30, 20, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")


class ClaimedCampaign(NamedTuple):
    """A campaign whose destinations are all in flight, leased to ``engine-a``."""

    container: Container
    account: Account
    campaign: Campaign
    jobs: list[DialJob]
    now: datetime


@contextmanager
def claimed_on_sqlite(db: Path, clock: ManualClock, numbers: int) -> Iterator[ClaimedCampaign]:
    """A store on the SQLite file ``db``, Acme's campaign of ``numbers`` destinations, and one
    claim of them all by ``engine-a`` for a minute: where the tests of the engine's SQLite
    batches start. The store is closed on leaving."""
    container = build(Settings(database_url=f"sqlite:///{db}"), clock=clock)
    try:
        account = Account(container, "Acme")
        now = clock.now()
        phones = [{"number": f"+4411349{n:05d}"} for n in range(numbers)]
        campaign = container.campaigns.create(account.tenant, account.campaign(phoneNumbers=phones))
        with container.store.write() as session:
            jobs = session.claim(
                campaign.campaign.id, now, numbers, "engine-a", now + timedelta(minutes=1)
            )
        yield ClaimedCampaign(container, account, campaign.campaign, jobs, now)
    finally:
        container.close()


RULES = [
    {"interval": 15, "attemptNumber": 1},
    {"interval": 60, "attemptNumber": 2},
    {"interval": 120, "attemptNumber": 3},
]


def drama(n: int) -> str:
    return f"+447700900{n:03d}"


def all_day_body(today: date, callflow_id: int, cli_id: int, number: str) -> dict[str, Any]:
    """A one-attempt campaign open all of ``today`` and the next day, for one number."""
    day = {"startTime": "00:00", "finishTime": "23:59"}
    return {
        "startDate": today.isoformat(),
        **day,
        "runoverDays": [{"date": (today + timedelta(days=1)).isoformat(), **day}],
        "callflow_Id": callflow_id,
        "cli_Id": cli_id,
        "attempts": [{"attemptNumber": 1, "interval": 1}],
        "answerMachineDetected": 0,
        "smsOnBusy": 0,
        "phoneNumbers": [{"number": number}],
    }


class Rig:
    def __init__(self, database_url: str, log: Path) -> None:
        self.timer = VirtualTimer(START)
        self.container: Container = build(
            # The SMPP tests' SMSC listens on 127.0.0.1, which tenants may not reach unless
            # the operator allows it (docs/sms.md).
            Settings(database_url=database_url, webhook_allow=("127.0.0.1",)),
            clock=self.timer,
        )
        self.account = Account(self.container, "Acme")
        self.log = log
        # Every event of the container's engines, bounded: tests read SMS and the like here.
        self.events = Recording()
        self.container.events.subscribe(self.events)

    def engine(self, **limits: Any) -> EngineRuntime:
        network = NetworkSettings(speed=None, seed=7, origination_log=self.log)
        return build_engine(self.container, network, EngineSettings(**limits), self.timer)

    def campaign(self, numbers: list[str], **overrides: Any) -> int:
        body = self.account.campaign(
            phoneNumbers=[{"number": n, "name": f"N{i}"} for i, n in enumerate(numbers)],
            **{"attempts": RULES, **overrides},
        )
        return self.container.campaigns.create(self.account.tenant, body).campaign.id

    def run(self, **limits: Any) -> EngineRuntime:
        runtime = self.engine(**limits)
        asyncio.run(asyncio.wait_for(runtime.engine.run_until_done(), 120))
        return runtime

    def attempts(self, campaign_id: int) -> dict[str, list[Any]]:
        by_number: dict[str, list[Any]] = defaultdict(list)
        after = None
        while True:
            page = self.container.results.page(self.account.tenant, campaign_id, after, 1000)
            for row in page.results:
                by_number[row.number].append(row)
            if page.next_after is None:
                return by_number
            after = page.next_after

    def sms(self) -> list[SmsSent]:
        return self.events.of(SmsSent)

    def originations(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []
