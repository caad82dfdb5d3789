"""Reading campaign bodies: no I/O, so every rule can be shown on its own."""

from typing import Any

import pytest

from dialer.domain.errors import ValidationFailed
from dialer.domain.policy import MessagePolicy
from dialer.services.campaign_input import parse_campaign

BASE: dict[str, Any] = {
    "startDate": "2025-10-01",
    "startTime": "09:00",
    "finishTime": "12:00",
    "callflow_Id": 1,
    "cli_Id": 1,
    "phoneNumbers": [{"number": "07722123456"}],
}


def errors_of(body: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        parse_campaign(body, max_numbers=1000)
    return caught.value.errors


def test_defaults_when_optional_parts_are_left_out() -> None:
    parsed = parse_campaign(BASE, max_numbers=100)
    assert parsed.spec.attempts == ()
    assert parsed.spec.max_attempts == 1
    assert parsed.spec.answerphone is MessagePolicy.NEVER
    assert parsed.spec.name is None


def test_policies_accept_codes_and_names_and_both_answerphone_spellings() -> None:
    parsed = parse_campaign(
        {**BASE, "answerPhoneMessage": "OnTheLastCall", "smsOnBusy": 1}, max_numbers=9
    )
    assert parsed.spec.answerphone is MessagePolicy.ON_THE_LAST_CALL
    assert parsed.spec.sms_on_busy is MessagePolicy.ON_THE_FIRST_CALL
    both = errors_of({**BASE, "answerPhoneMessage": 1, "answerMachineDetected": 2})
    assert both == {"AnswerPhoneMessage": ["The property is given more than once."]}


def test_times_dates_and_ids_are_strict() -> None:
    errors = errors_of(
        {
            **BASE,
            "startDate": "20251001",
            "startTime": "24:00",
            "finishTime": "9:00",
            "callflow_Id": 0,
            "cli_Id": True,
        }
    )
    assert set(errors) == {"StartDate", "StartTime", "FinishTime", "CallFlow_Id", "Cli_Id"}
    assert (
        parse_campaign(
            {**BASE, "finishTime": "12:00:30"}, max_numbers=9
        ).spec.schedule.window.finish.second
        == 30
    )


def test_parameters_and_names_are_checked() -> None:
    numbers = [
        {"number": "07722123456", "name": "x" * 201},
        {"number": "07722123457", "parameters": [{"parameter": 1}]},
        {"number": "07722123458", "parameters": [{"parameter": 1, "value": 5}]},
        {"number": "07722123459", "parameters": {"parameter": 1, "value": "a"}},
    ]
    errors = errors_of({**BASE, "phoneNumbers": numbers})
    assert set(errors) == {
        "PhoneNumbers[0].Name",
        "PhoneNumbers[1].Parameters[0].Value",
        "PhoneNumbers[2].Parameters[0].Value",
        "PhoneNumbers[3].Parameters",
    }


def test_error_list_is_capped_but_says_how_many_more() -> None:
    numbers = [{"number": "letters"} for _ in range(250)]
    errors = errors_of({**BASE, "phoneNumbers": numbers})
    assert len(errors) == 201
    assert errors["$"] == ["50 more fields have problems"]
