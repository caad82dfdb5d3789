"""An agent campaign's calls in the store (migration 0013): the AgentCall an attempt records
and reads back, the callback that makes its number due again with the agent it asked for, the
opt-out that lists the number with the attempt, and the campaign's AgentOptions."""

from dataclasses import replace
from datetime import timedelta

import pytest

from dialer.domain.agent import AgentOptions
from dialer.domain.attempt import AgentCall, DialJob, FinishedAttempt
from dialer.domain.campaign import CampaignStatus, CampaignType
from dialer.domain.codes import Outcome, Stage
from dialer.ports.store import Store
from tests.contract.support import (
    T0,
    Account,
    account,
    campaign,
    claim,
    finish,
    finished,
    number,
    numbers,
    spec,
)

CALLBACK_AT = T0 + timedelta(days=1)
LATER = CALLBACK_AT + timedelta(minutes=1)


def agent_call(**fields: object) -> AgentCall:
    call = AgentCall(
        queued_at=T0 + timedelta(seconds=8),
        agent_id=4,
        member="SIPSIP1",
        bridged_at=T0 + timedelta(seconds=9),
        talk_ended_at=T0 + timedelta(seconds=30),
        wrap_up_ended_at=T0 + timedelta(seconds=45),
        disposition=Stage.CORRECT_CALLEE,
    )
    return replace(call, **fields)  # type: ignore[arg-type]


def with_agent(job: DialJob, acct: Account, call: AgentCall, **fields: object) -> FinishedAttempt:
    done = finished(job, acct, Outcome.ANSWERED, **fields)  # type: ignore[arg-type]
    return replace(done, record=replace(done.record, agent=call, stage=Stage.CORRECT_CALLEE))


def test_an_agent_call_reads_back_whole_beside_attempts_without_one(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(3))
    a, b, c = claim(store, cid)
    call = agent_call(
        disposition=Stage.CALLER_REQUESTED_CALL_BACK, callback_at=CALLBACK_AT, callback_agent_id=4
    )
    unbridged = AgentCall(queued_at=T0 + timedelta(seconds=8))
    finish(
        store,
        [finished(a, acme), with_agent(b, acme, call), with_agent(c, acme, unbridged)],
    )
    with store.read() as s:
        results = s.results.attempt_results(cid, None, 10)
    assert [r.agent for r in results] == [None, call, unbridged]


def test_a_batch_without_agent_calls_reads_back_none(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    finish(store, [finished(j, acme) for j in claim(store, cid)])
    with store.read() as s:
        assert [r.agent for r in s.results.attempt_results(cid, None, 10)] == [None, None]


def test_a_callback_is_due_at_its_time_with_the_agent_it_asked_for(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(2))
    a, b = claim(store, cid)
    assert (a.prefer_agent_id, b.prefer_agent_id) == (None, None)
    call = agent_call(
        disposition=Stage.CALLER_REQUESTED_CALL_BACK, callback_at=CALLBACK_AT, callback_agent_id=4
    )
    finish(
        store,
        [
            replace(with_agent(a, acme, call, retry_at=CALLBACK_AT), callback_agent_id=4),
            with_agent(b, acme, agent_call()),
        ],
    )
    assert claim(store, cid, now=CALLBACK_AT - timedelta(seconds=1)) == []
    (again,) = claim(store, cid, now=CALLBACK_AT)
    assert (again.destination_id, again.attempt_number, again.prefer_agent_id) == (
        a.destination_id,
        2,
        4,
    )


def test_an_unanswered_callback_keeps_its_agent_and_the_next_agent_call_clears_it(
    store: Store,
) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    call = agent_call(
        disposition=Stage.CALLER_REQUESTED_CALL_BACK, callback_at=CALLBACK_AT, callback_agent_id=7
    )
    finish(store, [replace(with_agent(job, acme, call, retry_at=CALLBACK_AT), callback_agent_id=7)])
    (callback,) = claim(store, cid, now=CALLBACK_AT)
    finish(store, [finished(callback, acme, Outcome.NO_ANSWER, retry_at=LATER)])
    (retry,) = claim(store, cid, now=LATER)
    assert retry.prefer_agent_id == 7
    finish(store, [with_agent(retry, acme, agent_call(), retry_at=LATER)])
    (after,) = claim(store, cid, now=LATER)
    assert after.prefer_agent_id is None


def test_an_opt_out_lists_the_number_with_its_attempt(store: Store) -> None:
    acme, globex = account(store, "Acme"), account(store, "Globex")
    cid = campaign(store, acme, numbers(2))
    a, b = claim(store, cid)
    with store.write() as s:
        s.dnc.add_dnc(acme.tenant_id, [number(1).e164 or ""], T0)  # listed already: kept once
    opted = agent_call(disposition=Stage.OPT_OUT)
    finish(
        store,
        [
            replace(with_agent(a, acme, opted), opt_out=a.e164),
            replace(with_agent(b, acme, opted), opt_out=b.e164),
        ],
    )
    with store.read() as s:
        assert s.dnc.list_dnc(acme.tenant_id, None, 10) == [number(0).e164, number(1).e164]
        assert s.dnc.list_dnc(globex.tenant_id, None, 10) == []


def test_an_opt_out_whose_attempt_is_rolled_back_is_not_listed(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    done = replace(with_agent(job, acme, agent_call(disposition=Stage.OPT_OUT)), opt_out=job.e164)
    with pytest.raises(RuntimeError):
        _finish_then_fail(store, done)
    with store.read() as s:
        assert s.dnc.list_dnc(acme.tenant_id, None, 10) == []
        assert s.results.attempt_results(cid, None, 10) == []


def test_an_opt_out_recorded_by_an_engine_that_lost_its_lease_is_not_listed(store: Store) -> None:
    acme = account(store)
    cid = campaign(store, acme, numbers(1))
    (job,) = claim(store, cid)
    done = replace(with_agent(job, acme, agent_call(disposition=Stage.OPT_OUT)), opt_out=job.e164)
    assert finish(store, [done], worker="w2") == []
    with store.read() as s:
        assert s.dnc.list_dnc(acme.tenant_id, None, 10) == []


def _finish_then_fail(store: Store, done: FinishedAttempt) -> None:
    with store.write() as s:
        s.queue.finish_attempts([done], "w1", T0)
        raise RuntimeError("the engine failed before the commit")


@pytest.mark.parametrize(
    "options",
    [
        None,
        AgentOptions(),
        AgentOptions(wrap_up=None, max_wait=timedelta(seconds=300), bridge_on_answer=True),
        AgentOptions(wrap_up=timedelta(0), max_wait=timedelta(seconds=1)),
    ],
)
def test_a_campaigns_agent_options_read_back_as_written(
    store: Store, options: AgentOptions | None
) -> None:
    acme = account(store)
    agent_spec = replace(spec(acme), kind=CampaignType.AGENT, agent=options)
    with store.write() as s:
        cid = s.campaigns.add_campaign(
            acme.tenant_id, "agents", agent_spec, CampaignStatus.ENABLED, T0
        )
    with store.read() as s:
        stored = s.campaigns.get_campaign(acme.tenant_id, cid)
        assert stored is not None
        assert stored.spec == agent_spec
    changed = replace(agent_spec, agent=AgentOptions(wrap_up=timedelta(seconds=60)))
    with store.write() as s:
        s.campaigns.update_campaign(cid, changed, T0)
    with store.read() as s:
        (summary,) = s.campaigns.list_campaigns(acme.tenant_id)
        assert summary.campaign.spec.agent == AgentOptions(wrap_up=timedelta(seconds=60))
