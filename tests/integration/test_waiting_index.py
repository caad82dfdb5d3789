"""Migration 0028: destinations_waiting (GetWaitingCalls' pages) is kept by is_final, not by
state, so that SQLite's claim leaves it alone (docs/engine.md, "seventh round"). A store that
already has destinations gets is_final from their states."""

import pytest

from dialer.domain.ids import CampaignId
from dialer.storage import migrations
from dialer.storage.database import open_database
from dialer.storage.sql_store import SqlSession


def test_the_migration_marks_the_final_destinations_of_a_store_that_has_them(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = migrations.available
    monkeypatch.setattr(
        migrations, "available", lambda dialect: [m for m in everything(dialect) if m.version < 28]
    )
    database = open_database(database_url)
    try:
        migrations.migrate(database)
        states = ["pending", "done", "in_flight", "cancelled", "pending", "done"]
        with database.transaction(write=True) as conn:
            for i, state in enumerate(states):
                conn.execute(
                    "INSERT INTO destinations (campaign_id, number_raw, state, priority,"
                    " created_at) VALUES (7, %s, %s, %s, 0)",
                    (str(i), state, i % 3),
                )
        monkeypatch.setattr(migrations, "available", everything)
        assert [m.version for m in migrations.migrate(database)] == [28]
        with database.transaction(write=False) as conn:
            rows = conn.execute("SELECT state, is_final FROM destinations ORDER BY id")
            assert [(state, final) for state, final in rows] == [
                (state, int(state in ("done", "cancelled"))) for state in states
            ]
            waiting = SqlSession(conn).destinations.waiting_calls(CampaignId(7), None, 10)
        # Priority high to low, then oldest: the in-flight one first, with the highest.
        assert [(w.priority, w.raw, w.status.name) for w in waiting] == [
            (2, "2", "ORIGINATED"),
            (1, "4", "PENDING"),
            (0, "0", "PENDING"),
        ]
    finally:
        database.close()
