"""The Dialer API answers every refusal of the shared services in its envelope, never a 500."""

import orjson

from dialer.api.rpc.dispatch import _error
from dialer.api.rpc.methods import METHODS
from dialer.domain.errors import Conflict


def test_a_conflict_is_an_invalid_request_envelope_not_an_internal_error() -> None:
    method = next(iter(METHODS.values()))
    answer = _error(method, Conflict("the campaign was cancelled; it cannot start again"))
    assert answer.status_code == 200
    assert orjson.loads(answer.body) == {
        "ErrorCode": 5,
        "Description": "Invalid request: the campaign was cancelled; it cannot start again",
    }


def test_an_unexpected_error_is_still_an_internal_error() -> None:
    method = next(iter(METHODS.values()))
    answer = _error(method, RuntimeError("boom"))
    assert answer.status_code == 500
    assert orjson.loads(answer.body)["Description"] == "Internal error occurred."
