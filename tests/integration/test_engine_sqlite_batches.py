"""SQLite writes the engine's batches in a few statements, not one per destination: each
statement on destinations pays a set-up cost for its row trigger, paused or not
(docs/engine.md, "Throughput")."""

from datetime import timedelta
from pathlib import Path

import pytest

from dialer.bootstrap import build
from dialer.clocks import ManualClock
from dialer.domain.codes import Outcome
from dialer.domain.ids import CampaignId
from dialer.settings import Settings
from dialer.storage import sql_outcomes
from tests.conftest import Account
from tests.integration.test_destination_counts import counted, finish, recount


def _destination_updates(statements: list[str]) -> int:
    # The trace repeats a statement (with its values) each time its row trigger starts:
    # distinct texts are the statements run.
    return len({s for s in statements if "UPDATE destinations" in s})


@pytest.mark.parametrize(("chunk", "statements"), [(1000, 1), (16, 3)])
def test_sqlite_records_a_batch_of_outcomes_in_one_update_per_chunk(
    tmp_path: Path,
    clock: ManualClock,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
    statements: int,
) -> None:
    monkeypatch.setattr(sql_outcomes, "NOTE_CHUNK", chunk)
    container = build(Settings(database_url=f"sqlite:///{tmp_path}/batches.db"), clock=clock)
    try:
        account = Account(container, "Acme")
        now = clock.now()
        body = account.campaign(phoneNumbers=[{"number": f"+4411349{n:05d}"} for n in range(40)])
        campaign = container.campaigns.create(account.tenant, body).campaign
        with container.store.write() as session:
            jobs = session.claim(campaign.id, now, 40, "engine-a", now + timedelta(minutes=1))
        outcomes = [Outcome.ANSWERED, Outcome.BUSY, Outcome.NO_ANSWER]
        traced: list[str] = []
        with container.store.write() as session:
            raw = session._conn._raw  # type: ignore[attr-defined]
            raw.set_trace_callback(traced.append)
            try:
                recorded = session.finish_attempts(
                    [
                        finish(j, outcomes[i % 3], now, retry=i % 4 == 1)
                        for i, j in enumerate(jobs)
                    ],
                    "engine-a",
                    now,
                )
            finally:
                raw.set_trace_callback(None)
        assert len(recorded) == 40
        assert _destination_updates(traced) == statements
        with container.store.read() as session:
            # Each destination got its own outcome, state and attempt count.
            rows = session._conn.execute(
                "SELECT id, state, last_outcome, attempts_made FROM destinations"
                " WHERE campaign_id = %s ORDER BY id",
                (campaign.id,),
            )
            by_job = {j.destination_id: i for i, j in enumerate(jobs)}
            assert [(r[1], r[2], r[3]) for r in rows] == [
                (
                    "pending" if by_job[r[0]] % 4 == 1 else "done",
                    outcomes[by_job[r[0]] % 3].value,
                    1,
                )
                for r in rows
            ]
            assert counted(session, account, campaign.id, now) == recount(session, campaign.id, now)
            assert session.destination_tallies([CampaignId(0)]) == {0: {}}
    finally:
        container.close()
