"""Call flows: what the callee hears and the SMS they may get, with per-number placeholders.

Format version 1 (see docs/callflows.md) is a mapping with ``message`` (spoken by text-to-speech)
and ``sms`` (sent on busy), both templates. ``version`` selects the schema so that the IVR of a
later format (menus, keypresses, transfers) can be added without breaking version-1 files.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dialer.domain.codes import Stage

PLACEHOLDERS = frozenset({"Name", *(f"Parameter{i}" for i in range(1, 10))})
MAX_TEMPLATE_LENGTH = 4000
SUPPORTED_VERSIONS = frozenset({1})
_KNOWN_KEYS = frozenset({"version", "name", "message", "sms", "voice", "language", "keys"})
KEYPAD = frozenset("0123456789*#")
# What a keypress after the message means when the flow does not say (docs/callflows.md).
DEFAULT_KEYS: Mapping[str, Stage] = MappingProxyType(
    {
        "1": Stage.CORRECT_CALLEE,
        "2": Stage.WRONG_CALLEE,
        "3": Stage.OPT_IN,
        "9": Stage.OPT_OUT,
    }
)
_STAGES_BY_NAME = {stage.api_name: stage for stage in Stage}
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")


@dataclass(frozen=True, slots=True)
class Template:
    text: str

    def render(self, name: str | None, parameters: Mapping[int, str]) -> str:
        """Fill placeholders; a placeholder with no value for this number renders as nothing."""

        def fill(match: re.Match[str]) -> str:
            token = match.group(0)
            if token in ("{{", "}}"):
                return token[0]
            field = match.group(1)
            if field == "Name":
                return name or ""
            return parameters.get(int(field.removeprefix("Parameter")), "")

        return _TOKEN.sub(fill, self.text)


def template_problems(text: str) -> list[str]:
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
        elif match.group(1) not in PLACEHOLDERS:
            problems.append(
                f"has unknown placeholder {token}; use {{Name}} or {{Parameter1}}..{{Parameter9}}"
            )
    return problems


@dataclass(frozen=True, slots=True)
class CallFlow:
    version: int
    message: Template
    sms: Template
    voice: str | None = None
    language: str | None = None
    keys: Mapping[str, Stage] = field(default_factory=lambda: DEFAULT_KEYS)

    def stage_for(self, pressed: str) -> Stage:
        """The stage a callee reaches by pressing ``pressed`` (first key counts) after the
        message; listening without a keypress is Answered."""
        if not pressed:
            return Stage.ANSWERED
        return self.keys.get(pressed[0], Stage.ANSWERED)


def parse_callflow(document: object) -> tuple[CallFlow | None, dict[str, list[str]]]:
    """Validate a decoded YAML/JSON document; return the flow or every problem by key."""
    if not isinstance(document, Mapping):
        return None, {"$": ["A call flow must be a mapping with at least 'message' and 'sms'."]}
    problems: dict[str, list[str]] = {}
    for key in document:
        if key not in _KNOWN_KEYS:
            known = ", ".join(sorted(_KNOWN_KEYS))
            problems.setdefault(str(key), []).append(f"unknown key; known keys are {known}")
    version = document.get("version", 1)
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        problems["version"] = [f"unsupported version {version!r}; supported: 1"]
    texts: dict[str, str] = {}
    for key in ("message", "sms"):
        value = document.get(key)
        if not isinstance(value, str):
            problems.setdefault(key, []).append("is required and must be text")
            continue
        issues = template_problems(value)
        if issues:
            problems.setdefault(key, []).extend(issues)
        texts[key] = value
    optional: dict[str, str | None] = {}
    for key in ("voice", "language"):
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            problems.setdefault(key, []).append("must be text")
        optional[key] = value if isinstance(value, str) else None
    keys, key_problems = _parse_keys(document.get("keys"))
    problems.update(key_problems)
    if problems:
        return None, problems
    flow = CallFlow(
        version=int(version),
        message=Template(texts["message"]),
        sms=Template(texts["sms"]),
        voice=optional["voice"],
        language=optional["language"],
        keys=keys,
    )
    return flow, {}


def _parse_keys(value: object) -> tuple[Mapping[str, Stage], dict[str, list[str]]]:
    if value is None:
        return DEFAULT_KEYS, {}
    if not isinstance(value, Mapping):
        return DEFAULT_KEYS, {"keys": ["must map keypad keys to stage names"]}
    problems: dict[str, list[str]] = {}
    keys: dict[str, Stage] = {}
    for key, name in value.items():
        where = f"keys.{key}"
        if not isinstance(key, str | int) or str(key) not in KEYPAD:
            problems.setdefault(where, []).append("must be one keypad key: 0-9, * or #")
            continue
        stage = _STAGES_BY_NAME.get(name) if isinstance(name, str) else None
        if stage is None:
            problems.setdefault(where, []).append(
                f"unknown stage {name!r}; use a stage name such as CorrectCallee or OptOut"
            )
            continue
        keys[str(key)] = stage
    return MappingProxyType(keys), problems
