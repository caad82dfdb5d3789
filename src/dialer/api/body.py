"""Reading a JSON request body within a size limit, with a clear error for each way it can fail."""

from typing import Any

import orjson
from starlette.requests import Request

from dialer.domain.errors import PayloadTooLarge, ValidationFailed


class UnsupportedMediaType(Exception):
    pass


async def read_json(request: Request, limit: int) -> Any:
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
        return orjson.loads(buffer)
    except orjson.JSONDecodeError as exc:
        raise ValidationFailed({"$": [f"The body is not valid JSON: {exc}"]}) from exc
