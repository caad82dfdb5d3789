"""Text templates of call flows: placeholders filled with one callee's details.

A template names ``{Name}``, ``{Parameter1}``..``{Parameter9}`` (a number's REST details) and
``{CustomData.<key>}`` (a top-level field of the Dialer API's CustomData object). ``{{`` and
``}}`` are literal braces. Placeholders are checked when a flow is uploaded; a placeholder
with no value for a given callee renders as nothing, since one flow serves every number.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dialer.domain.records import quick_init

MAX_TEMPLATE_LENGTH = 4000
PLACEHOLDERS = frozenset({"Name", *(f"Parameter{i}" for i in range(1, 10))})
CUSTOM_PREFIX = "CustomData."
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_EMPTY: Mapping[str, str] = MappingProxyType({})


@quick_init
@dataclass(frozen=True, slots=True)
class Callee:
    """What a template may say about the person called."""

    name: str | None = None
    parameters: Mapping[int, str] = field(default_factory=dict)
    custom: Mapping[str, str] = field(default_factory=dict)


def custom_fields(custom_data: str | None) -> Mapping[str, str]:
    """The renderable fields of a destination's CustomData (JSON object text).

    Only top-level scalars have a spoken form: strings as they are, numbers and booleans as
    JSON writes them. Nested objects, arrays and nulls render as nothing, like a missing key.
    """
    if not custom_data:
        return _EMPTY
    try:
        document = json.loads(custom_data)
    except ValueError:  # validated on input; a bad stored value must not fail the call
        return _EMPTY
    if not isinstance(document, dict):
        return _EMPTY
    fields: dict[str, str] = {}
    for key, value in document.items():
        if isinstance(value, str):
            fields[key] = value
        elif isinstance(value, bool | int | float):
            fields[key] = json.dumps(value)
    return MappingProxyType(fields)


@dataclass(frozen=True, slots=True)
class Template:
    text: str

    def fill(self, callee: Callee) -> str:
        """The text for one callee; a placeholder with no value renders as nothing."""

        def value(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in ("{{", "}}"):
                return token[0]
            name = match.group(1)
            if name == "Name":
                return callee.name or ""
            if name.startswith(CUSTOM_PREFIX):
                return callee.custom.get(name.removeprefix(CUSTOM_PREFIX), "")
            return callee.parameters.get(int(name.removeprefix("Parameter")), "")

        return _TOKEN.sub(value, self.text)

    def render(
        self,
        name: str | None,
        parameters: Mapping[int, str],
        custom: Mapping[str, str] = _EMPTY,
    ) -> str:
        """``fill`` for callers that hold the details apart."""
        return self.fill(Callee(name, parameters, custom))


def template_problems(text: str) -> list[str]:
    """Everything wrong with a template's text, for the upload's error report."""
    problems = []
    if not text.strip():
        problems.append("must not be empty")
    if len(text) > MAX_TEMPLATE_LENGTH:
        problems.append(f"must be at most {MAX_TEMPLATE_LENGTH} characters")
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if token in ("{", "}"):
            problems.append("has an unmatched brace; write {{ or }} for a literal brace")
        elif not _known(match.group(1)):
            problems.append(
                f"has unknown placeholder {token}; use {{Name}}, {{Parameter1}}..{{Parameter9}}"
                " or {CustomData.<key>}"
            )
    return problems


def _known(name: str) -> bool:
    if name in PLACEHOLDERS:
        return True
    return name.startswith(CUSTOM_PREFIX) and bool(name.removeprefix(CUSTOM_PREFIX).strip())
