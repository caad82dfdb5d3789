"""The engine and the lifecycle, on SQLite and PostgreSQL: it claims nothing of a paused or
cancelled campaign; a cancelled campaign's numbers stay cancelled (not OutOfTime) after its
end; a resumed one is dialled to the end; summaries and statistics count what it did."""

from datetime import timedelta

from dialer.domain.ids import CampaignId
from dialer.domain.lifecycle import Transition
from dialer.services.campaign_summary import summary_json
from tests.integration.engine_support import Rig, drama


def test_a_paused_campaign_is_not_dialled_and_ends_expired(rig: Rig) -> None:
    campaign = CampaignId(rig.campaign([drama(n) for n in range(6)]))
    tenant = rig.account.tenant
    rig.container.summaries.act(tenant, campaign, Transition.PAUSE)
    rig.run()
    assert rig.originations() == []
    summary = summary_json(rig.container.summaries.summary(tenant, campaign))
    assert summary["state"] == "Expired"
    assert summary["outcomes"]["OutOfTime"] == 6


def test_a_cancelled_campaign_is_not_dialled_and_its_numbers_stay_cancelled(rig: Rig) -> None:
    campaign = CampaignId(rig.campaign([drama(n) for n in range(6)]))
    other = CampaignId(rig.campaign([drama(n) for n in range(10, 14)]))
    tenant = rig.account.tenant
    rig.container.summaries.act(tenant, campaign, Transition.CANCEL)
    rig.run()
    dialled = set(rig.originations())
    assert dialled
    assert not dialled & {drama(n) for n in range(6)}
    summary = summary_json(rig.container.summaries.summary(tenant, campaign))
    assert (summary["state"], summary["cancelled"], summary["done"]) == ("Cancelled", 6, 0)
    assert summary_json(rig.container.summaries.summary(tenant, other))["state"] in {
        "Finished",
        "Expired",
    }


def test_a_resumed_campaign_is_dialled_and_its_summary_and_statistics_count_it(
    rig: Rig,
) -> None:
    numbers = [drama(n % 10) for n in range(30)]
    campaign = CampaignId(rig.campaign(numbers))
    tenant = rig.account.tenant
    service = rig.container.summaries
    service.act(tenant, campaign, Transition.PAUSE)
    service.act(tenant, campaign, Transition.RESUME)
    rig.run()
    final = summary_json(service.summary(tenant, campaign))
    assert final["state"] in {"Finished", "Expired"}
    assert (final["total"], final["pending"], final["claimed"]) == (30, 0, 0)
    assert final["done"] == 30 == sum(final["outcomes"].values())
    attempts = [row for rows in rig.attempts(campaign).values() for row in rows]
    ended = [row.ended_at for row in attempts if row.ended_at is not None]
    stats = rig.container.statistics.statistics(
        tenant,
        campaign,
        "1h",
        (min(ended) - timedelta(hours=1)).isoformat(),
        (max(ended) + timedelta(hours=1)).isoformat(),
    )
    assert stats["totals"]["attempts"] == len(ended)
    assert sum(b["attempts"] for b in stats["buckets"]) == len(ended)
    answered = sum(1 for row in attempts if row.outcome.api_name == "Answered")
    assert stats["totals"]["outcomes"].get("Answered", 0) == answered
    assert sum(stats["totals"]["stages"].values()) == len(ended)


def test_a_retry_queued_after_the_cancel_is_swept_by_the_housekeeper(rig: Rig) -> None:
    """A call on the line when its campaign was cancelled may ask for a retry: its number goes
    back to the queue, and the engine's housekeeping cancels it there (never OutOfTime)."""
    campaign = CampaignId(rig.campaign([drama(n) for n in range(4)]))
    other = CampaignId(rig.campaign([drama(n) for n in range(10, 12)]))
    store = rig.container.store
    opened = rig.timer.now() + timedelta(days=1)
    with store.write() as session:
        [job] = session.queue.claim(campaign, opened, 1, "w1", opened + timedelta(minutes=1))
    rig.container.summaries.act(rig.account.tenant, campaign, Transition.CANCEL)
    with store.write() as session:  # the call ends Busy: back to the queue, as a retry
        assert session.queue.release([(job, opened + timedelta(minutes=15))], "w1") == 1
    with store.write() as session:
        assert session.lifecycle.sweep_cancelled() == 1
    with store.write() as session:
        assert session.lifecycle.sweep_cancelled() == 0
    summary = summary_json(rig.container.summaries.summary(rig.account.tenant, campaign))
    assert (summary["pending"], summary["cancelled"], summary["claimed"]) == (0, 4, 0)
    # Another campaign's queue is left alone.
    assert summary_json(rig.container.summaries.summary(rig.account.tenant, other))["pending"] == 2
