"""queuedAt is when the attempt fell due, not when its number was uploaded."""

from datetime import UTC, datetime

from tests.integration.engine_support import START, Rig, drama


def test_a_first_attempt_falls_due_when_its_window_opens(rig: Rig) -> None:
    # Uploaded at START, 2025-09-30 21:00 London; the window opens the next day at 09:00.
    campaign = rig.campaign([drama(2), drama(7)])
    rig.run()
    got = rig.attempts(campaign)
    opened = datetime(2025, 10, 1, 8, 0, tzinfo=UTC)
    assert [r.queued_at for r in got[drama(2)]] == [opened]
    first, *retries = got[drama(7)]
    assert first.queued_at == opened > START
    # A retry falls due its interval after the attempt before it ended.
    assert retries
    assert first.ended_at is not None
    assert all(r.queued_at > first.ended_at for r in retries)
