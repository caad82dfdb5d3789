"""Reading a JSON request body within a size limit, with a clear error for each way it can fail."""

import re
from typing import Any

import orjson
from starlette.requests import Request

from dialer.domain.errors import PayloadTooLarge, ValidationFailed


class UnsupportedMediaType(Exception):
    pass


# NUL (which PostgreSQL refuses in text) and the other C0 controls and DEL; tab, CR and LF stay
# allowed, as free text (a campaign's name, a parameter's value) may hold them. docs/rest-api.md.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# JSON carries a control character only escaped (\u0000) or, for DEL, raw: a body without either
# has none, and is not walked (a 250,000-number campaign has a million strings).
_MAYBE_CONTROL = re.compile(rb"\\u00(?:[01][0-9a-fA-F]|7[fF])|\x7f")
CONTROL_PROBLEM = "Must not contain control characters (U+0000-U+001F but tab, CR, LF; U+007F)."


def control_problems(value: Any, path: str = "") -> dict[str, list[str]]:
    """Every string (key or value) of a parsed JSON body that holds a control character, by
    where it is (``phoneNumbers[0].name``); empty when there is none."""
    found: dict[str, list[str]] = {}
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack and len(found) < 50:
        item, where = stack.pop()
        if isinstance(item, str):
            if CONTROL.search(item):
                found[where or "$"] = [CONTROL_PROBLEM]
        elif isinstance(item, dict):
            for key, child in item.items():
                key_path = f"{where}.{key}" if where else str(key)
                if CONTROL.search(key):
                    found[where or "$"] = [f"Property names: {CONTROL_PROBLEM}"]
                    continue
                stack.append((child, key_path))
        elif isinstance(item, list):
            stack.extend((child, f"{where}[{i}]") for i, child in enumerate(item))
    return found


async def read_json(request: Request, limit: int, *, refuse_controls: bool = True) -> Any:
    """The body parsed; ``refuse_controls``: a 400 naming each string with a control character
    (the Dialer API checks its parameters one by one instead, so a bulk item fails alone)."""
    content_type = request.headers.get("content-type", "")
    media = content_type.split(";", 1)[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as application/json, not {media}")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {int(declared)} bytes; the limit is {limit}")
    buffer = bytearray()
    async for chunk in request.stream():
        buffer += chunk
        if len(buffer) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    if not buffer.strip():
        raise ValidationFailed({"$": ["A JSON request body is required."]})
    try:
        body = orjson.loads(buffer)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed({"$": [f"The body is not valid JSON: {exc}"]}) from exc
    if refuse_controls and _MAYBE_CONTROL.search(buffer):
        problems = control_problems(body)
        if problems:
            raise ValidationFailed(problems)
    return body
