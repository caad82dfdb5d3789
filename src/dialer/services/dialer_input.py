"""Reading Dialer API parameters as the seed sends them: any case, from a query string (all text)
or JSON (typed, with booleans sometimes as "true")."""

import re
from collections.abc import Mapping
from typing import Any

import orjson

from dialer.domain.errors import RequestRejected

MAX_CUSTOM_DATA_BYTES = 8 * 1024
MAX_TEXT = 200
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
# Python's int() also takes "²", "٣" and "1_000"; a parameter takes plain ASCII digits only.
_INTEGER = re.compile(r"[+-]?[0-9]{1,30}", re.ASCII)
# NUL and the other C0 controls, and DEL: PostgreSQL refuses NUL in text, and none of them
# belongs in a name, a code or a number. Tab, CR and LF are allowed in free text only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def parse_integer(value: str) -> int | None:
    """``value`` as a whole number if it is written in ASCII digits, else None."""
    text = value.strip()
    return int(text) if _INTEGER.fullmatch(text) else None


def check_no_controls(name: str, value: str, *, free_text: bool = False) -> str:
    """``value``, or RequestRejected if it holds a control character (``free_text``: but tab,
    CR and LF)."""
    if (_CONTROL_IN_FREE_TEXT if free_text else _CONTROL).search(value):
        raise RequestRejected(f"{name} must not contain control characters")
    return value


class Params:
    """Parameters by lower-cased name; a name given twice in different cases is refused."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._original = dict(raw)
        self._values: dict[str, Any] = {}
        for key, value in raw.items():
            lower = str(key).lower()
            check_no_controls("A parameter name", lower)
            if lower in self._values:
                raise RequestRejected(f"Parameter {key} is given more than once")
            self._values[lower] = value

    def has(self, name: str) -> bool:
        return self._values.get(name.lower()) not in (None, "")

    def raw(self, name: str) -> Any:
        return self._values.get(name.lower())

    def text(self, name: str, *, max_length: int = MAX_TEXT, free_text: bool = False) -> str | None:
        """The parameter as stripped text; ``free_text`` (a name, not a code) may hold tab, CR
        and LF, but no other control character."""
        value = self.raw(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RequestRejected(f"{name} must be text")
        text = str(value).strip()
        if len(text) > max_length:
            raise RequestRejected(f"{name} must be at most {max_length} characters")
        return check_no_controls(name, text, free_text=free_text)

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.raw(name)
        if value is None or value == "":
            return None
        number: int | None = None
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        elif isinstance(value, str):
            number = parse_integer(value)
        if number is None or not low <= number <= high:
            raise RequestRejected(f"{name} must be a whole number from {low} to {high}")
        return number

    def boolean(self, name: str) -> bool | None:
        value = self.raw(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise RequestRejected(f"{name} must be true or false")

    def custom_data(self) -> tuple[str | None, Any]:
        """CustomData as stored JSON text, and as the client sent it (for AddResult echoes).

        An object in JSON, or JSON text on a query string; ``var_*`` parameters join it, as in
        the seed's GET example ``&var_leadID=1234567``.
        """
        value = self.raw("CustomData")
        if isinstance(value, str) and value.strip():
            try:
                value = orjson.loads(value)
            except orjson.JSONDecodeError as exc:
                raise RequestRejected("CustomData must be a JSON object") from exc
        if value in (None, ""):
            value = {}
        if not isinstance(value, dict):
            raise RequestRejected("CustomData must be a JSON object")
        extras = {k: v for k, v in self._original.items() if k.lower().startswith("var_")}
        value = {**value, **extras}
        if not value:
            return None, {}
        text = orjson.dumps(value).decode()
        if len(text.encode()) > MAX_CUSTOM_DATA_BYTES:
            size = len(text.encode())
            raise RequestRejected(
                f"CustomData is {size} bytes as JSON; the limit is {MAX_CUSTOM_DATA_BYTES}"
            )
        return text, value

    def originate(self) -> tuple[int, bool] | None:
        """OriginateTime and IsDateLocal, which the seed says must come together."""
        epoch = self.integer("OriginateTime", low=0, high=_MAX_EPOCH)
        local = self.boolean("IsDateLocal")
        if (epoch is None) != (local is None):
            raise RequestRejected("OriginateTime and IsDateLocal must be sent together")
        return None if epoch is None or local is None else (epoch, local)
