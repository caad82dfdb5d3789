"""AbandonmentRepo: a campaign's tally of live, abandoned and machine calls over a window, a
tenant's recent calls per number, and the latest pacing decision; and the tenant's compliance
settings (TenantRepo)."""

from dataclasses import replace
from datetime import datetime, timedelta

from dialer.domain.abandonment import (
    ComplianceSettings,
    InfoMessage,
    PacingStatus,
    RecentCalls,
    Regime,
    Tally,
)
from dialer.domain.attempt import AttemptRecord, DialJob, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, TenantId
from dialer.ports.store import Store
from tests.contract.support import T0, Account, account, campaign, claim, e164, finish, number

LIVE = (Outcome.ANSWERED, Stage.CORRECT_CALLEE)
DROPPED = (Outcome.ANSWERED, Stage.CALL_DROPPED)
MACHINE = (Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT, Stage.ANSWERPHONE_MESSAGE_NOT_LEFT)
MESSAGE_LEFT = (Outcome.ANSWERPHONE_MESSAGE_LEFT, Stage.ANSWERPHONE_MESSAGE_LEFT)
UNANSWERED = (Outcome.NO_ANSWER, Stage.NONE)


def ended(
    job: DialJob,
    acct: Account,
    how: tuple[Outcome, Stage],
    at: datetime,
    *,
    called: bool = True,
    retry: bool = True,
) -> FinishedAttempt:
    record = AttemptRecord(
        destination_id=job.destination_id,
        attempt_number=job.attempt_number,
        outcome=how[0],
        stage=how[1],
        queued_at=job.queued_at,
        originated_at=at - timedelta(seconds=20) if called else None,
        ended_at=at,
    )
    retry_at = at if retry else None
    return FinishedAttempt(record, job.campaign_id, acct.tenant_id, job.priority, retry_at)


def capped(store: Store, name: str = "Acme", per_day: int = 5) -> Account:
    """An account whose tenant caps calls per number: every call placed is in the ledger."""
    acct = account(store, name)
    with store.write() as s:
        current = s.tenants.compliance(acct.tenant_id)
        assert current is not None
        s.tenants.set_compliance(acct.tenant_id, replace(current, attempts_per_day=per_day))
    return acct


def call_each(
    store: Store, acct: Account, cid: CampaignId, hows: list[tuple[Outcome, Stage]], at: datetime
) -> list[DialJob]:
    jobs = claim(store, cid, len(hows), now=at)
    assert len(jobs) == len(hows)
    finish(store, [ended(j, acct, h, at) for j, h in zip(jobs, hows, strict=True)])
    return jobs


def test_the_tally_counts_live_abandoned_and_machine_calls_ended_since(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(i) for i in range(8)])
    early = T0 + timedelta(minutes=1)
    call_each(store, acme, cid, [LIVE, DROPPED], early)
    later = early + timedelta(hours=1)
    call_each(store, acme, cid, [LIVE, LIVE, DROPPED, MACHINE, MESSAGE_LEFT, UNANSWERED], later)
    with store.read() as s:
        assert s.abandonment.tally(cid, T0) == Tally(live=5, abandoned=2, machines=2)
        # Ended at or after ``since``: the earlier hour drops out.
        assert s.abandonment.tally(cid, later) == Tally(live=3, abandoned=1, machines=2)
        assert s.abandonment.tally(cid, later + timedelta(microseconds=1)) == Tally()


def test_a_tally_is_its_campaigns_own(store: Store) -> None:
    acme = account(store)
    one = campaign(store, acme, [number(1)])
    other = campaign(store, acme, [number(2)])
    call_each(store, acme, one, [DROPPED], T0)
    with store.read() as s:
        assert s.abandonment.tally(one, T0) == Tally(1, 1, 0)
        assert s.abandonment.tally(other, T0) == Tally()


def test_recent_gives_each_numbers_calls_across_the_tenants_campaigns(store: Store) -> None:
    acme, globex = capped(store, "Acme"), capped(store, "Globex")
    first = campaign(store, acme, [number(1), number(2)])
    second = campaign(store, acme, [number(1)])
    theirs = campaign(store, globex, [number(1)])
    t1, t2, t3 = (T0 + timedelta(hours=h) for h in (1, 2, 3))
    call_each(store, acme, first, [DROPPED, UNANSWERED], t1)
    call_each(store, acme, second, [LIVE], t2)
    call_each(store, globex, theirs, [DROPPED], t3)
    with store.read() as s:
        mine = s.abandonment.recent(acme.tenant_id, [e164(1), e164(2), e164(3)], T0)
        assert mine == {
            e164(1): RecentCalls((t1, t2), last_abandoned_at=t1),
            e164(2): RecentCalls((t1,), None),
        }
        assert mine[e164(1)].attempts == 2
        # Ended at or after ``since``; another tenant's calls are never seen.
        assert s.abandonment.recent(acme.tenant_id, [e164(1)], t2) == {
            e164(1): RecentCalls((t2,), None)
        }
        assert s.abandonment.recent(globex.tenant_id, [e164(1), e164(2)], T0) == {
            e164(1): RecentCalls((t3,), t3)
        }
        assert s.abandonment.recent(acme.tenant_id, [], T0) == {}


def test_recent_counts_calls_placed_not_attempts_settled_without_one(store: Store) -> None:
    acme = capped(store)
    cid = campaign(store, acme, [number(1), number(2)])
    jobs = claim(store, cid, 2, now=T0)
    excluded = (Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED)
    finish(
        store,
        [
            ended(jobs[0], acme, excluded, T0, called=False, retry=False),
            ended(jobs[1], acme, UNANSWERED, T0, called=True),
        ],
    )
    with store.read() as s:
        assert s.abandonment.recent(acme.tenant_id, [e164(1), e164(2)], T0) == {
            e164(2): RecentCalls((T0,), None)
        }


def test_without_a_cap_only_abandoned_calls_are_kept(store: Store) -> None:
    # The 72-hour rule reads abandoned calls alone; the others cost a row per call only for a
    # tenant with a per-number cap (docs/compliance.md).
    acme = account(store)
    cid = campaign(store, acme, [number(1), number(2), number(3)])
    call_each(store, acme, cid, [DROPPED, LIVE, UNANSWERED], T0)
    with store.read() as s:
        assert s.abandonment.recent(acme.tenant_id, [e164(1), e164(2), e164(3)], T0) == {
            e164(1): RecentCalls((T0,), T0)
        }


def test_one_batch_of_two_tenants_keeps_each_tenants_calls_by_its_own_cap(store: Store) -> None:
    # The recording decides per attempt: abandoned calls always; other calls placed only for
    # a tenant with a cap; attempts settled without a call never (issue 11 made it a loop
    # that skips the rest for a tenant without a cap).
    acme, zeta = capped(store), account(store, "Zeta")
    batch: list[FinishedAttempt] = []
    for acct in (acme, zeta):
        cid = campaign(store, acct, [number(1), number(2), number(3), number(4)])
        jobs = claim(store, cid, 4, now=T0)
        batch += [
            ended(jobs[0], acct, DROPPED, T0),
            ended(jobs[1], acct, LIVE, T0),
            ended(jobs[2], acct, UNANSWERED, T0),
            ended(jobs[3], acct, (Outcome.EXCLUDED_NUMBER, Stage.EXCLUDED), T0, called=False),
        ]
    finish(store, batch)
    numbers = [e164(1), e164(2), e164(3), e164(4)]
    with store.read() as s:
        assert s.abandonment.recent(acme.tenant_id, numbers, T0) == {
            e164(1): RecentCalls((T0,), T0),
            e164(2): RecentCalls((T0,), None),
            e164(3): RecentCalls((T0,), None),
        }
        assert s.abandonment.recent(zeta.tenant_id, numbers, T0) == {
            e164(1): RecentCalls((T0,), T0)
        }


def test_switching_a_cap_on_copies_the_calls_since_once(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1), number(2), number(3)])
    t1, t2 = T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    jobs = claim(store, cid, 3, now=T0)
    finish(
        store,
        [
            ended(jobs[0], acme, DROPPED, t1),
            ended(jobs[1], acme, LIVE, t1),
            ended(jobs[2], acme, UNANSWERED, T0),
        ],
    )
    with store.write() as s:
        s.tenants.backfill_number_calls(acme.tenant_id, t1)
    asked = [e164(1), e164(2), e164(3)]
    expected = {e164(1): RecentCalls((t1,), t1), e164(2): RecentCalls((t1,), None)}
    with store.read() as s:
        # The call that ended before ``since`` is not copied; the abandoned one not twice.
        assert s.abandonment.recent(acme.tenant_id, asked, T0) == expected
    with store.write() as s:
        s.tenants.backfill_number_calls(acme.tenant_id, T0 + timedelta(minutes=30))
    with store.read() as s:
        assert s.abandonment.recent(acme.tenant_id, asked, T0) == expected
        assert s.abandonment.recent(acme.tenant_id, asked, t2) == {}


def test_a_numbers_calls_outlive_their_campaign(store: Store) -> None:
    # A tenant cannot reset a person's cap or 72-hour lockout by deleting the campaign.
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    call_each(store, acme, cid, [DROPPED], T0)
    with store.write() as s:
        s.abandonment.save_pacing(cid, 1.5, "warming up", T0)
        s.campaigns.delete_campaign(cid)
    with store.read() as s:
        assert s.abandonment.recent(acme.tenant_id, [e164(1)], T0) == {
            e164(1): RecentCalls((T0,), T0)
        }
        assert s.abandonment.pacing(cid) is None


def test_recent_looks_up_long_batches_whole(store: Store) -> None:
    # Past the SQL store's batches of 500 numbers.
    acme = capped(store)
    cid = campaign(store, acme, [number(i) for i in range(0, 1_200, 2)])
    call_each(store, acme, cid, [UNANSWERED] * 600, T0)
    with store.read() as s:
        found = s.abandonment.recent(acme.tenant_id, [e164(i) for i in range(1_200)], T0)
    assert set(found) == {e164(i) for i in range(0, 1_200, 2)}


def test_calls_in_flight_are_counted_by_number_but_for_the_batch(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    first = campaign(store, acme, [number(1), number(2)])
    second = campaign(store, acme, [number(1)])
    theirs = campaign(store, globex, [number(1)])
    held = claim(store, first, 2)
    (batch,) = claim(store, second, 1)
    claim(store, theirs, 1)
    asked = [e164(1), e164(2), e164(3)]
    with store.read() as s:
        assert s.abandonment.calls_in_flight(acme.tenant_id, asked, [batch.destination_id]) == {
            e164(1): 1,
            e164(2): 1,
        }
        assert s.abandonment.calls_in_flight(acme.tenant_id, asked, []) == {e164(1): 2, e164(2): 1}
    # Recorded, a call is no longer in flight: it is one of the number's recent calls.
    finish(store, [ended(held[0], acme, UNANSWERED, T0, retry=False)])
    with store.read() as s:
        assert s.abandonment.calls_in_flight(acme.tenant_id, asked, [batch.destination_id]) == {
            e164(2): 1
        }


def test_the_latest_pacing_decision_replaces_the_last(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    other = campaign(store, acme, [number(2)])
    with store.write() as s:
        assert s.abandonment.pacing(cid) is None
        s.abandonment.save_pacing(cid, 2.0, "warming up", T0)
        s.abandonment.save_pacing(cid, 1.25, "budget 3 abandons", T0 + timedelta(seconds=5))
    with store.read() as s:
        assert s.abandonment.pacing(cid) == PacingStatus(
            1.25, "budget 3 abandons", T0 + timedelta(seconds=5)
        )
        assert s.abandonment.pacing(other) is None


def test_the_pacing_decision_keeps_what_it_saw(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    with store.write() as s:
        s.abandonment.save_pacing(cid, 2.0, "ratio 2", T0, seen=(3, 4, 1))
    with store.read() as s:
        assert s.abandonment.pacing(cid) == PacingStatus(2.0, "ratio 2", T0, 3, 4, 1)
    with store.write() as s:  # the next decision's counts replace these, zeros included
        s.abandonment.save_pacing(cid, 1.0, "progressive", T0 + timedelta(seconds=5), (0, 0, 0))
    with store.read() as s:
        saved = s.abandonment.pacing(cid)
        assert saved is not None
        assert (saved.agents_ready, saved.ringing, saved.waiting) == (0, 0, 0)


def test_no_pacing_is_saved_for_a_campaign_that_is_gone(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, [number(1)])
    with store.write() as s:
        s.campaigns.delete_campaign(cid)
        s.abandonment.save_pacing(cid, 2.0, "late", T0)
    with store.read() as s:
        assert s.abandonment.pacing(cid) is None


def test_a_tenants_regime_defaults_by_region(store: Store) -> None:
    with store.write() as s:
        gb = s.tenants.add_tenant("GB Ltd", "GB", "Europe/London", "h-gb", T0)
        us = s.tenants.add_tenant("US Inc", "US", "America/New_York", "h-us", T0)
        de = s.tenants.add_tenant("DE GmbH", "DE", "Europe/Berlin", "h-de", T0)
    with store.read() as s:
        assert s.tenants.compliance(gb.id) == ComplianceSettings(regime=Regime.UK)
        assert s.tenants.compliance(us.id) == ComplianceSettings(regime=Regime.US)
        assert s.tenants.compliance(de.id) == ComplianceSettings(regime=Regime.NONE)


def test_compliance_settings_are_kept_per_tenant(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    chosen = ComplianceSettings(
        regime=Regime.US,
        target=0.025,
        message=InfoMessage("Acme calling; call 0800 000 000.", "audio-7"),
        opt_out_key="8",
        attempts_per_day=3,
        false_machine_rate=0.05,
    )
    spoken = ComplianceSettings(message=InfoMessage("Globex calling."))
    with store.write() as s:
        s.tenants.set_compliance(acme.tenant_id, chosen)
        s.tenants.set_compliance(globex.tenant_id, spoken)
    with store.read() as s:
        assert s.tenants.compliance(acme.tenant_id) == chosen
        assert s.tenants.compliance(globex.tenant_id) == spoken
        assert s.tenants.compliance(TenantId(acme.tenant_id + 1_000)) is None


def test_dialing_contexts_carry_the_tenants_compliance(store: Store) -> None:
    acme = account(store)
    campaign(store, acme, [number(1)])
    chosen = ComplianceSettings(regime=Regime.NONE, attempts_per_day=2)
    with store.write() as s:
        s.tenants.set_compliance(acme.tenant_id, chosen)
    with store.read() as s:
        (context,) = s.queue.dialing_contexts()
    assert context.compliance == chosen
