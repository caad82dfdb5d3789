"""What an agent's desk sends, checked before any session is read: the phone to call at log-in,
a pause reason, a disposition. Each problem is a 400 naming its field; only what the session's
state refuses is a 409 (the domain's AgentRefused)."""

import re
from datetime import datetime
from typing import Any

from dialer.domain.agent_session import (
    DISPOSITIONS,
    MAX_CALLBACK_AHEAD,
    MAX_REASON,
    AgentRefused,
    Disposition,
    check_reason,
)
from dialer.domain.codes import Stage
from dialer.domain.errors import Conflict, ValidationFailed
from dialer.services.numbers import looks_like_number, to_e164

MAX_PHONE = 200
# A SIP or SIPS URI with a user part (a desk phone or softphone reached directly); no spaces,
# no control characters, no angle brackets (the URI goes into a Request-URI and a To header).
_SIP_URI = re.compile(r"^sips?:[!-;=?-~]+@[A-Za-z0-9.\-\[\]:]+(?:;[!-;=?-~]*)?$", re.IGNORECASE)
# A simulated phone: sim:<options> (docs/simulation.md), printable ASCII without spaces.
_SIM = re.compile(r"^sim:[!-~]{0,100}$")
# An ISO 8601 time with its UTC offset (Z or +hh:mm); a time without one is refused, since the
# server cannot know which zone the agent's screen meant.
_AWARE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$")
_STAGES = {stage.api_name: stage for stage in Stage}
_DISPOSITION_NAMES = ", ".join(sorted(s.api_name for s in DISPOSITIONS))


def _object(body: Any, known: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationFailed({"$": ["The body must be a JSON object."]})
    unknown = sorted(set(body) - known)
    if unknown:
        # A misspelt field (callback_at) would otherwise be dropped without a word.
        raise ValidationFailed({name[:40]: ["Unknown property."] for name in unknown[:10]})
    return body


def parse_phone(body: Any, region: str) -> str:
    """The agent's phone from ``{"phone": ...}``: a SIP URI as given, a number in E.164 (read
    in the tenant's region), or a simulated ``sim:`` phone."""
    return check_phone(_object(body, {"phone"}).get("phone"), region)


def is_own_phone(phone: str) -> bool:
    """A phone an agent may choose without the tenant: a SIP URI (their softphone) or a
    simulated one; never a number, which the trunk would call at the tenant's cost."""
    return bool(_SIP_URI.match(phone) or _SIM.match(phone))


def login_phone(body: Any, region: str, assigned: str | None) -> str:
    """The phone a log-in makes the dialer call (docs/agents-desk.md, "The agent's phone"):
    the tenant's assigned one when the body names none or names it; without an assigned
    phone, only a SIP URI or a sim: phone of the agent's own. A refusal is a Conflict."""
    raw = _object(body, {"phone"}).get("phone")
    if raw is None:
        if assigned is None:
            raise Conflict(
                "the tenant has assigned this agent no phone: log in with a SIP URI"
                " (sip:1001@192.0.2.10), or ask the tenant to assign one"
                " (PUT /api/agents/{agentId}/phone)"
            )
        return assigned
    phone = check_phone(raw, region)
    if assigned is not None:
        if _canonical(phone) != _canonical(assigned):
            raise Conflict(
                "the tenant has assigned this agent another phone: log in with that one"
                " (or with no phone, which uses it)"
            )
        return assigned
    if not is_own_phone(phone):
        raise Conflict(
            "a phone number is called through the trunk, so only one the tenant assigned may be"
            " used: ask the tenant to assign it (PUT /api/agents/{agentId}/phone), or log in"
            " with a SIP URI"
        )
    return phone


def _canonical(phone: str) -> str:
    # RFC 3261: a URI's scheme is case-insensitive (SIP:1001@... is sip:1001@...).
    scheme, colon, rest = phone.partition(":")
    return f"{scheme.lower()}{colon}{rest}" if colon else phone


def check_phone(raw: Any, region: str) -> str:
    """A phone as the tenant or an agent wrote it, in the form the dialer calls it."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed({"phone": ["Required: a SIP URI, a phone number or sim:..."]})
    phone = raw.strip()
    if len(phone) > MAX_PHONE:
        raise ValidationFailed({"phone": [f"At most {MAX_PHONE} characters."]})
    if is_own_phone(phone):
        return phone
    e164 = to_e164(phone, region) if looks_like_number(phone) else None
    if e164 is None:
        raise ValidationFailed(
            {
                "phone": [
                    "Not a SIP URI (sip:1001@192.0.2.10), a possible phone number in region"
                    f" {region} or a simulated phone (sim:...)."
                ]
            }
        )
    return e164


def parse_reason(body: Any) -> str:
    raw = _object(body, {"reason"}).get("reason")
    if not isinstance(raw, str):
        raise ValidationFailed({"reason": [f"Required: 1 to {MAX_REASON} printable characters."]})
    try:
        return check_reason(raw)
    except AgentRefused as exc:
        raise ValidationFailed({"reason": [f"{str(exc).capitalize()}."]}) from exc


def parse_stage(raw: Any) -> Stage:
    """A Stage by its name (``CorrectCallee``) or its code (1), as the results show them."""
    stage: Stage | None = None
    if isinstance(raw, str):
        stage = _STAGES.get(raw)
    elif isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= 20:
        stage = Stage(raw)
    if stage is None or stage not in DISPOSITIONS:
        raise ValidationFailed({"stage": [f"A disposition is one of {_DISPOSITION_NAMES}."]})
    return stage


def parse_time(raw: Any, field: str) -> datetime:
    if not isinstance(raw, str) or not _AWARE.match(raw):
        raise ValidationFailed(
            {field: ["An ISO 8601 time with its UTC offset, e.g. 2025-10-01T14:30:00+01:00."]}
        )
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValidationFailed({field: [f"Not a real time: {exc}."]}) from exc


def parse_disposition(body: Any, now: datetime) -> Disposition:
    fields = _object(body, {"stage", "callbackAt", "sameAgent"})
    if "stage" not in fields:
        raise ValidationFailed({"stage": [f"Required: one of {_DISPOSITION_NAMES}."]})
    stage = parse_stage(fields["stage"])
    same_agent = fields.get("sameAgent", False)
    if not isinstance(same_agent, bool):
        raise ValidationFailed({"sameAgent": ["true or false."]})
    raw_callback = fields.get("callbackAt")
    if stage is not Stage.CALLER_REQUESTED_CALL_BACK:
        if raw_callback is not None or same_agent:
            raise ValidationFailed(
                {"callbackAt": ["Only CallerRequestedCallBack takes callbackAt and sameAgent."]}
            )
        return Disposition(stage)
    if raw_callback is None:
        raise ValidationFailed({"callbackAt": ["CallerRequestedCallBack needs a callback time."]})
    callback = parse_time(raw_callback, "callbackAt")
    if not now < callback <= now + MAX_CALLBACK_AHEAD:
        raise ValidationFailed({"callbackAt": ["A callback time is in the future, within a year."]})
    return Disposition(stage, callback, same_agent)
