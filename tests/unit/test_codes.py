"""The Outcome and Stage tables exactly as voice-campaign-api.md lists them."""

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
