"""One number to add to a campaign, read from a CSV line or a JSON object, judged on its own:
either a row to add or the reason it is rejected (docs/rest-api.md, Adding numbers)."""

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from dialer.domain.campaign import MAX_PARAMETERS
from dialer.services.campaign_input import MAX_NAME_LENGTH, MAX_PARAMETER_LENGTH
from dialer.services.numbers import looks_like_number

# As the JSON API refuses them (api/body.py): NUL and the other C0 controls but tab, CR, LF; DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PARAMETER_COLUMN = re.compile(r"^(?:p|param|parameter)[ _]?(\d{1,2})$")
NUMBER_HEADERS = frozenset(
    {"number", "phone", "phonenumber", "phone_number", "phone number", "telephone", "tel", "mobile"}
)
NAME_HEADERS = frozenset({"name", "customername", "customer_name", "customer name"})
IGNORED = frozenset({"", "-", "_"})


class NumberLine(NamedTuple):
    """A number that passed every check but possibility in its region (that needs the tenant's
    region and the normaliser, and runs a batch at a time)."""

    where: int  # CSV: the line number in the file (the header is line 1); JSON: the index
    raw: str
    name: str | None
    parameters: tuple[tuple[int, str], ...]


class Rejected(NamedTuple):
    where: int
    reason: str


def column_role(header: str) -> str | None:
    """``number``, ``name``, ``p1`` .. ``p9`` for a column's header or mapping; None to ignore
    it; ``!`` followed by the reason for a name that cannot be a column."""
    key = header.strip().lower()
    if key in NUMBER_HEADERS:
        return "number"
    if key in NAME_HEADERS:
        return "name"
    match = _PARAMETER_COLUMN.match(key)
    if match:
        n = int(match.group(1))
        if 1 <= n <= MAX_PARAMETERS:
            return f"p{n}"
        return f"!{header.strip()[:40]!r}: parameters are numbered 1 to {MAX_PARAMETERS}"
    return None


def judge(
    where: int, raw: Any, name: Any, parameters: Sequence[tuple[int, Any]]
) -> NumberLine | Rejected:
    if not isinstance(raw, str) or not raw.strip():
        return Rejected(where, "no number")
    number = raw.strip()
    if not looks_like_number(number):
        return Rejected(
            where,
            f"{number[:50]!r} is not a phone number: only digits, spaces, ()-./ and a leading +",
        )
    if name is not None and not isinstance(name, str):
        return Rejected(where, "the name must be text")
    if isinstance(name, str):
        if len(name) > MAX_NAME_LENGTH:
            return Rejected(where, f"the name is longer than {MAX_NAME_LENGTH} characters")
        if _CONTROL.search(name):
            return Rejected(where, "the name holds a control character")
        if not name:
            name = None
    kept: list[tuple[int, str]] = []
    seen: set[int] = set()
    for n, value in parameters:
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PARAMETERS:
            return Rejected(where, f"parameters are numbered 1 to {MAX_PARAMETERS}")
        if n in seen:
            return Rejected(where, f"Parameter{n} is given more than once")
        seen.add(n)
        if not isinstance(value, str):
            return Rejected(where, f"Parameter{n} must be text")
        if len(value) > MAX_PARAMETER_LENGTH:
            return Rejected(where, f"Parameter{n} is longer than {MAX_PARAMETER_LENGTH} characters")
        if _CONTROL.search(value):
            return Rejected(where, f"Parameter{n} holds a control character")
        if value:
            kept.append((n, value))
    return NumberLine(where, number, name, tuple(kept))


def json_item(index: int, item: Any) -> NumberLine | Rejected:
    """An object of the seed's PhoneNumbers (number, name, parameters), names in any case."""
    if not isinstance(item, dict):
        return Rejected(index, "must be an object with number, name and parameters")
    props = {k.lower(): v for k, v in item.items() if isinstance(k, str)}
    params = props.get("parameters") or []
    if not isinstance(params, list):
        return Rejected(index, "parameters must be an array of {parameter, value} objects")
    if len(params) > MAX_PARAMETERS:
        return Rejected(index, f"at most {MAX_PARAMETERS} parameters")
    pairs: list[tuple[Any, Any]] = []
    for p in params:
        if not isinstance(p, dict):
            return Rejected(index, "parameters must be an array of {parameter, value} objects")
        lowered = {k.lower(): v for k, v in p.items() if isinstance(k, str)}
        pairs.append((lowered.get("parameter"), lowered.get("value")))
    return judge(index, props.get("number"), props.get("name"), pairs)
