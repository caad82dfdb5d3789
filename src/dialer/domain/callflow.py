"""Call flows: what the callee hears and does, and the SMS they may get (docs/callflows.md).

``version`` selects the schema. Version 1 is a ``message`` spoken once, one keypress mapped to
a stage, and an ``sms`` for busy lines. Version 2 is an IVR: a graph of named nodes (ivr.py).
Both parse to a ``CallFlow`` whose ``graph`` the engine walks (walker.py), so a version-1 flow
is the graph "say the message, gather one key, hang up" and the engine has one code path.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from dialer.domain.codes import Stage
from dialer.domain.ivr import (
    KEYPAD,
    STAGES_BY_NAME,
    End,
    Graph,
    Menu,
    Node,
    Problems,
    Speak,
    parse_graph,
)
from dialer.domain.templates import (
    MAX_TEMPLATE_LENGTH,
    PLACEHOLDERS,
    Template,
    template_problems,
)

__all__ = [
    "DEFAULT_KEYS",
    "KEYPAD",
    "MAX_TEMPLATE_LENGTH",
    "PLACEHOLDERS",
    "SUPPORTED_VERSIONS",
    "CallFlow",
    "Template",
    "canonical_document",
    "parse_callflow",
    "template_problems",
]

SUPPORTED_VERSIONS = frozenset({1, 2})
_V1_KEYS = frozenset({"version", "name", "message", "sms", "voice", "language", "keys"})
_V2_KEYS = frozenset(
    {"version", "name", "sms", "answerphone", "voice", "language", "start", "nodes"}
)
# What a keypress after the message means when a version-1 flow does not say.
DEFAULT_KEYS: Mapping[str, Stage] = MappingProxyType(
    {
        "1": Stage.CORRECT_CALLEE,
        "2": Stage.WRONG_CALLEE,
        "3": Stage.OPT_IN,
        "9": Stage.OPT_OUT,
    }
)
_NO_KEYS: Mapping[str, Stage] = MappingProxyType({})
_HINTS = {
    "nodes": " (a flow of nodes needs 'version: 2')",
    "start": " (a flow of nodes needs 'version: 2')",
}
_V2_HINTS = {
    "message": " (version 2 speaks through say nodes, and leaves 'answerphone' on a machine)",
    "keys": " (version 2 maps keys in a gather node's branches)",
}


@dataclass(frozen=True, slots=True)
class CallFlow:
    """A parsed flow. ``message`` is what an answering machine is left: version 1's message,
    version 2's ``answerphone``. ``keys`` and ``stage_for`` are version 1's single keypress
    (empty in version 2, whose menus are in ``graph``)."""

    version: int
    message: Template
    sms: Template
    voice: str | None = None
    language: str | None = None
    keys: Mapping[str, Stage] = field(default_factory=lambda: DEFAULT_KEYS)
    ivr: Graph | None = None  # version 2's graph; left out, built from the version-1 fields

    def __post_init__(self) -> None:
        if self.ivr is None:  # built once per flow, not once per call
            object.__setattr__(self, "ivr", _v1_graph(self))

    @property
    def answerphone(self) -> Template:
        return self.message

    @property
    def graph(self) -> Graph:
        """What the engine walks for a person who answers."""
        assert self.ivr is not None  # __post_init__ fills it
        return self.ivr

    def stage_for(self, pressed: str) -> Stage:
        """The stage a callee reaches by pressing ``pressed`` (first key counts) after a
        version-1 message; listening without a keypress is Answered."""
        if not pressed:
            return Stage.ANSWERED
        return self.keys.get(pressed[0], Stage.ANSWERED)


def parse_callflow(document: object) -> tuple[CallFlow | None, dict[str, list[str]]]:
    """Validate a decoded YAML/JSON document; return the flow or every problem by key."""
    if not isinstance(document, Mapping):
        return None, {"$": ["A call flow must be a mapping with at least 'message' and 'sms'."]}
    version = document.get("version", 1)
    if isinstance(version, bool) or version not in SUPPORTED_VERSIONS:
        return None, {"version": [f"unsupported version {version!r}; supported: 1, 2"]}
    if version == 2:
        return _parse_v2(document)
    return _parse_v1(document)


def canonical_document(document: object) -> dict[str, object]:
    """The document as it is stored: keys as text (YAML reads ``1:`` as a number), and a
    version-2 ``start`` made explicit, since stored JSON is key-sorted and "the first node"
    would otherwise change meaning. Call only on a document that parses."""
    stored = _text_keys(document)
    assert isinstance(stored, dict)
    nodes = stored.get("nodes")
    if stored.get("version") == 2 and "start" not in stored and isinstance(nodes, dict):
        stored["start"] = next(iter(nodes))
    return stored


def _text_keys(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_keys(v) for v in value]
    return value


def _unknown_keys(document: Mapping[object, object], known: frozenset[str]) -> Problems:
    problems: Problems = {}
    names = ", ".join(sorted(known))
    for key in document:
        if key not in known:
            hint = _HINTS.get(str(key), "") if known is _V1_KEYS else _V2_HINTS.get(str(key), "")
            problems.setdefault(str(key), []).append(f"unknown key; known keys are {names}{hint}")
    return problems


def _templates(
    document: Mapping[object, object], keys: tuple[str, ...], problems: Problems
) -> dict[str, Template]:
    found: dict[str, Template] = {}
    for key in keys:
        value = document.get(key)
        if not isinstance(value, str):
            problems.setdefault(key, []).append("is required and must be text")
            continue
        issues = template_problems(value)
        if issues:
            problems.setdefault(key, []).extend(issues)
        found[key] = Template(value)
    return found


def _optional_texts(
    document: Mapping[object, object], keys: tuple[str, ...], problems: Problems
) -> dict[str, str]:
    found: dict[str, str] = {}
    for key in keys:
        value = document.get(key)
        if value is not None and not isinstance(value, str):
            problems.setdefault(key, []).append("must be text")
        elif value is not None:
            found[key] = value
    return found


def _parse_v1(document: Mapping[object, object]) -> tuple[CallFlow | None, Problems]:
    problems = _unknown_keys(document, _V1_KEYS)
    texts = _templates(document, ("message", "sms"), problems)
    # A version-1 name was never checked: checking it now could refuse a stored flow.
    optional = _optional_texts(document, ("voice", "language"), problems)
    keys, key_problems = _parse_keys(document.get("keys"))
    problems.update(key_problems)
    if problems:
        return None, problems
    flow = CallFlow(
        version=1,
        message=texts["message"],
        sms=texts["sms"],
        voice=optional.get("voice"),
        language=optional.get("language"),
        keys=keys,
    )
    return flow, {}


def _parse_v2(document: Mapping[object, object]) -> tuple[CallFlow | None, Problems]:
    problems = _unknown_keys(document, _V2_KEYS)
    texts = _templates(document, ("sms", "answerphone"), problems)
    optional = _optional_texts(document, ("voice", "language", "name"), problems)
    graph, graph_problems = parse_graph(
        document.get("nodes"), document.get("start"), optional.get("voice")
    )
    problems.update(graph_problems)
    if problems or graph is None:
        return None, problems
    flow = CallFlow(
        version=2,
        message=texts["answerphone"],
        sms=texts["sms"],
        voice=optional.get("voice"),
        language=optional.get("language"),
        keys=_NO_KEYS,
        ivr=graph,
    )
    return flow, {}


def _parse_keys(value: object) -> tuple[Mapping[str, Stage], Problems]:
    if value is None:
        return DEFAULT_KEYS, {}
    if not isinstance(value, Mapping):
        return DEFAULT_KEYS, {"keys": ["must map keypad keys to stage names"]}
    problems: Problems = {}
    keys: dict[str, Stage] = {}
    for key, name in value.items():
        where = f"keys.{key}"
        if not isinstance(key, str | int) or str(key) not in KEYPAD:
            problems.setdefault(where, []).append("must be one keypad key: 0-9, * or #")
            continue
        stage = STAGES_BY_NAME.get(name) if isinstance(name, str) else None
        if stage is None:
            problems.setdefault(where, []).append(
                f"unknown stage {name!r}; use a stage name such as CorrectCallee or OptOut"
            )
            continue
        keys[str(key)] = stage
    return MappingProxyType(keys), problems


def _v1_graph(flow: CallFlow) -> Graph:
    """Version 1 as a graph: say the message, wait once for one key, record its stage, end.

    The names are internal (never validated or shown), chosen not to clash with each other.
    """
    branches = {key: f"key {key}" for key in flow.keys}
    nodes = [
        Node("message", Speak(flow.message, flow.voice), next="keys"),
        Node("keys", Menu(None, flow.voice, None, 1, 1, branches, "end")),
        *(Node(f"key {k}", None, stage=s, next="end") for k, s in flow.keys.items()),
        Node("end", End()),
    ]
    return Graph("message", MappingProxyType({node.name: node for node in nodes}))
