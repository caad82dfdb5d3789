"""Reading a voice-campaign request body into domain values, reporting every problem by field.

Property names are matched case-insensitively (the seed writes both ``StartDate`` and
``startDate``); problems are reported under the seed's PascalCase names with list indexes,
e.g. ``PhoneNumbers[3].Parameters[0].Parameter``. Unknown properties are ignored, as ASP.NET does.
"""

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, NamedTuple

from dialer.domain.agent import AgentOptions
from dialer.domain.amd_mode import AmdMode
from dialer.domain.campaign import MAX_PARAMETERS, CampaignSpec, CampaignStatus, CampaignType
from dialer.domain.errors import FieldErrors
from dialer.domain.ids import CallFlowId, CliId
from dialer.domain.policy import AttemptRule, MessagePolicy, attempt_problems
from dialer.domain.schedule import RunoverDay, Schedule, Window, runover_problems, window_problems
from dialer.services.compliance_input import parse_message
from dialer.services.numbers import looks_like_number
from dialer.services.pacing_input import parse_pacing

MAX_NAME_LENGTH = 200
MAX_PARAMETER_LENGTH = 1000

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_MAX_ID = 2**63 - 1

# lower-cased property name -> (canonical key, display name used in errors)
_CAMPAIGN_FIELDS = {
    "name": ("name", "Name"),
    "startdate": ("startdate", "StartDate"),
    "starttime": ("starttime", "StartTime"),
    "finishtime": ("finishtime", "FinishTime"),
    "runoverdays": ("runoverdays", "RunoverDays"),
    "callflow_id": ("callflow_id", "CallFlow_Id"),
    "callflowid": ("callflow_id", "CallFlow_Id"),
    "cli_id": ("cli_id", "Cli_Id"),
    "cliid": ("cli_id", "Cli_Id"),
    "attempts": ("attempts", "Attempts"),
    # The seed names the answerphone policy both ways; either spelling sets it.
    "answerphonemessage": ("answerphone", "AnswerPhoneMessage"),
    "answermachinedetected": ("answerphone", "AnswerPhoneMessage"),
    "smsonbusy": ("smsonbusy", "SMSOnBusy"),
    "phonenumbers": ("phonenumbers", "PhoneNumbers"),
    "type": ("type", "Type"),
    "status": ("status", "Status"),
    "agentoptions": ("agentoptions", "AgentOptions"),
    "answerdetection": ("answerdetection", "AnswerDetection"),
}
_RUNOVER_FIELDS = {
    "date": ("date", "Date"),
    "starttime": ("starttime", "StartTime"),
    "finishtime": ("finishtime", "FinishTime"),
}
_ATTEMPT_FIELDS = {
    "interval": ("interval", "Interval"),
    "attemptnumber": ("attemptnumber", "AttemptNumber"),
}
_POLICY_NAMES = {"never": 0, "onthefirstcall": 1, "onthelastcall": 2}


class NumberInput(NamedTuple):
    raw: str
    name: str | None
    parameters: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class CampaignInput:
    spec: CampaignSpec
    numbers: list[NumberInput]
    status: CampaignStatus | None = None  # None: as it is (PUT), Enabled (POST)


def _props(
    obj: dict[str, Any], fields: dict[str, tuple[str, str]], path: str, errors: FieldErrors
) -> dict[str, Any]:
    """Case-insensitive view of a JSON object; a property given twice is an error."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        found = fields.get(key.lower())
        if found is None:
            continue
        canonical, display = found
        if canonical in out:
            errors.add(f"{path}{display}", "The property is given more than once.")
        out[canonical] = value
    return out


class _Reader:
    def __init__(self, errors: FieldErrors) -> None:
        self.errors = errors

    def text(self, value: Any, field: str, *, required: bool, max_length: int) -> str | None:
        if value is None:
            if required:
                self.errors.add(field, f"The {field.rsplit('.', 1)[-1]} field is required.")
            return None
        if not isinstance(value, str):
            self.errors.add(field, "Must be a string.")
            return None
        if len(value) > max_length:
            self.errors.add(field, f"Must be at most {max_length} characters.")
            return None
        return value

    def day(self, value: Any, field: str) -> date | None:
        text = self.text(value, field, required=True, max_length=10)
        if text is None:
            return None
        if _DATE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.errors.add(field, f"'{text}' is not a date in the form YYYY-MM-DD.")
        return None

    def clock_time(self, value: Any, field: str) -> time | None:
        text = self.text(value, field, required=True, max_length=8)
        if text is None:
            return None
        match = _TIME.match(text)
        if match is None:
            self.errors.add(field, f"'{text}' is not a time in the form HH:MM (24-hour).")
            return None
        hour, minute, second = match.groups()
        return time(int(hour), int(minute), int(second or 0))

    def integer(self, value: Any, field: str, *, required: bool) -> int | None:
        if value is None:
            if required:
                self.errors.add(field, f"The {field.rsplit('.', 1)[-1]} field is required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors.add(field, "Must be a whole number.")
            return None
        return value

    def identifier(self, value: Any, field: str) -> int | None:
        number = self.integer(value, field, required=True)
        if number is not None and not 1 <= number <= _MAX_ID:
            self.errors.add(field, "Must be a positive id.")
            return None
        return number

    def policy(self, value: Any, field: str) -> MessagePolicy:
        if value is None:
            return MessagePolicy.NEVER
        if isinstance(value, str) and value.lower() in _POLICY_NAMES:
            return MessagePolicy(_POLICY_NAMES[value.lower()])
        if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
            return MessagePolicy(value)
        self.errors.add(field, "Must be 0 (Never), 1 (OnTheFirstCall) or 2 (OnTheLastCall).")
        return MessagePolicy.NEVER

    def array(self, value: Any, field: str, *, required: bool) -> list[Any]:
        if value is None:
            if required:
                self.errors.add(field, f"The {field} field is required.")
            return []
        if not isinstance(value, list):
            self.errors.add(field, "Must be an array.")
            return []
        return value

    def window(self, props: dict[str, Any], path: str) -> Window | None:
        start = self.clock_time(props.get("starttime"), f"{path}StartTime")
        finish = self.clock_time(props.get("finishtime"), f"{path}FinishTime")
        return Window(start, finish) if start and finish else None


def prefetch_numbers(body: Any) -> list[str]:
    """The numbers of a body, cheaply and without judging it, so parsing them can start early.

    On a body that passes validation this is exactly ``[n.raw.strip() for n in numbers]``.
    """
    if not isinstance(body, dict):
        return []
    items = next((v for k, v in body.items() if k.lower() == "phonenumbers"), None)
    if not isinstance(items, list):
        return []
    raws: list[str] = []
    for item in items:
        value = item.get("number") if isinstance(item, dict) else None
        if value is None and isinstance(item, dict):
            value = next((v for k, v in item.items() if k.lower() == "number"), None)
        raws.append(value.strip() if isinstance(value, str) else "")
    return raws


def parse_campaign(body: Any, *, max_numbers: int) -> CampaignInput:
    """Validate the shape and field rules of a campaign body; raise ValidationFailed with all."""
    errors = FieldErrors()
    if not isinstance(body, dict):
        errors.add("$", "The request body must be a JSON object describing a campaign.")
        errors.raise_if_any()
    read = _Reader(errors)
    props = _props(body, _CAMPAIGN_FIELDS, "", errors)

    name = read.text(props.get("name"), "Name", required=False, max_length=MAX_NAME_LENGTH)
    start_date = read.day(props.get("startdate"), "StartDate")
    window = read.window(props, "")
    runover = _runover_days(read, props.get("runoverdays"))
    callflow_id = read.identifier(props.get("callflow_id"), "CallFlow_Id")
    cli_id = read.identifier(props.get("cli_id"), "Cli_Id")
    attempts = _attempts(read, props.get("attempts"))
    answerphone = read.policy(props.get("answerphone"), "AnswerPhoneMessage")
    sms = read.policy(props.get("smsonbusy"), "SMSOnBusy")
    kind = CampaignType.IVR
    if props.get("type") is not None:
        value = props["type"]
        if isinstance(value, str) and value.lower() in ("ivr", "agent"):
            kind = CampaignType(value.lower())
        else:
            errors.add("Type", "Must be 'ivr' (plays the call flow) or 'agent' (connects agents).")
    status = None
    if props.get("status") is not None:
        value = props["status"]
        if isinstance(value, str) and value.lower() in ("enabled", "disabled"):
            status = CampaignStatus(value.lower())
        else:
            errors.add("Status", "Must be 'Enabled' (dials) or 'Disabled' (paused).")
    numbers = _phone_numbers(read, props.get("phonenumbers"), max_numbers)
    agent = agent_options(read, props.get("agentoptions"), kind)
    amd_mode = AmdMode.PREFER_PEOPLE
    if props.get("answerdetection") is not None:
        value = props["answerdetection"]
        if isinstance(value, str) and value.lower() in tuple(AmdMode):
            amd_mode = AmdMode(value.lower())
        else:
            errors.add(
                "AnswerDetection",
                "Must be 'people' (not sure is a person: the default) or 'agents' (not sure is"
                " a machine).",
            )

    # Each rule runs on whatever parts could be read, so every problem is reported at once.
    if attempts is not None:
        _merge(errors, attempt_problems(tuple(attempts)))
    if start_date is not None:
        _merge(errors, runover_problems(start_date, runover))
    if window is not None:
        _merge(errors, {"FinishTime": window_problems(window)})
    if (
        errors
        or start_date is None
        or window is None
        or None in runover
        or attempts is None
        or callflow_id is None
        or cli_id is None
    ):
        errors.raise_if_any()
        raise AssertionError("a missing field was not reported")  # pragma: no cover
    spec = CampaignSpec(
        name=name,
        schedule=Schedule(start_date, window, tuple(d for d in runover if d is not None)),
        callflow_id=CallFlowId(callflow_id),
        cli_id=CliId(cli_id),
        attempts=tuple(attempts),
        answerphone=answerphone,
        sms_on_busy=sms,
        kind=kind,
        agent=agent,
        amd_mode=amd_mode,
    )
    return CampaignInput(spec, numbers, status)


_AGENT_OPTION_FIELDS = {
    "wrapupseconds": ("wrapupseconds", "WrapUpSeconds"),
    "maxwaitseconds": ("maxwaitseconds", "MaxWaitSeconds"),
    "bridgeonanswer": ("bridgeonanswer", "BridgeOnAnswer"),
    "pacing": ("pacing", "Pacing"),
    "informationmessage": ("informationmessage", "InformationMessage"),
}
MAX_WRAP_UP_SECONDS = 3600
MAX_WAIT_SECONDS = 300


def agent_options(read: _Reader, value: Any, kind: CampaignType) -> AgentOptions | None:
    """An agent campaign's ``AgentOptions`` (None: the defaults); each option left out keeps
    its default, and ``WrapUpSeconds: null`` waits for the agent to say ready."""
    if value is None:
        return None
    errors = read.errors
    if not isinstance(value, dict):
        errors.add("AgentOptions", "Must be an object with WrapUpSeconds, MaxWaitSeconds, ...")
        return None
    if kind is not CampaignType.AGENT:
        errors.add("AgentOptions", "Only an agent campaign (Type 'agent') takes agent options.")
        return None
    props = _props(value, _AGENT_OPTION_FIELDS, "AgentOptions.", errors)
    default = AgentOptions()
    wrap_up = default.wrap_up
    if "wrapupseconds" in props and props["wrapupseconds"] is None:
        wrap_up = None
    elif "wrapupseconds" in props:
        seconds = _bounded(read, props["wrapupseconds"], "WrapUpSeconds", 0, MAX_WRAP_UP_SECONDS)
        wrap_up = None if seconds is None else timedelta(seconds=seconds)
    max_wait = default.max_wait
    if props.get("maxwaitseconds") is not None:
        seconds = _bounded(read, props["maxwaitseconds"], "MaxWaitSeconds", 1, MAX_WAIT_SECONDS)
        max_wait = default.max_wait if seconds is None else timedelta(seconds=seconds)
    bridge = default.bridge_on_answer
    if props.get("bridgeonanswer") is not None:
        bridge = props["bridgeonanswer"]
        if not isinstance(bridge, bool):
            errors.add("AgentOptions.BridgeOnAnswer", "Must be true or false.")
            bridge = default.bridge_on_answer
    pacing = parse_pacing(props.get("pacing"), "AgentOptions.Pacing", errors)
    message = parse_message(
        props.get("informationmessage"), "AgentOptions.InformationMessage", errors
    )
    return AgentOptions(
        wrap_up=wrap_up,
        max_wait=max_wait,
        bridge_on_answer=bridge,
        pacing=pacing,
        message=message,
    )


def _bounded(read: _Reader, value: Any, name: str, low: int, high: int) -> int | None:
    field = f"AgentOptions.{name}"
    number = read.integer(value, field, required=True)
    if number is not None and not low <= number <= high:
        read.errors.add(field, f"Must be from {low} to {high} seconds.")
        return None
    return number


def _merge(errors: FieldErrors, problems: dict[str, list[str]]) -> None:
    for field, messages in problems.items():
        for message in messages:
            errors.add(field, message)


def _runover_days(read: _Reader, value: Any) -> list[RunoverDay | None]:
    """Every entry in order, ``None`` where it could not be read (its problems are recorded)."""
    days: list[RunoverDay | None] = []
    for i, item in enumerate(read.array(value, "RunoverDays", required=False)):
        path = f"RunoverDays[{i}]."
        if not isinstance(item, dict):
            read.errors.add(
                f"RunoverDays[{i}]", "Must be an object with Date, StartTime, FinishTime."
            )
            days.append(None)
            continue
        props = _props(item, _RUNOVER_FIELDS, path, read.errors)
        day = read.day(props.get("date"), f"{path}Date")
        window = read.window(props, path)
        days.append(RunoverDay(day, window) if day is not None and window is not None else None)
    return days


def _attempts(read: _Reader, value: Any) -> list[AttemptRule] | None:
    rules: list[AttemptRule] = []
    complete = True
    for i, item in enumerate(read.array(value, "Attempts", required=False)):
        path = f"Attempts[{i}]."
        if not isinstance(item, dict):
            read.errors.add(f"Attempts[{i}]", "Must be an object with Interval and AttemptNumber.")
            complete = False
            continue
        props = _props(item, _ATTEMPT_FIELDS, path, read.errors)
        interval = read.integer(props.get("interval"), f"{path}Interval", required=True)
        number = read.integer(props.get("attemptnumber"), f"{path}AttemptNumber", required=False)
        if interval is None:
            complete = False
        else:
            # AttemptNumber is optional in the seed: it counts up from 1 when left out.
            rules.append(AttemptRule(i + 1 if number is None else number, interval))
    return rules if complete else None


def _phone_numbers(read: _Reader, value: Any, max_numbers: int) -> list[NumberInput]:
    errors = read.errors
    items = read.array(value, "PhoneNumbers", required=True)
    if value is not None and isinstance(value, list) and not items:
        errors.add("PhoneNumbers", "At least one phone number is required.")
    if len(items) > max_numbers:
        errors.add("PhoneNumbers", f"At most {max_numbers} phone numbers per request.")
        return []
    numbers: list[NumberInput] = []
    # This loop runs once per number (100,000s per request), so it avoids the generic helpers.
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.add(f"PhoneNumbers[{i}]", "Must be an object with Number, Name and Parameters.")
            continue
        if item.keys() <= _NUMBER_KEYS:
            # The seed's spelling: no lowering, and a dict cannot repeat a key.
            raw, name, params = item.get("number"), item.get("name"), item.get("parameters")
        else:
            raw, name, params = _number_props(errors, item, i)
        if not isinstance(raw, str):
            message = "The Number field is required." if raw is None else "Must be a string."
            errors.add(f"PhoneNumbers[{i}].Number", message)
            continue
        if not looks_like_number(raw.strip()):
            errors.add(
                f"PhoneNumbers[{i}].Number",
                f"'{raw[:50]}' is not a phone number: only digits, spaces, ()-./ and a leading +.",
            )
            continue
        if name is not None and (not isinstance(name, str) or len(name) > MAX_NAME_LENGTH):
            errors.add(f"PhoneNumbers[{i}].Name", f"Must be a string of at most {MAX_NAME_LENGTH}.")
            continue
        parameters = _parameters(errors, params, f"PhoneNumbers[{i}].Parameters") if params else ()
        if parameters is not None:
            numbers.append(NumberInput(raw, name, parameters))
    return numbers


_NUMBER_KEYS = frozenset({"number", "name", "parameters"})


def _number_props(errors: FieldErrors, item: dict[str, Any], i: int) -> tuple[Any, Any, Any]:
    raw = name = params = None
    seen: set[str] = set()
    for key, val in item.items():
        lower = key.lower()
        if lower in seen:
            errors.add(
                f"PhoneNumbers[{i}].{lower.title()}", "The property is given more than once."
            )
        seen.add(lower)
        if lower == "number":
            raw = val
        elif lower == "name":
            name = val
        elif lower == "parameters":
            params = val
    return raw, name, params


def _parameters(errors: FieldErrors, value: Any, path: str) -> tuple[tuple[int, str], ...] | None:
    if not isinstance(value, list):
        errors.add(path, "Must be an array of {parameter, value} objects.")
        return None
    out: list[tuple[int, str]] = []
    for j, item in enumerate(value):
        if not isinstance(item, dict):
            errors.add(f"{path}[{j}]", "Must be an object with Parameter and Value.")
            return None
        if len(item) == 2 and "parameter" in item and "value" in item:
            number, text = item["parameter"], item["value"]  # the seed's spelling: no lowering
        else:
            lowered = {k.lower(): v for k, v in item.items()}
            number, text = lowered.get("parameter"), lowered.get("value")
        out.append((number, text))
    return _checked_parameters(errors, out, path)


def _checked_parameters(
    errors: FieldErrors, pairs: list[tuple[Any, Any]], path: str
) -> tuple[tuple[int, str], ...] | None:
    if len(pairs) == len(
        {n for n, _ in pairs if type(n) is int and 1 <= n <= MAX_PARAMETERS}
    ) and all(type(t) is str and len(t) <= MAX_PARAMETER_LENGTH for _, t in pairs):
        return tuple(pairs)  # the common, valid case, checked in two C-speed passes
    seen: set[int] = set()
    ok = True
    for j, (number, text) in enumerate(pairs):
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= MAX_PARAMETERS
        ):
            errors.add(
                f"{path}[{j}].Parameter", f"Must be a whole number from 1 to {MAX_PARAMETERS}."
            )
            ok = False
        elif number in seen:
            errors.add(f"{path}[{j}].Parameter", f"Parameter{number} is given more than once.")
            ok = False
        else:
            seen.add(number)
        if not isinstance(text, str):
            message = "The Value field is required." if text is None else "Must be a string."
            errors.add(f"{path}[{j}].Value", message)
            ok = False
        elif len(text) > MAX_PARAMETER_LENGTH:
            errors.add(f"{path}[{j}].Value", f"Must be at most {MAX_PARAMETER_LENGTH} characters.")
            ok = False
    return tuple(pairs) if ok else None
