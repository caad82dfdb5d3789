"""The IVR graph of a version-2 call flow: named nodes, each one action and its side effects.

A node does at most one thing on the line (say, play, gather, transfer or hangup) and may set
the attempt's stage and queue an SMS on its way in. Nodes point at each other by name; the
checks here make sure every name exists, every node can be reached, and that a loop always
passes through a gather, since only a gather waits for the callee (docs/callflows.md).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from dialer.domain.codes import Stage
from dialer.domain.templates import Template, template_problems

Problems = dict[str, list[str]]

MAX_NODES = 100
NODE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,63}")
KEYPAD = frozenset("0123456789*#")
ACTIONS = ("say", "play", "gather", "transfer", "hangup")
_NODE_KEYS = frozenset({*ACTIONS, "stage", "sms", "next", "voice", "branches", "default"})
_GATHER_KEYS = frozenset({"prompt", "timeout", "max_digits", "attempts"})
# A plain file name: no directory part can be smuggled in, so a tenant reads only its own.
_AUDIO_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,250}\.wav")
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
QUEUE_PREFIX = "queue:"
STAGES_BY_NAME = {stage.api_name: stage for stage in Stage}


@dataclass(frozen=True, slots=True)
class Speak:
    text: Template
    voice: str | None  # the node's, else the flow's


@dataclass(frozen=True, slots=True)
class PlayAudio:
    name: str  # a file name in the tenant's audio directory


@dataclass(frozen=True, slots=True)
class Menu:
    prompt: Template | None
    voice: str | None
    timeout: float | None  # seconds; None: the engine's gather timeout
    max_digits: int
    attempts: int
    branches: Mapping[str, str]  # the digits pressed -> node name
    default: str | None  # after the attempts with no branch taken; None ends the call


@dataclass(frozen=True, slots=True)
class TransferTo:
    target: str  # E.164, or queue:<name>

    @property
    def to_queue(self) -> bool:
        return self.target.startswith(QUEUE_PREFIX)


@dataclass(frozen=True, slots=True)
class End:
    pass


Action = Speak | PlayAudio | Menu | TransferTo | End


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    action: Action | None  # None: a stage/sms-only node that goes straight on to ``next``
    stage: Stage | None = None
    sms: Template | None = None
    next: str | None = None  # say, play, stage/sms-only: required; transfer: on failure


@dataclass(frozen=True, slots=True)
class Graph:
    start: str
    nodes: Mapping[str, Node]

    def exits(self, node: Node) -> list[tuple[str, str]]:
        """(path of the reference, node name) for every node ``node`` may go on to."""
        where = f"nodes.{node.name}"
        found = [(f"{where}.next", node.next)] if node.next is not None else []
        if isinstance(node.action, Menu):
            found += [(f"{where}.branches.{k}", v) for k, v in node.action.branches.items()]
            if node.action.default is not None:
                found.append((f"{where}.default", node.action.default))
        return found


def queue_transfers(graph: Graph) -> list[tuple[str, str]]:
    """(path of the node's transfer, queue name) for every transfer to a queue, in node order."""
    return [
        (f"nodes.{node.name}.transfer", node.action.target.removeprefix(QUEUE_PREFIX))
        for node in graph.nodes.values()
        if isinstance(node.action, TransferTo) and node.action.to_queue
    ]


def parse_graph(nodes: object, start: object, voice: str | None) -> tuple[Graph | None, Problems]:
    """Validate the ``nodes`` and ``start`` of a version-2 flow; ``voice`` is the flow's."""
    problems: Problems = {}
    if not isinstance(nodes, Mapping) or not nodes:
        return None, {"nodes": ["is required and must map node names to nodes"]}
    if len(nodes) > MAX_NODES:
        problems["nodes"] = [f"has {len(nodes)} nodes; at most {MAX_NODES} are allowed"]
    parsed: dict[str, Node] = {}
    names = {name for name in nodes if isinstance(name, str)}
    for name, value in nodes.items():
        if not isinstance(name, str) or not NODE_NAME.fullmatch(name):
            _add(problems, f"nodes.{name}", _NAME_RULE)
            continue
        node = _parse_node(name, value, voice, problems)
        if node is not None:
            parsed[name] = node
    if start is None:  # the first node, in the order the document gives them
        start = next((name for name in nodes if isinstance(name, str)), None)
    elif not isinstance(start, str) or start not in names:
        _add(problems, "start", f"unknown node {start!r}")
    graph = Graph(start, parsed) if isinstance(start, str) else None
    if graph is None:
        return None, problems
    for node in parsed.values():
        for path, target in graph.exits(node):
            if target not in names:
                what = "branch to unknown node" if ".branches." in path else "unknown node"
                _add(problems, path, f"{what} {target!r}")
    if not problems:  # reachability needs every node's exits, and every name known
        _check_reachable(graph, problems)
    _check_loops(graph, problems)
    return (None if problems else graph), problems


_NAME_RULE = "node names are 1 to 64 letters, digits, _ or -, starting with a letter"
_ONE_ACTION = "a node does one of say, play, gather, transfer or hangup"


def _add(problems: Problems, path: str, message: str) -> None:
    problems.setdefault(path, []).append(message)


def _parse_node(name: str, value: object, voice: str | None, problems: Problems) -> Node | None:
    where = f"nodes.{name}"
    if not isinstance(value, Mapping):
        _add(problems, where, f"must be a mapping; {_ONE_ACTION}")
        return None
    before = sum(len(v) for v in problems.values())
    for key in value:
        if key not in _NODE_KEYS:
            known = ", ".join(sorted(_NODE_KEYS))
            _add(problems, f"{where}.{key}", f"unknown key; a node's keys are {known}")
    kinds = [k for k in ACTIONS if k in value]
    if len(kinds) > 1:
        _add(problems, where, f"has more than one action ({', '.join(kinds)}); {_ONE_ACTION}")
        return None
    kind = kinds[0] if kinds else None
    if kind is None and "stage" not in value and "sms" not in value:
        _add(
            problems,
            where,
            "unknown node type; use one of say, play, gather, transfer, hangup"
            " (or a node with only stage and/or sms, and next)",
        )
        return None
    node_voice = _text(value, "voice", where, problems)
    if node_voice is not None and kind not in ("say", "gather"):
        _add(problems, f"{where}.voice", "only a say or gather node has a voice")
    action = _parse_action(kind, value, where, node_voice or voice, problems)
    for key, allowed in (("branches", "gather"), ("default", "gather")):
        if key in value and kind != allowed:
            _add(problems, f"{where}.{key}", f"only a gather node has {key}")
    stage = _stage(value.get("stage"), f"{where}.stage", problems)
    sms = _template(value, "sms", where, problems, required=False)
    follow = _text(value, "next", where, problems)
    if follow is None and kind in (None, "say", "play"):
        _add(problems, f"{where}.next", f"is required: which node follows this {kind or 'node'}")
    elif follow is not None and kind in ("gather", "hangup"):
        why = "goes on by its branches and default" if kind == "gather" else "ends the call"
        _add(problems, f"{where}.next", f"not allowed: a {kind} node {why}")
    if sum(len(v) for v in problems.values()) > before:
        return None
    return Node(name, action, stage, sms, follow)


def _parse_action(
    kind: str | None,
    node: Mapping[object, object],
    where: str,
    voice: str | None,
    problems: Problems,
) -> Action | None:
    if kind == "say":
        text = _template(node, "say", where, problems, required=True)
        return Speak(text, voice) if text is not None else None
    if kind == "play":
        return _play(node.get("play"), f"{where}.play", problems)
    if kind == "gather":
        return _menu(node, where, voice, problems)
    if kind == "transfer":
        return _transfer(node.get("transfer"), f"{where}.transfer", problems)
    if kind == "hangup":
        if node.get("hangup") is not True:
            _add(problems, f"{where}.hangup", "must be true")
        return End()
    return None


def valid_audio_name(value: object) -> bool:
    """A file name in the tenant's audio directory: no directory part, no '..', .wav."""
    return isinstance(value, str) and ".." not in value and bool(_AUDIO_NAME.fullmatch(value))


def _play(value: object, where: str, problems: Problems) -> PlayAudio | None:
    if not valid_audio_name(value):
        _add(
            problems,
            where,
            "must be an audio file name ending .wav: letters, digits, _, - and ., with no"
            " directory part and no '..'",
        )
        return None
    assert isinstance(value, str)
    return PlayAudio(value)


def _transfer(value: object, where: str, problems: Problems) -> TransferTo | None:
    if isinstance(value, str):
        queue = value.removeprefix(QUEUE_PREFIX)
        if _E164.fullmatch(value) or (
            value.startswith(QUEUE_PREFIX)
            and queue
            and queue == queue.strip()
            and len(queue) <= 200
        ):
            return TransferTo(value)
    _add(problems, where, "must be an E.164 number (+442071234567) or queue:<queue name>")
    return None


def _menu(
    node: Mapping[object, object], where: str, voice: str | None, problems: Problems
) -> Menu | None:
    spec = node.get("gather")
    here = f"{where}.gather"
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        _add(problems, here, "must be a mapping of prompt, timeout, max_digits, attempts")
        return None
    for key in spec:
        if key not in _GATHER_KEYS:
            known = ", ".join(sorted(_GATHER_KEYS))
            _add(problems, f"{here}.{key}", f"unknown key; a gather's keys are {known}")
    prompt = _template(spec, "prompt", here, problems, required=False)
    timeout = _number(spec.get("timeout"), f"{here}.timeout", 1, 60, problems)
    digits = _number(spec.get("max_digits"), f"{here}.max_digits", 1, 20, problems, whole=True)
    attempts = _number(spec.get("attempts"), f"{here}.attempts", 1, 5, problems, whole=True)
    max_digits = int(digits) if digits is not None else 1
    branches: dict[str, str] = {}
    raw = node.get("branches", {})
    if not isinstance(raw, Mapping):
        _add(problems, f"{where}.branches", "must map keys pressed to node names")
        raw = {}
    for key, target in raw.items():
        path = f"{where}.branches.{key}"
        pressed = str(key) if isinstance(key, str | int) and not isinstance(key, bool) else ""
        if not pressed or set(pressed) - KEYPAD or len(pressed) > max_digits:
            _add(problems, path, f"must be 1 to {max_digits} keypad keys (0-9, *, #)")
        elif not isinstance(target, str):
            _add(problems, path, "must name a node")
        else:
            branches[pressed] = target
    default = _text(node, "default", where, problems)
    return Menu(
        prompt,
        voice,
        timeout,
        max_digits,
        int(attempts) if attempts is not None else 1,
        branches,
        default,
    )


def _number(
    value: object,
    where: str,
    low: int,
    high: int,
    problems: Problems,
    *,
    whole: bool = False,
) -> float | None:
    if value is None:
        return None
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not low <= value <= high:
        _add(problems, where, f"must be {'a whole number' if whole else 'a number'} {low}-{high}")
        return None
    return float(value)


def _stage(value: object, where: str, problems: Problems) -> Stage | None:
    if value is None:
        return None
    stage = STAGES_BY_NAME.get(value) if isinstance(value, str) else None
    if stage is None:
        _add(problems, where, f"unknown stage {value!r}; use a stage name such as CorrectCallee")
    return stage


def _text(node: Mapping[object, object], key: str, where: str, problems: Problems) -> str | None:
    value = node.get(key)
    if value is not None and not isinstance(value, str):
        _add(problems, f"{where}.{key}", "must be text")
        return None
    return value


def _template(
    node: Mapping[object, object], key: str, where: str, problems: Problems, *, required: bool
) -> Template | None:
    value = node.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        _add(problems, f"{where}.{key}", "must be text")
        return None
    issues = template_problems(value)
    if issues:
        problems.setdefault(f"{where}.{key}", []).extend(issues)
        return None
    return Template(value)


def _check_reachable(graph: Graph, problems: Problems) -> None:
    seen = {graph.start}
    todo = [graph.start]
    while todo:
        node = graph.nodes[todo.pop()]
        for _, target in graph.exits(node):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    for name in graph.nodes:
        if name not in seen:
            _add(problems, f"nodes.{name}", f"unreachable from start node {graph.start!r}")


def _check_loops(graph: Graph, problems: Problems) -> None:
    """Reject a loop of nodes that never waits for the callee: it would spin forever.

    Only a gather may lead back, and every other node has one exit (``next``), so following
    ``next`` from each node either stops at a gather, a hangup or an unknown name, or
    comes round to a node already on the path.
    """
    reported: set[str] = set()
    for name in graph.nodes:
        path: list[str] = []
        current: str | None = name
        while current is not None and current not in path and current not in reported:
            node = graph.nodes.get(current)
            if node is None or isinstance(node.action, Menu):
                break
            path.append(current)
            current = node.next
        if current is None or current not in path:
            continue
        loop = path[path.index(current) :]
        reported.update(loop)
        route = " -> ".join([*loop, current])
        _add(
            problems,
            f"nodes.{loop[-1]}.next",
            f"makes a loop with no gather ({route}); the call would never end",
        )
