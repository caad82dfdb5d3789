"""A tenant's compliance settings as the REST API and the CLI give and show them
(docs/compliance.md): rates in percent, the information message as text and/or a recording.

An update names only what it changes; what it leaves out keeps its value. Every problem is
reported at once, by field, and nothing is changed unless all of it is valid.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from dialer.domain.abandonment import (
    REGULATORY_LIMIT,
    ComplianceSettings,
    InfoMessage,
    Regime,
    rules_for,
)
from dialer.domain.errors import FieldErrors
from dialer.domain.ivr import KEYPAD, valid_audio_name

MAX_MESSAGE_LENGTH = 500
MAX_ATTEMPTS_PER_DAY = 100
# A number to call back: seven digits or more, spaces, dots, dashes and brackets between them.
_CALLBACK_NUMBER = re.compile(r"\+?\d(?:[\s().-]*\d){6,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
FIELDS = frozenset(
    {
        "regime",
        "target",
        "message",
        "optOutKey",
        "attemptsPerDay",
        "falseMachineRate",
        "rules",  # read-only: accepted (and ignored) so that a GET's answer can be PUT back
    }
)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def parse_message(value: object, field: str, errors: FieldErrors) -> InfoMessage | None:
    """``{"text": ..., "recording": ...}`` (either or both) or null."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.add(field, 'must be an object {"text": ..., "recording": ...} or null')
        return None
    unknown = sorted(str(k) for k in value if k not in ("text", "recording"))
    for key in unknown:
        errors.add(f"{field}.{key}", "unknown field; a message has text and recording")
    text, recording = value.get("text"), value.get("recording")
    if text is None and recording is None:
        errors.add(field, "give a text to speak, a recording to play, or both")
        return None
    if text is not None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_MESSAGE_LENGTH:
            errors.add(f"{field}.text", f"must be 1 to {MAX_MESSAGE_LENGTH} characters")
        elif _CONTROL.search(text):
            errors.add(f"{field}.text", "must not contain control characters")
        elif not _CALLBACK_NUMBER.search(text):
            errors.add(
                f"{field}.text",
                "must give a number the person can call back (7 or more digits), and name"
                " the company calling",
            )
    if recording is not None and not valid_audio_name(recording):
        errors.add(
            f"{field}.recording",
            "must be an audio file name ending .wav in the tenant's audio directory",
        )
    if errors.has(field) or errors.has(f"{field}.text") or errors.has(f"{field}.recording"):
        return None
    return InfoMessage(text if isinstance(text, str) else "", recording)


def percent(value: object, field: str, top: float, errors: FieldErrors) -> float | None:
    """A percentage in (0, top], as a fraction."""
    if not _is_number(value) or not 0 < float(value) <= top:  # type: ignore[arg-type]
        errors.add(field, f"must be a number of percent above 0 and at most {top:g}")
        return None
    return float(value) / 100  # type: ignore[arg-type]


def apply_update(current: ComplianceSettings, body: object) -> ComplianceSettings:
    """``current`` with what ``body`` (a JSON object) changes; ValidationFailed if any of it
    is wrong."""
    errors = FieldErrors()
    if not isinstance(body, Mapping):
        errors.add("$", "must be a JSON object")
        errors.raise_if_any()
        return current
    for key in sorted(str(k) for k in body if k not in FIELDS):
        errors.add(key, f"unknown field; the settings are {', '.join(sorted(FIELDS - {'rules'}))}")
    changes: dict[str, Any] = {}
    if "regime" in body:
        regime = body["regime"]
        if regime not in {r.value for r in Regime}:
            errors.add("regime", "must be uk, us or none")
        else:
            changes["regime"] = Regime(regime)
    if "target" in body:
        changes["target"] = percent(body["target"], "target", REGULATORY_LIMIT * 100, errors)
    if "message" in body:
        changes["message"] = parse_message(body["message"], "message", errors)
    if "optOutKey" in body:
        key = body["optOutKey"]
        if not isinstance(key, str) or len(key) != 1 or key not in KEYPAD:
            errors.add("optOutKey", "must be one key: 0-9, * or #")
        else:
            changes["opt_out_key"] = key
    if "attemptsPerDay" in body:
        per_day = body["attemptsPerDay"]
        if per_day is not None and (
            not isinstance(per_day, int)
            or isinstance(per_day, bool)
            or not 1 <= per_day <= MAX_ATTEMPTS_PER_DAY
        ):
            errors.add(
                "attemptsPerDay", f"must be a whole number 1 to {MAX_ATTEMPTS_PER_DAY}, or null"
            )
        else:
            changes["attempts_per_day"] = per_day
    if "falseMachineRate" in body:
        rate = body["falseMachineRate"]
        if not _is_number(rate) or not 0 <= float(rate) < 100:
            errors.add("falseMachineRate", "must be a number of percent, at least 0 and below 100")
        else:
            changes["false_machine_rate"] = float(rate) / 100
    errors.raise_if_any()
    return replace(current, **changes)


def message_json(message: InfoMessage | None) -> dict[str, Any] | None:
    if message is None:
        return None
    return {"text": message.text or None, "recording": message.recording}


def _percent(fraction: float) -> float:
    return round(fraction * 100, 6)


def compliance_json(settings: ComplianceSettings) -> dict[str, Any]:
    """The settings as the API shows them, with the rules they make (read-only)."""
    rules = rules_for(settings)
    return {
        "regime": settings.regime.value,
        "target": _percent(settings.target),
        "message": message_json(settings.message),
        "optOutKey": settings.opt_out_key,
        "attemptsPerDay": settings.attempts_per_day,
        "falseMachineRate": _percent(settings.false_machine_rate),
        "rules": {
            "enforced": rules.enforced,
            "limit": _percent(rules.limit) if rules.enforced else None,
            "target": _percent(rules.target) if rules.enforced else None,
            "window": _window(rules.window.total_seconds()) if rules.enforced else None,
            "connectWithinSeconds": rules.connect_within.total_seconds()
            if rules.enforced
            else None,
            "messageRequired": rules.message_required,
            "optOutByKey": rules.opt_out_by_key,
            "redialLockoutHours": None
            if rules.redial_lockout is None
            else rules.redial_lockout.total_seconds() / 3600,
            "countsFalseMachines": rules.false_machine_rate > 0,
        },
    }


def _window(seconds: float) -> str:
    """24h or 30d, as the campaign views show a window."""
    hours = round(seconds / 3600)
    return f"{hours // 24}d" if hours % 24 == 0 and hours > 24 else f"{hours}h"
