"""The simulated network: test numbers, determinism, the default mix, time, limits, profiles."""

import asyncio
import dataclasses
import random
import wave
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from dialer.domain.call import Answered, AnsweredBy, Failed, Hangup, OriginateRequest
from dialer.domain.codes import Outcome
from dialer.domain.errors import ValidationFailed
from dialer.domain.events import Recording, SmsSent
from dialer.domain.sms import OutboundSms, SubmitStatus
from dialer.ports import Call, TelephonyDriver
from dialer.ports.sms import SmsProvider
from dialer.telephony.sim_network import (
    CHANNELS_FULL_CAUSE,
    PLAY_SECONDS,
    RING_OUT_CAUSE,
    RING_TIMEOUT_CAUSE,
    SMS_REJECTING_NUMBER,
    TEST_NUMBERS,
    TEST_PLANS,
    SimulatedNetwork,
)
from dialer.telephony.sim_profile import CallFate, SimProfile, default_document
from dialer.telephony.sms import SimulatedSmsGateway

START = datetime(2025, 9, 30, 9, 0, tzinfo=UTC)
MESSAGE = "This is a reminder about your appointment tomorrow at ten"  # 10 words: 4 s
FIVE_SECONDS = timedelta(seconds=5)
T = TypeVar("T")
# What a call said: its progress, each media step's answer, and how it ended.
Flow = tuple[Answered | Failed, tuple[bool | str | None, ...], Hangup]
K = TypeVar("K")
DEFAULT = SimProfile.default()


class FakeTimer:
    """Tells a settable time; sleeping only records when the caller wanted to wake."""

    def __init__(self) -> None:
        self.now_value = START
        self.slept: list[datetime] = []

    def now(self) -> datetime:
        return self.now_value

    async def sleep_until(self, when: datetime) -> None:
        self.slept.append(when)

    async def idle_until(self, when: datetime) -> None:
        self.now_value = max(self.now_value, when)

    def real_seconds(self, span: timedelta) -> float | None:
        return None


def run(awaitable: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


def request(number: str, reference: str = "1:1", ring_timeout: float = 30) -> OriginateRequest:
    return OriginateRequest(number, "+441632960000", timedelta(seconds=ring_timeout), reference)


def network(
    profile: SimProfile | None = None,
    *,
    seed: int = 0,
    channels: int | None = None,
    origination_log: Path | None = None,
) -> SimulatedNetwork:
    return SimulatedNetwork(profile or DEFAULT, FakeTimer(), seed, channels, origination_log)


def seconds(when: datetime) -> float:
    return (when - START).total_seconds()


async def engine_flow(net: TelephonyDriver, req: OriginateRequest) -> Flow:
    """The engine's usual sequence, returning everything the network said."""
    call: Call = await net.originate(req)
    result = await call.progress()
    said: list[bool | str | None] = []
    if isinstance(result, Answered):
        if result.by is AnsweredBy.MACHINE:
            said.append(await call.await_greeting_end())
        said.append(await call.say(MESSAGE, None))
        said.append(await call.gather(1, FIVE_SECONDS))
    return result, tuple(said), await call.hangup()


def test_every_test_number_is_described_and_reserved_for_drama() -> None:
    assert set(TEST_NUMBERS) == {*TEST_PLANS, SMS_REJECTING_NUMBER}
    assert all(number.startswith("+447700900") and len(number) == 13 for number in TEST_NUMBERS)


@pytest.mark.parametrize(
    ("number", "outcome", "cause", "ended_after"),
    [
        ("+447700900001", Outcome.BUSY, "486 Busy Here", 1),
        ("+447700900006", Outcome.UNOBTAINABLE, "404 Not Found", 1),
        ("+447700900007", Outcome.NO_ANSWER, RING_TIMEOUT_CAUSE, 30),
        ("+447700900008", Outcome.NO_CONNECTION, "no response (timeout)", 1),
        ("+447700900010", Outcome.OVERFLOW, "503 Service Unavailable", 1),
        ("+447700900011", Outcome.INVALID_NUMBER, "484 Address Incomplete", 1),
    ],
)
def test_failing_test_numbers(number: str, outcome: Outcome, cause: str, ended_after: int) -> None:
    result, said, hangup = run(engine_flow(network(), request(number)))
    assert result == Failed(START, START + timedelta(seconds=ended_after), outcome, cause)
    assert said == ()
    assert hangup == Hangup(START + timedelta(seconds=ended_after), cause, by_callee=False)


@pytest.mark.parametrize(
    ("number", "key", "ended_after"),
    [
        ("+447700900000", "", 12),  # 3 ringing + 4 message + 5 waiting for a key
        ("+447700900002", "1", 8),  # ... + 1 to press
        ("+447700900003", "2", 8),
        ("+447700900009", "9", 8),
    ],
)
def test_people_on_test_numbers_press_their_key(number: str, key: str, ended_after: int) -> None:
    result, said, hangup = run(engine_flow(network(), request(number)))
    assert result == Answered(START, START + timedelta(seconds=3), AnsweredBy.HUMAN)
    assert said == (True, key)
    assert hangup == Hangup(
        START + timedelta(seconds=ended_after), "normal clearing", by_callee=False
    )


def test_a_person_presses_once_and_a_long_gather_waits_for_the_next_digit() -> None:
    async def flow() -> tuple[str | None, str | None, Hangup]:
        call = await network().originate(request("+447700900002"))
        await call.progress()
        await call.say(MESSAGE, None)  # 4 s
        first = await call.gather(4, FIVE_SECONDS)  # 1 to press + 5 of digit timeout
        return first, await call.gather(1, FIVE_SECONDS), await call.hangup()

    first, second, hangup = run(flow())
    assert (first, second) == ("1", "")
    assert seconds(hangup.ended_at) == 3 + 4 + 6 + 5


def test_the_answerphone_number_greets_then_records() -> None:
    result, said, hangup = run(engine_flow(network(), request("+447700900004")))
    assert isinstance(result, Answered)
    assert result.by is AnsweredBy.MACHINE
    assert said == (True, True, "")
    assert seconds(hangup.ended_at) == 3 + 5 + 4 + 5
    assert not hangup.by_callee


def test_a_message_left_on_the_answerphone_starts_at_its_beep() -> None:
    async def flow() -> tuple[object, ...]:
        call = await network().originate(request("+447700900004"))
        result = await call.progress()
        return result, await call.leave_message(MESSAGE, None), await call.hangup()

    result, left, hangup = run(flow())
    assert isinstance(result, Answered)
    assert result.by is AnsweredBy.MACHINE
    assert left is True
    assert isinstance(hangup, Hangup)
    # As the engine's greeting-then-say did: ring, greeting, then the message.
    assert seconds(hangup.ended_at) == 3 + 5 + 4


def test_the_fax_number_answers_and_never_presses() -> None:
    async def flow() -> tuple[object, ...]:
        call = await network().originate(request("+447700900005"))
        result = await call.progress()
        greeting = await call.await_greeting_end()
        return result, greeting, await call.gather(1, FIVE_SECONDS), await call.hangup()

    result, greeting, pressed, hangup = run(flow())
    assert isinstance(result, Answered)
    assert result.by is AnsweredBy.FAX
    assert (greeting, pressed) == (True, "")
    assert isinstance(hangup, Hangup)
    assert seconds(hangup.ended_at) == 3 + 5


def test_the_hang_up_number_leaves_halfway_through_the_message() -> None:
    result, said, hangup = run(engine_flow(network(), request("+447700900012")))
    assert isinstance(result, Answered)
    assert said == (False, None)
    assert hangup == Hangup(START + timedelta(seconds=3 + 2), "callee hung up", by_callee=True)


def test_timestamps_come_from_the_calls_cursor_not_the_timer() -> None:
    timer = FakeTimer()
    net = SimulatedNetwork(SimProfile.default(), timer)

    async def flow() -> tuple[Answered | Failed, Hangup]:
        call = await net.originate(request("+447700900002"))
        timer.now_value = START + timedelta(hours=5)  # ignored: the call has its own clock
        result = await call.progress()
        await call.say(MESSAGE, None)
        await call.gather(1, FIVE_SECONDS)
        return result, await call.hangup()

    result, hangup = run(flow())
    assert isinstance(result, Answered)
    assert seconds(result.answered_at) == 3
    assert seconds(hangup.ended_at) == 8
    assert [seconds(t) for t in timer.slept] == [3, 7, 8]


def test_a_ring_timeout_shorter_than_the_ringing_is_no_answer() -> None:
    result, _, hangup = run(engine_flow(network(), request("+447700900000", ring_timeout=2)))
    assert result == Failed(
        START, START + timedelta(seconds=2), Outcome.NO_ANSWER, RING_TIMEOUT_CAUSE
    )
    assert hangup.ended_at == START + timedelta(seconds=2)


def test_unanswered_calls_ring_out_at_the_network_or_at_the_ring_timeout() -> None:
    profile = profile_with(outcomes={**only("no_answer")})
    out = run(engine_flow(network(profile), request("+447911123456", ring_timeout=300)))[0]
    assert isinstance(out, Failed)
    assert (out.outcome, out.cause) == (Outcome.NO_ANSWER, RING_OUT_CAUSE)
    assert 30 <= seconds(out.ended_at) <= 90
    cut = run(engine_flow(network(profile), request("+447911123456", ring_timeout=20)))[0]
    assert isinstance(cut, Failed)
    assert (cut.outcome, cut.cause, seconds(cut.ended_at)) == (
        Outcome.NO_ANSWER,
        RING_TIMEOUT_CAUSE,
        20,
    )


def test_calls_beyond_the_channels_are_congestion() -> None:
    net = network(channels=2)

    async def flow() -> list[Answered | Failed]:
        first = await net.originate(request("+447700900000", "1:1"))
        await net.originate(request("+447700900000", "2:1"))
        refused = await net.originate(request("+447700900000", "3:1"))
        results = [await first.progress(), await refused.progress()]
        await first.hangup()
        again = await net.originate(request("+447700900000", "4:1"))
        results.append(await again.progress())
        await again.hangup()
        busy = await net.originate(request("+447700900001", "5:1"))
        results.append(await busy.progress())  # a call that fails frees its channel
        after_busy = await net.originate(request("+447700900000", "6:1"))
        results.append(await after_busy.progress())
        return results

    results = run(flow())
    assert [isinstance(r, Answered) for r in results] == [True, False, True, False, True]
    refused = results[1]
    assert isinstance(refused, Failed)
    assert (refused.outcome, refused.cause) == (Outcome.OVERFLOW, CHANNELS_FULL_CAUSE)
    assert net.originated == 6
    assert net.in_progress == 2


def test_hanging_up_while_it_rings_cancels_the_call() -> None:
    net = network(channels=1)

    async def flow() -> tuple[Hangup, Answered | Failed]:
        call = await net.originate(request("+447700900000"))
        hangup = await call.hangup()
        assert await call.hangup() is hangup
        return hangup, await (await net.originate(request("+447700900000", "1:2"))).progress()

    hangup, next_call = run(flow())
    assert hangup == Hangup(START, "487 Request Terminated", by_callee=False)
    assert isinstance(next_call, Answered)  # the cancelled call gave its channel back


def test_zero_durations_keep_every_outcome_and_stop_the_clock() -> None:
    numbers = random_numbers(200)
    zero = dataclasses.replace(DEFAULT, zero_durations=True)
    timed = run(flows(network(seed=3), numbers))
    instant = run(flows(network(zero, seed=3), numbers))
    assert [strip_times(f) for f in timed] == [strip_times(f) for f in instant]
    for result, _, hangup in instant:
        assert hangup.ended_at == result.originated_at == START


def test_the_same_seed_dials_the_same_story() -> None:
    numbers = random_numbers(1000)
    first = run(flows(network(seed=11), numbers))
    again = run(flows(network(seed=11), numbers))
    other = run(flows(network(seed=12), numbers))
    assert first == again
    changed = sum(fate_of(a) != fate_of(b) for a, b in zip(first, other, strict=True))
    # Two independent draws of outcome and answerer agree about a quarter of the time.
    assert changed > 500
    retries = {fate_of(f) for f in run(flows(network(), [numbers[0]] * 50, vary_attempt=True))}
    assert len(retries) > 1  # a retry is a new call with its own story


def test_the_default_profile_is_reproduced_over_many_calls() -> None:
    profile = DEFAULT
    net = network(profile, seed=5)
    fates: Counter[str] = Counter()
    answered_by: Counter[AnsweredBy] = Counter()
    keys: Counter[str] = Counter()

    async def flow() -> None:
        for i, number in enumerate(random_numbers(20_000)):
            # Past every ring time, so the profile's mix is what the engine sees.
            call = await net.originate(request(number, f"{i}:1", ring_timeout=120))
            result = await call.progress()
            if isinstance(result, Failed):
                fates[result.outcome.name] += 1
            else:
                fates[Outcome.ANSWERED.name] += 1
                answered_by[result.by] += 1
                if result.by is AnsweredBy.HUMAN:
                    listened = await call.say("Press one now", None)
                    pressed = await call.gather(1, FIVE_SECONDS)
                    keys[(pressed or "none") if listened else "hangup"] += 1
            await call.hangup()

    asyncio.run(flow())
    expected_outcomes = {
        Outcome.ANSWERED.name: profile.outcomes[CallFate.ANSWER],
        Outcome.BUSY.name: profile.outcomes[CallFate.BUSY],
        Outcome.NO_ANSWER.name: profile.outcomes[CallFate.NO_ANSWER],
        Outcome.UNOBTAINABLE.name: profile.outcomes[CallFate.UNOBTAINABLE],
        Outcome.INVALID_NUMBER.name: profile.outcomes[CallFate.INVALID],
        Outcome.NO_CONNECTION.name: profile.outcomes[CallFate.NETWORK_FAILURE],
        Outcome.OVERFLOW.name: profile.outcomes[CallFate.CONGESTION],
    }
    assert_rates(fates, expected_outcomes)
    assert_rates(answered_by, dict(profile.answered_by))
    assert_rates(keys, dict(profile.keypress))
    assert net.in_progress == 0


def test_profile_validation_names_the_bad_key() -> None:
    document = load_default_document()
    problems = validation_errors({**document, "outcomes": {**document["outcomes"], "busy": 0.2}})
    assert problems["outcomes"] == ["probabilities must sum to 1 (got 1.1)"]
    problems = validation_errors({**document, "colour": "red"})
    assert "unknown key" in problems["colour"][0]
    human = {**document["human"], "mood": "cheerful"}
    assert "unknown key" in validation_errors({**document, "human": human})["human.mood"][0]
    ring = {**document["ring_seconds"], "min": -1}
    problems = validation_errors({**document, "ring_seconds": ring})
    assert problems["ring_seconds.min"] == ["must not be negative (got -1)"]
    ring = {**document["ring_seconds"], "max": 1}
    assert (
        "min <= median <= max"
        in validation_errors({**document, "ring_seconds": ring})["ring_seconds"][0]
    )
    keypress = {k: v for k, v in document["human"]["keypress"].items() if k != "none"}
    problems = validation_errors({**document, "human": {**document["human"], "keypress": keypress}})
    assert problems["human.keypress.none"] == ["is required"]
    assert problems["$"] == ["in profile"]


def test_a_user_profile_takes_missing_sections_from_the_default(tmp_path: Path) -> None:
    path = tmp_path / "bench.yaml"
    path.write_text("zero_durations: true\nanswered_by: {human: 1, machine: 0, fax: 0}\n")
    profile = SimProfile.load(path)
    default = SimProfile.default()
    assert profile.zero_durations
    assert profile.name == "bench"
    assert profile.answered_by[AnsweredBy.HUMAN] == 1
    assert profile.outcomes == default.outcomes
    path.write_text("outcomes: {answer: 1}\n")
    with pytest.raises(ValidationFailed) as raised:
        SimProfile.load(path)
    assert raised.value.errors["outcomes.busy"] == ["is required"]
    assert raised.value.errors["$"] == [f"in {path}"]
    path.write_text("- a list\n")
    with pytest.raises(ValidationFailed, match="must be a mapping"):
        SimProfile.load(path)
    path.write_text("outcomes: {answer: [1\n")
    with pytest.raises(ValidationFailed, match="not valid YAML"):
        SimProfile.load(path)


def test_each_originate_is_logged_before_the_call_is_placed(tmp_path: Path) -> None:
    log = tmp_path / "originated.log"
    # Two networks stand for two worker processes appending to one file.
    first = network(origination_log=log, channels=1)
    second = network(origination_log=log)

    async def flow() -> list[str]:
        await first.originate(request("+447700900000", "1:1"))
        seen = log.read_text().splitlines()  # before anyone awaited the call's progress
        await second.originate(request("+447700900001", "2:1"))
        await first.originate(request("+447700900000", "3:1"))  # refused: still logged
        await first.close()
        await second.close()
        return seen

    assert run(flow()) == ["1:1"]
    assert log.read_text() == "1:1\n2:1\n3:1\n"
    assert (first.originated, second.originated) == (2, 1)


def test_the_sms_gateway_records_every_message_and_rejects_the_test_number() -> None:
    timer = FakeTimer()
    gateway: SmsProvider = SimulatedSmsGateway(timer, events := Recording())
    accepted = run(gateway.submit(OutboundSms("1", "+447700900000", "Clinic", "See you")))
    timer.now_value = START + timedelta(minutes=1)
    rejected = run(gateway.submit(OutboundSms("2", SMS_REJECTING_NUMBER, "Clinic", "See you")))
    assert accepted.status is SubmitStatus.ACCEPTED
    assert rejected.status is SubmitStatus.FAILED
    sent = events.of(SmsSent)
    assert accepted.provider_ids == (sent[0].reference,)
    assert sent[0].reference != sent[1].reference
    assert [(m.to, m.sent_at, m.accepted) for m in sent] == [
        ("+447700900000", START, True),
        (SMS_REJECTING_NUMBER, START + timedelta(minutes=1), False),
    ]


# helpers


def random_numbers(count: int) -> list[str]:
    rng = random.Random(20250930)
    return [f"+447{rng.randrange(100_000_000, 999_999_999)}" for _ in range(count)]


async def flows(
    net: SimulatedNetwork, numbers: list[str], vary_attempt: bool = False
) -> list[Flow]:
    """The engine's flow for each number in turn, as attempt 1 (or 1, 2, 3... of one number)."""
    references = [f"7:{i + 1}" if vary_attempt else "7:1" for i in range(len(numbers))]
    return [await engine_flow(net, request(n, r)) for n, r in zip(numbers, references, strict=True)]


def fate_of(flow: Flow) -> Outcome | AnsweredBy:
    result = flow[0]
    return result.outcome if isinstance(result, Failed) else result.by


def strip_times(flow: Flow) -> tuple[object, ...]:
    _, said, hangup = flow
    return fate_of(flow), said, hangup.cause, hangup.by_callee


def only(key: str) -> dict[str, float]:
    return {fate.value: 1.0 if fate.value == key else 0.0 for fate in CallFate}


def load_default_document() -> dict[str, Any]:
    return default_document()


def profile_with(**sections: object) -> SimProfile:
    return SimProfile.from_document({**load_default_document(), **sections})


def validation_errors(document: object) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as raised:
        SimProfile.from_document(document)  # type: ignore[arg-type]
    return raised.value.errors


def assert_rates(counts: Counter[K], expected: dict[K, float]) -> None:
    """Every observed share within five standard errors of its probability."""
    total = sum(counts.values())
    for key, probability in expected.items():
        share = counts[key] / total
        error = (probability * (1 - probability) / total) ** 0.5
        assert abs(share - probability) <= 5 * error + 1e-9, (key, share, probability)


def test_play_lasts_as_long_as_its_wav_file_or_three_seconds(tmp_path: Path) -> None:
    jingle = tmp_path / "jingle.wav"
    with wave.open(str(jingle), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\0\0" * 12000)  # 1.5 s
    (tmp_path / "broken.wav").write_bytes(b"not a wav")

    async def flow() -> tuple[list[bool], Hangup]:
        call = await network().originate(request("+447700900000"))
        await call.progress()
        played = [await call.play(str(tmp_path / name)) for name in ("jingle.wav", "broken.wav")]
        played.append(await call.play(str(tmp_path / "missing.wav")))
        return played, await call.hangup()

    played, hangup = run(flow())
    assert played == [True, True, True]
    assert seconds(hangup.ended_at) == 3 + 1.5 + PLAY_SECONDS * 2


def test_a_transfer_hands_over_a_callee_still_on_the_line() -> None:
    async def flow(number: str) -> tuple[bool, Hangup]:
        call = await network().originate(request(number))
        await call.progress()
        await call.say(MESSAGE, None)
        return await call.transfer("queue:Sales"), await call.hangup()

    assert run(flow("+447700900000")) == (
        True,
        Hangup(START + timedelta(seconds=3 + 4), "transferred to queue:Sales", by_callee=False),
    )
    transferred, hangup = run(flow("+447700900012"))  # gone halfway through the message
    assert not transferred
    assert hangup.cause == "callee hung up"


def test_a_person_presses_their_key_at_the_first_gather_only() -> None:
    async def flow() -> list[str | None]:
        call = await network().originate(request("+447700900009"))
        await call.progress()
        await call.say(MESSAGE, None)
        return [await call.gather(1, FIVE_SECONDS) for _ in range(3)]

    assert run(flow()) == ["9", "", ""]


def test_a_person_presses_nothing_before_a_prompt() -> None:
    """The engine listening while a customer waits for an agent is no prompt: the key is
    kept for the first gather after something was said (an abandoned call's opt-out)."""

    async def flow() -> list[str | None]:
        call = await network().originate(request("+447700900009"))
        await call.progress()
        waiting = await call.gather(1, FIVE_SECONDS)
        await call.say(MESSAGE, None)
        return [waiting, await call.gather(1, FIVE_SECONDS)]

    assert run(flow()) == ["", "9"]
