"""The one error tree of the dialer.

DialerError
 ├── NotFound            an id the caller may not see: unknown and foreign look the same
 ├── Unauthorized        no credentials, or credentials that match no tenant
 ├── Forbidden           valid credentials that may not do this (a console change without
 │                       its CSRF token, an agent's session on a manager's endpoint)
 ├── ValidationFailed    input that breaks a rule; carries every problem at once, by field
 │    └── UnknownCampaign    a Dialer API campaign code that is missing or matches nothing
 ├── Conflict            a valid request the current state refuses (e.g. editing history)
 ├── PayloadTooLarge     a body or list past a documented limit
 └── RequestRejected     a Dialer API request with a problem the seed gives a code for
      ├── TargetMissing, NumberInvalid, MemberInvalid

The API edges translate these into the error shape each API defines; nothing else escapes.
"""

from collections.abc import Mapping, Sequence


class DialerError(Exception):
    """Base of every error the dialer raises on purpose."""


class NotFound(DialerError):
    pass


class Unauthorized(DialerError):
    pass


class Forbidden(DialerError):
    pass


class Conflict(DialerError):
    pass


class PayloadTooLarge(DialerError):
    pass


class ValidationFailed(DialerError):
    """Every problem found in one input, keyed by field path (``PhoneNumbers[2].Number``)."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))


class FieldErrors:
    """Collects problems by field path; raises them together, capped to stay readable."""

    def __init__(self, cap: int = 200) -> None:
        self._errors: dict[str, list[str]] = {}
        self._cap = cap
        self._dropped = 0

    def add(self, field: str, message: str) -> None:
        if field not in self._errors and len(self._errors) >= self._cap:
            self._dropped += 1
            return
        self._errors.setdefault(field, []).append(message)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def has(self, field: str) -> bool:
        return field in self._errors

    def raise_if_any(self) -> None:
        if not self._errors:
            return
        errors = dict(self._errors)
        if self._dropped:
            errors["$"] = [*errors.get("$", []), f"{self._dropped} more fields have problems"]
        raise ValidationFailed(errors)


class UnknownCampaign(NotFound):
    def __init__(self, missing: bool) -> None:
        self.missing = missing
        super().__init__("Campaign code missing" if missing else "Invalid campaign code")


class RequestRejected(DialerError):
    """A request the Dialer API answers with an envelope error; the message is its Description."""


class TargetMissing(RequestRejected):
    def __init__(self) -> None:
        super().__init__("Target missing")


class NumberInvalid(RequestRejected):
    def __init__(self) -> None:
        super().__init__("Number is invalid")


class MemberInvalid(RequestRejected):
    pass
