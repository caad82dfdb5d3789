"""ResultsRepo: a campaign's attempts in the order recorded, and its progress."""

from datetime import timedelta

from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId
from dialer.domain.progress import CampaignProgress
from dialer.ports.store import Store
from tests.contract.support import T0, account, campaign, claim, finish, finished, number, numbers


def test_attempts_read_back_in_the_order_recorded(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    a, b, c = claim(store, cid)
    retry = T0 + timedelta(minutes=15)
    finish(store, [finished(b, acme, Outcome.BUSY, retry_at=retry)])
    finish(store, [finished(a, acme, Outcome.ANSWERED), finished(c, acme)])
    (b2,) = claim(store, cid, now=retry)
    finish(store, [finished(b2, acme, Outcome.ANSWERED)])
    with store.read() as s:
        results = s.results.attempt_results(cid, None, 10)
    assert [(r.number, r.attempt_number, r.outcome) for r in results] == [
        (number(1).e164, 1, Outcome.BUSY),
        (number(0).e164, 1, Outcome.ANSWERED),
        (number(2).e164, 1, Outcome.NO_ANSWER),
        (number(1).e164, 2, Outcome.ANSWERED),
    ]
    ids = [r.attempt_id for r in results]
    assert ids == sorted(set(ids))


def test_an_attempt_reads_back_whole(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    finish(store, [finished(job, acme, Outcome.ANSWERED)])
    with store.read() as s:
        (result,) = s.results.attempt_results(cid, None, 10)
    assert (result.campaign_id, result.destination_id, result.name) == (
        cid,
        job.destination_id,
        "n0",
    )
    assert (result.stage, result.queued_at, result.originated_at, result.ended_at) == (
        Stage.NONE,
        T0,
        T0,
        T0 + timedelta(seconds=30),
    )
    assert (result.answered_at, result.cause, result.keys, result.sms_sent) == (
        None,
        None,
        "",
        False,
    )


def test_attempts_page_after_an_attempt_id(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(5))
    finish(store, [finished(j, acme) for j in claim(store, cid)])
    with store.read() as s:
        everything = s.results.attempt_results(cid, None, 100)
        first = s.results.attempt_results(cid, None, 2)
        second = s.results.attempt_results(cid, first[-1].attempt_id, 2)
        third = s.results.attempt_results(cid, second[-1].attempt_id, 2)
    assert first + second + third == everything
    assert len(third) == 1


def test_a_campaigns_results_are_its_own(store: Store) -> None:
    acme = account(store)
    one, two = campaign(store, acme, numbers(1)), campaign(store, acme, numbers(1, 5))
    finish(store, [finished(j, acme) for j in claim(store, one)])
    with store.read() as s:
        assert s.results.attempt_results(two, None, 10) == []
        assert len(s.results.attempt_results(one, None, 10)) == 1


def test_progress_counts_states_and_final_outcomes(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(6))
    a, b, c, d, e = claim(store, cid, 5)
    retry = T0 + timedelta(minutes=15)
    finish(
        store,
        [
            finished(a, acme, Outcome.ANSWERED),
            finished(b, acme, Outcome.ANSWERED),
            finished(c, acme, Outcome.BUSY),
            finished(d, acme, Outcome.NO_ANSWER, retry_at=retry),
        ],
    )
    with store.read() as s:
        progress = s.results.progress(cid)
    assert progress == CampaignProgress(
        pending=2,
        in_flight=1,
        done=3,
        cancelled=0,
        outcomes={Outcome.ANSWERED: 2, Outcome.BUSY: 1},
    )
    assert e.e164 == number(4).e164


def test_progress_of_an_empty_or_unknown_campaign_is_zero(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme)
    with store.read() as s:
        assert s.results.progress(cid) == CampaignProgress()
        assert s.results.progress(CampaignId(424242)) == CampaignProgress()
