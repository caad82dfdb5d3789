"""The events a whole campaign publishes agree with what the store recorded."""

from itertools import pairwise

from dialer.domain.events import (
    AttemptAnswered,
    AttemptFinished,
    AttemptStarted,
    CallEnded,
    CampaignClosed,
    CampaignOpened,
    DestinationsClaimed,
)
from tests.integration.engine_support import Rig, drama


def test_a_campaign_s_events_match_its_results(rig: Rig) -> None:
    numbers = [drama(n) for n in range(13)]
    campaign = rig.campaign(numbers, answerMachineDetected=2, smsOnBusy=1)
    runtime = rig.run()
    rows = [row for rows in rig.attempts(campaign).values() for row in rows]

    finished = rig.events.of(AttemptFinished)
    assert sorted((e.destination_id, e.attempt_number) for e in finished) == sorted(
        (r.destination_id, r.attempt_number) for r in rows
    )
    assert {e.campaign_id for e in finished} == {campaign}
    answered = rig.events.of(AttemptAnswered)
    assert len(answered) == sum(r.answered_at is not None for r in rows)
    # Every call started also ended; each was claimed first.
    started = rig.events.of(AttemptStarted)
    assert len(started) == len(rig.events.of(CallEnded)) == runtime.engine.stats.originated
    assert sum(e.count for e in rig.events.of(DestinationsClaimed)) >= len(started)
    assert all(e.claim_latency >= 0 for e in started)
    # Its windows open and close in turn (two days, 09:00-12:00), the last one closing.
    windows = [
        type(e).__name__
        for e in rig.events.events
        if isinstance(e, CampaignOpened | CampaignClosed)
    ]
    assert windows[0] == "CampaignOpened"
    assert windows[-1] == "CampaignClosed"
    assert all(a != b for a, b in pairwise(windows))
