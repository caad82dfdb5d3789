"""The Outcome (1-13) and Stage (0-20) of a call, as voice-campaign-api.md defines them.

The members carry the seed's numeric codes because those codes are the stored and published
vocabulary; ``api_name`` gives the seed's spelling (including its "CorrectColleeHungUp").
"""

from enum import Enum


class Outcome(Enum):
    ANSWERED = 1
    UNOBTAINABLE = 2
    BUSY = 3
    ANSWERPHONE_MESSAGE_NOT_LEFT = 4
    ANSWERPHONE_MESSAGE_LEFT = 5
    NO_ANSWER = 6
    OVERFLOW = 7
    OUT_OF_TIME = 8
    FAX = 9
    UNKNOWN = 10
    EXCLUDED_NUMBER = 11
    NO_CONNECTION = 12
    INVALID_NUMBER = 13

    # Members are singletons compared by identity, so identity's C-level hash agrees with ==;
    # Enum's own hashes the name in Python code, and the engine hashes these keys (its tallies,
    # the metrics' series) several times per attempt (docs/engine.md, "Throughput").
    __hash__ = object.__hash__

    @property
    def api_name(self) -> str:
        return _OUTCOME_NAMES[self]


_OUTCOME_NAMES = {
    Outcome.ANSWERED: "Answered",
    Outcome.UNOBTAINABLE: "Unobtainable",
    Outcome.BUSY: "Busy",
    Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT: "AnswerphoneMessageNotLeft",
    Outcome.ANSWERPHONE_MESSAGE_LEFT: "AnswerphoneMessageLeft",
    Outcome.NO_ANSWER: "NoAnswer",
    Outcome.OVERFLOW: "Overflow",
    Outcome.OUT_OF_TIME: "OutOfTime",
    Outcome.FAX: "Fax",
    Outcome.UNKNOWN: "Unknown",
    Outcome.EXCLUDED_NUMBER: "ExcludedNumber",
    Outcome.NO_CONNECTION: "NoConnection",
    Outcome.INVALID_NUMBER: "InvalidNumber",
}


class Stage(Enum):
    NONE = 0
    CORRECT_CALLEE = 1
    WRONG_CALLEE = 2
    CALL_DECLINED = 3
    CORRECT_CALLEE_HUNG_UP = 4
    WRONG_CALLEE_HUNG_UP = 5
    CALL_CENTER_HUNG_UP = 6
    CALLEE_TRANSFER_REQUEST = 7
    CALLEE_TRANSFER_ACCEPTED = 8
    EXCLUDED = 9
    ANSWERED = 10
    ANSWERPHONE_MESSAGE_NOT_LEFT = 11
    ANSWERPHONE_MESSAGE_LEFT = 12
    OPT_IN = 13
    OPT_OUT = 14
    WRONG_CALLEE_TRANSFER_REQUESTED = 15
    CALL_TRANSFERRED_TO_CALL_CENTRE = 16
    TRANSFERRED_TO_PAYMENT_LINE = 17
    CALLER_REQUESTED_CALL_BACK = 18
    WRONG_CALLEE_TRANSFER_ACCEPTED = 19
    CALL_DROPPED = 20

    __hash__ = object.__hash__  # as Outcome's: a C-level hash

    @property
    def api_name(self) -> str:
        return _STAGE_NAMES[self]


_STAGE_NAMES = {
    Stage.NONE: "None",
    Stage.CORRECT_CALLEE: "CorrectCallee",
    Stage.WRONG_CALLEE: "WrongCallee",
    Stage.CALL_DECLINED: "CallDeclined",
    # The seed spells it this way; clients match on the string, so we keep it.
    Stage.CORRECT_CALLEE_HUNG_UP: "CorrectColleeHungUp",
    Stage.WRONG_CALLEE_HUNG_UP: "WrongCalleeHungUp",
    Stage.CALL_CENTER_HUNG_UP: "CallCenterHungUp",
    Stage.CALLEE_TRANSFER_REQUEST: "CalleeTransferRequest",
    Stage.CALLEE_TRANSFER_ACCEPTED: "CalleeTransferAccepted",
    Stage.EXCLUDED: "Excluded",
    Stage.ANSWERED: "Answered",
    Stage.ANSWERPHONE_MESSAGE_NOT_LEFT: "AnswerphoneMessageNotLeft",
    Stage.ANSWERPHONE_MESSAGE_LEFT: "AnswerphoneMessageLeft",
    Stage.OPT_IN: "OptIn",
    Stage.OPT_OUT: "OptOut",
    Stage.WRONG_CALLEE_TRANSFER_REQUESTED: "WrongCalleeTransferRequested",
    Stage.CALL_TRANSFERRED_TO_CALL_CENTRE: "CallTransferredToCallCentre",
    Stage.TRANSFERRED_TO_PAYMENT_LINE: "TransferredToPaymentLine",
    Stage.CALLER_REQUESTED_CALL_BACK: "CallerRequestedCallBack",
    Stage.WRONG_CALLEE_TRANSFER_ACCEPTED: "WrongCalleeTransferAccepted",
    Stage.CALL_DROPPED: "CallDropped",
}
