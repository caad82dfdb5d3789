"""AbandonmentRepo's pacing history (migration 0022, domain/pacing_history.py): each saved
decision's ratio summed into its campaign's minute, read grouped into buckets, and bounded:
minutes older than KEPT go at each save, of every campaign."""

from datetime import timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.pacing_history import KEPT, PacingPoint
from dialer.ports.store import Store
from tests.contract.support import T0, account, campaign, number

MINUTE = timedelta(minutes=1)
EVERYTHING = (T0 - timedelta(days=30), T0 + timedelta(days=30))


def note(store: Store, cid: CampaignId, ratio: float, after: timedelta) -> None:
    with store.write() as s:
        s.abandonment.note_pacing(cid, ratio, T0 + after)


def minutes(store: Store, cid: CampaignId) -> list[PacingPoint]:
    """Every row the store keeps for the campaign, one a minute."""
    with store.read() as s:
        return s.abandonment.pacing_history(cid, *EVERYTHING, MINUTE)


def test_decisions_are_summed_by_minute_and_read_by_bucket(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    other = campaign(store, acme, [number(2)])
    for ratio, after in [
        (2.0, timedelta(0)),
        (1.0, timedelta(seconds=5)),
        (1.5, timedelta(seconds=59)),
        (3.0, timedelta(minutes=1, seconds=10)),
        (0.5, timedelta(minutes=7)),
    ]:
        note(store, cid, ratio, after)
    note(store, other, 9.0, timedelta(0))
    with store.read() as s:
        history = s.abandonment.pacing_history
        assert history(cid, T0, T0 + 10 * MINUTE, 5 * MINUTE) == [
            PacingPoint(0, 4, 1.875, 1.0, 3.0),
            PacingPoint(1, 1, 0.5, 0.5, 0.5),
        ]
        # Buckets count from ``since``; ``until`` is exclusive; empty buckets are absent.
        assert history(cid, T0 + MINUTE, T0 + 7 * MINUTE, MINUTE) == [
            PacingPoint(0, 1, 3.0, 3.0, 3.0)
        ]
        assert history(cid, T0 + 2 * MINUTE, T0 + 7 * MINUTE, MINUTE) == []
        assert history(other, T0, T0 + 10 * MINUTE, timedelta(hours=1)) == [
            PacingPoint(0, 1, 9.0, 9.0, 9.0)
        ]


def test_the_history_keeps_the_last_seven_days_of_every_campaign(store: Store) -> None:
    acme = account(store)
    long_running = campaign(store, acme, [number(1)])
    finished = campaign(store, acme, [number(2)])
    note(store, finished, 1.0, timedelta(0))
    # An hourly sample of a campaign that dials for 10 days: only the last 7 days stay.
    span = timedelta(days=10)
    for hour in range(int(span / timedelta(hours=1)) + 1):
        note(store, long_running, 2.0, timedelta(hours=hour))
    kept = minutes(store, long_running)
    assert len(kept) == int(KEPT / timedelta(hours=1)) + 1
    first = T0 + span - KEPT  # the minute exactly KEPT before the last save is kept
    assert kept[0].bucket == (first - EVERYTHING[0]) // MINUTE
    # A campaign no longer dialled loses its old minutes too: the table stays bounded.
    assert minutes(store, finished) == []


def test_the_bound_is_to_the_minute(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    note(store, cid, 1.0, timedelta(seconds=30))
    note(store, cid, 2.0, KEPT)
    assert [p.decisions for p in minutes(store, cid)] == [1, 1]
    note(store, cid, 2.0, KEPT + MINUTE)
    assert [p.mean for p in minutes(store, cid)] == [2.0, 2.0]


def test_no_history_for_a_campaign_that_is_gone(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    note(store, cid, 1.0, timedelta(0))
    with store.write() as s:
        s.campaigns.delete_campaign(cid)
        s.abandonment.note_pacing(cid, 2.0, T0 + MINUTE)
    assert minutes(store, cid) == []
