"""Issue 13's modes over SIP: a campaign paced by a ratio (set by the Dialer API's
UpdateCampaignStrategy: ``setCoefficient`` 2 with its ``setQueueMaximumCallers``) and one paced
predictively place more lines than there are ready agents, on a real SIP trunk (the SIPp
carrier) with the agents' desk phones on SIPp too, all on 127.0.0.1.

Every campaign starts with a budget of 0 abandons (docs/pacing.md, "The governor"), and with none
every mode dials as progressive does. So the campaign's tally is seeded first with earlier live
calls in the UK's 24 hours, recorded through the store as the engine records its calls: 100 live
calls and no abandoned one leave a budget of 3 abandons at the 3% target. Then every person on
the list answers (number 121: "Hello?", and they hang up 6 s later) after ringing 3 s; the first
wave of lines outnumbers the agents, so some people answer with no agent free: they hear the
information message within 2 s of the answer (measured on the carrier's side from its 200 OK to
the first audio with sound, as test_sip_abandoned_calls.py does) and are recorded CallDropped
(20). The people bridged reach an agent's phone with audio both ways: the agent's phone hears the
bridge tone and the driver hands it the customer's audio; the customer hears the agent's phone
(a 1200 Hz tone). After the run the campaign's rate is within its target.
"""

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import MEMORY_URL, Container, build
from dialer.clocks import RealTimer
from dialer.domain.abandonment import REGULATORY_LIMIT, ComplianceSettings, Tally, rules_for
from dialer.domain.agent import AgentOptions, Pacing, PacingMode
from dialer.domain.attempt import AttemptRecord, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import AgentHearsCustomer, CallAbandoned, PacingDecided, Recording
from dialer.settings import Settings
from dialer.telephony.sip_agent import TONE_HZ
from dialer.testing.sipp import SippAnswer, SippCarrier, SippMessage
from dialer.testing.sipp_phone import PhoneCall, RtpListener, SippPhone
from tests.sip_campaigns import AgentCampaign, agent_campaign, log_in, run_on_sip, sip_engine

# The carrier's person who hangs up (121) at Ofcom's drama numbers: its number plan reads only
# the last three digits.
PEOPLE = [
    "+447700900121",
    "+441134960121",
    "+441144960121",
    "+441154960121",
    "+441164960121",
    "+441174960121",
    "+441184960121",
    "+441214960121",
]
# The earlier calls of the seeded tally: drama numbers that are never dialled in the test.
HISTORY = [f"+44163296{i:04d}" for i in range(100, 200)]
RING_SECONDS = 3.0
CONNECT_WITHIN = 2.0  # the UK rule: the message starts within 2 s of the answer
AGENT_TONE = 1200  # what the agents' desk phones send


@dataclass(frozen=True)
class Mode:
    pacing: Pacing  # the campaign's, as created
    agents: int
    people: int
    strategy: dict[str, int] | None  # UpdateCampaignStrategy's parameters, then sent
    reason: str  # how its PacingDecided events name it
    expected: PacingMode


# Two agents at 2 lines each: 4 lines, which the strategy's MaximumCallers (4) allows. The
# strategy (the Dialer API's, as a CRM sends it) turns the campaign to the ratio mode.
RATIO = Mode(
    Pacing(PacingMode.PREDICTIVE),
    2,
    6,
    {"setQueueMaximumCallers": 4, "setCoefficient": 2},
    "ratio 2",
    PacingMode.RATIO,
)
PREDICTIVE = Mode(Pacing(PacingMode.PREDICTIVE), 4, 8, None, "predictive", PacingMode.PREDICTIVE)


def seed_history(
    container: Container, made: AgentCampaign, ended_at: datetime, due: datetime
) -> None:
    """Record the HISTORY numbers' calls as live calls that ended at ``ended_at`` (in the
    window), through the store's queue as the engine records its own; the people to call are
    claimed with them and given back, due at ``due``."""
    campaign = made.campaign
    now = datetime.now(UTC)
    with container.store.write() as session:
        jobs = session.queue.claim(campaign.id, now, 1_000, "seed", now + timedelta(minutes=1))
    done = [
        FinishedAttempt(
            AttemptRecord(
                destination_id=job.destination_id,
                attempt_number=job.attempt_number,
                outcome=Outcome.ANSWERED,
                stage=Stage.CORRECT_CALLEE,
                queued_at=job.queued_at,
                originated_at=ended_at - timedelta(seconds=90),
                ended_at=ended_at,
            ),
            campaign.id,
            made.tenant.id,
            job.priority,
            None,
        )
        for job in jobs
        if job.e164 in HISTORY
    ]
    back = [(job, due) for job in jobs if job.e164 not in HISTORY]
    assert len(done) == len(HISTORY), "every earlier call recorded"
    with container.store.write() as session:
        assert len(session.queue.finish_attempts(done, "seed", now)) == len(HISTORY)
        session.queue.release(back, "seed")


def invites_before_first_answer(messages: Iterable[SippMessage]) -> int:
    """Calls the carrier was offered (distinct INVITEs received) before it sent its first 200 OK
    to an INVITE: all placed while nobody had answered yet."""
    offered: set[str] = set()
    for message in messages:
        if message.direction == "S" and message.status == 200 and "INVITE" in message.cseq:
            return len(offered)
        if message.direction == "R" and message.method == "INVITE":
            offered.add(message.call_id)
    return len(offered)


@pytest.mark.parametrize("mode", [RATIO, PREDICTIVE], ids=["ratio-2", "predictive"])
def test_over_dialled_calls_are_bridged_or_hear_the_message_within_2_s_and_stay_in_budget(
    mode: Mode,
) -> None:
    timer = RealTimer()
    container = build(Settings(database_url=MEMORY_URL), clock=timer)
    people = PEOPLE[: mode.people]
    options = AgentOptions(
        wrap_up=timedelta(seconds=1),
        bridge_on_answer=True,  # the 2 s are all the agents' (docs/compliance-engine.md)
        pacing=mode.pacing,
    )
    codes = [f"10{i:02d}" for i in range(1, mode.agents + 1)]
    made = agent_campaign(
        container, "Pacing over SIP", [*HISTORY, *people], options, [(c, c) for c in codes]
    )
    campaign_id = made.campaign.id
    client = TestClient(container.app(), raise_server_exceptions=False)
    if mode.strategy is not None:
        queue = container.catalog.add_queue(made.tenant, "Sales")
        strategy = {"Campaign": made.campaign.code, "setQueueForMonitoring": queue.id}
        response = client.post(
            "/ForwardDialer/Dialer/UpdateCampaignStrategy", json={**strategy, **mode.strategy}
        )
        assert response.json() == {"ErrorCode": 0, "Description": "OK"}, response.text
    with container.store.read() as session:
        current = session.campaigns.get_campaign(made.tenant.id, campaign_id)
    assert current is not None
    assert current.spec.agent_options.pacing.mode is mode.expected
    events = Recording()
    container.events.subscribe(events)
    with contextlib.ExitStack() as stack:
        heard = stack.enter_context(RtpListener())
        carrier = stack.enter_context(
            SippCarrier(
                ring_seconds=RING_SECONDS, hang_up_after_seconds=6, answer_audio_port=heard.port
            )
        )
        desk_phones = stack.enter_context(SippPhone())
        ears = {code: stack.enter_context(RtpListener()) for code in codes}
        phones = {
            agent_id: desk_phones.uri(PhoneCall(tone=AGENT_TONE, rtp_port=ears[code].port))
            for agent_id, code in zip(made.agent_ids, codes, strict=True)
        }
        log_in(container, made.tenant.id, phones, timer.now())
        # The people are due a few seconds after the engine starts: every agent has answered
        # their phone and is ready by then, so the first wave is each mode's for all of them.
        rules = rules_for(ComplianceSettings())
        now = datetime.now(UTC)
        seed_history(container, made, now - timedelta(hours=1), now + timedelta(seconds=6))
        window = now - rules.window
        with container.store.read() as session:
            before = session.abandonment.tally(campaign_id, window)
        assert before == Tally(live=len(HISTORY))
        assert 3 <= before.budget(rules) < 4, "room for 3 abandons"
        network, engine = sip_engine(container, timer, carrier.host, carrier.port)
        run_on_sip(network, engine.run_until_done(), within=120)
        assert carrier.stats().failed == 0, carrier.errors()
        first_wave = invites_before_first_answer(carrier.messages())
        answers: dict[str, SippAnswer] = {answer.callee: answer for answer in carrier.answers()}
        ports = {callee: answer.dialer_rtp_port for callee, answer in answers.items()}
        first_sound = {callee: heard.first_sound_from(p) for callee, p in ports.items() if p}
        agent_heard = {
            callee: heard.tone_level_from(p, AGENT_TONE) for callee, p in ports.items() if p
        }
        tone_heard = {
            code: ear.first_heard(TONE_HZ, 0.5, 0.05) is not None for code, ear in ears.items()
        }

    # More lines than agents (all of them ready, nobody answered yet), as the mode decided.
    assert first_wave > mode.agents, (first_wave, mode.agents)
    decided = [e for e in events.of(PacingDecided) if e.campaign_id == campaign_id]
    assert any(e.reason.startswith(mode.reason) and e.lines > 0 for e in decided), decided
    if mode.expected is PacingMode.PREDICTIVE:
        assert max(e.ratio for e in decided) > 1, "it aimed at more calls than ready agents"
    assert all(e.rate <= e.target for e in decided), "no decision saw the rate over its target"

    response = client.get(
        f"/api/campaign/voice/{campaign_id}/results",
        headers={"Authorization": f"Bearer {made.key}"},
    )
    assert response.status_code == 200, response.text
    rows = [row for row in response.json()["results"] if row["number"] in people]
    assert sorted(row["number"] for row in rows) == sorted(people)
    assert set(answers) == set(people), "every person answered"
    dropped = [row for row in rows if row["stageName"] == "CallDropped"]
    bridged = [row for row in rows if row["stageName"] == "CallTransferredToCallCentre"]
    assert len(dropped) + len(bridged) == len(people), rows
    assert dropped, "the first wave outnumbered the agents: someone answered with none free"
    for row in dropped:
        assert (row["stage"], row["outcomeName"], row["agent"]) == (20, "Answered", None)
        # Measured on the carrier's side: from its 200 OK to the first audio with sound.
        answered, sound = answers[row["number"]].at, first_sound.get(row["number"])
        assert sound is not None, f"{row['number']} heard nothing"
        assert 0 < sound - answered <= CONNECT_WITHIN, (row["number"], sound - answered)
        assert agent_heard[row["number"]] < 0.5, f"{row['number']} heard an agent"
    for row in bridged:
        assert row["agent"] in codes, row
        assert agent_heard[row["number"]] > 0.5, f"{row['number']} did not hear the agent"
        assert tone_heard[row["agent"]], f"agent {row['agent']} heard no bridge tone"
    assert len(events.of(AgentHearsCustomer)) == len(bridged), "each agent heard their customer"
    assert len(events.of(CallAbandoned)) == len(dropped)

    # The governor's guarantee, after the run: within the budget the tally allowed.
    with container.store.read() as session:
        after = session.abandonment.tally(campaign_id, window)
    assert after == Tally(live=len(HISTORY) + len(people), abandoned=len(dropped))
    assert after.rate(rules) <= rules.target <= REGULATORY_LIMIT, after
    assert len(dropped) <= before.budget(rules) + len(bridged) * rules.target / (1 - rules.target)
