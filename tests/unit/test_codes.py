"""The Outcome and Stage tables exactly as voice-campaign-api.md lists them."""

import sys
from collections.abc import Callable
from functools import partial
from types import FrameType

from dialer.domain.codes import Outcome, Stage

SEED_OUTCOMES = [
    "Answered",
    "Unobtainable",
    "Busy",
    "AnswerphoneMessageNotLeft",
    "AnswerphoneMessageLeft",
    "NoAnswer",
    "Overflow",
    "OutOfTime",
    "Fax",
    "Unknown",
    "ExcludedNumber",
    "NoConnection",
    "InvalidNumber",
]
SEED_STAGES = [
    "None",
    "CorrectCallee",
    "WrongCallee",
    "CallDeclined",
    "CorrectColleeHungUp",
    "WrongCalleeHungUp",
    "CallCenterHungUp",
    "CalleeTransferRequest",
    "CalleeTransferAccepted",
    "Excluded",
    "Answered",
    "AnswerphoneMessageNotLeft",
    "AnswerphoneMessageLeft",
    "OptIn",
    "OptOut",
    "WrongCalleeTransferRequested",
    "CallTransferredToCallCentre",
    "TransferredToPaymentLine",
    "CallerRequestedCallBack",
    "WrongCalleeTransferAccepted",
    "CallDropped",
]


def test_outcome_codes_and_names_match_the_seed() -> None:
    assert [(o.value, o.api_name) for o in Outcome] == list(enumerate(SEED_OUTCOMES, start=1))


def test_stage_codes_and_names_match_the_seed() -> None:
    assert [(s.value, s.api_name) for s in Stage] == list(enumerate(SEED_STAGES))


def _python_calls_of(action: Callable[[], object]) -> list[str]:
    calls: list[str] = []

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            calls.append(frame.f_code.co_qualname)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def test_outcomes_and_stages_hash_without_running_python_code() -> None:
    # The engine's tallies and metrics key dicts by these several times per attempt; Enum's
    # own __hash__ is Python code (hash of the name), a call each time (docs/engine.md).
    for member in [*Outcome, *Stage]:
        assert _python_calls_of(partial(hash, member)) == []
    tally = dict.fromkeys(Outcome, 0)
    tally[Outcome(3)] += 1
    assert tally[Outcome.BUSY] == 1
    assert {Stage(20)} == {Stage.CALL_DROPPED}
    assert len({*Outcome, *Stage}) == len(Outcome) + len(Stage)
