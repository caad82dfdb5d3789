"""Call flow format version 2: the IVR graph's validation, by the path of each problem."""

import copy
import json
from typing import Any

import pytest
import yaml

from dialer.domain.callflow import CallFlow, canonical_document, parse_callflow
from dialer.domain.codes import Stage
from dialer.domain.ivr import End, Menu, PlayAudio, Speak, TransferTo
from dialer.domain.templates import Callee, Template, custom_fields

GOOD = """\
version: 2
voice: en-gb
sms: "Hi {Name}, we tried to call you about {Parameter1}."
answerphone: "Hello {Name}, this is Acme. Please call us back on 0800 123 456."
start: greet
nodes:
  greet:
    say: "Hello {Name}. Your appointment is on {Parameter1} at {Parameter2}."
    next: menu
  menu:
    gather: {prompt: "Press 1 to confirm, 2 to cancel, 0 to speak to someone.",
             timeout: 5, max_digits: 1, attempts: 2}
    branches: {"1": confirm, "2": cancel, "0": agent}
    default: goodbye
  confirm: {stage: CorrectCallee, next: thanks}
  thanks: {say: "Thank you {Name}.", next: jingle}
  jingle: {play: "jingle.wav", next: bye}
  cancel: {stage: OptOut, sms: "You have cancelled {CustomData.booking}.", next: bye}
  agent: {transfer: "queue:Sales", next: sorry}
  sorry: {say: "Nobody is free.", voice: en-us, next: bye}
  goodbye: {hangup: true}
  bye: {hangup: true}
"""


def good() -> dict[str, Any]:
    document = yaml.safe_load(GOOD)
    assert isinstance(document, dict)
    return document


def problems_of(document: object) -> dict[str, list[str]]:
    flow, problems = parse_callflow(document)
    assert flow is None
    return problems


def with_nodes(**nodes: object) -> dict[str, Any]:
    document = good()
    document["nodes"] = {"greet": {"say": "Hi", "next": "bye"}, "bye": {"hangup": True}, **nodes}
    return document


def test_the_example_parses_to_a_graph() -> None:
    flow, problems = parse_callflow(good())
    assert problems == {}
    assert isinstance(flow, CallFlow)
    assert flow.version == 2
    assert flow.answerphone.text.startswith("Hello {Name}, this is Acme")
    assert flow.keys == {}
    graph = flow.graph
    assert graph.start == "greet"
    assert graph.nodes["greet"].action == Speak(
        Template("Hello {Name}. Your appointment is on {Parameter1} at {Parameter2}."), "en-gb"
    )
    menu = graph.nodes["menu"].action
    assert isinstance(menu, Menu)
    assert (menu.timeout, menu.max_digits, menu.attempts) == (5, 1, 2)
    assert menu.branches == {"1": "confirm", "2": "cancel", "0": "agent"}
    assert menu.default == "goodbye"
    assert graph.nodes["confirm"].action is None
    assert graph.nodes["confirm"].stage is Stage.CORRECT_CALLEE
    assert graph.nodes["cancel"].sms == Template("You have cancelled {CustomData.booking}.")
    assert graph.nodes["agent"].action == TransferTo("queue:Sales")
    assert graph.nodes["jingle"].action == PlayAudio("jingle.wav")
    assert graph.nodes["sorry"].action == Speak(Template("Nobody is free."), "en-us")
    assert graph.nodes["bye"].action == End()


def test_json_is_yaml_and_start_defaults_to_the_first_node() -> None:
    document = good()
    del document["start"]
    document["nodes"] = {"intro": {"play": "intro.wav", "next": "greet"}, **document["nodes"]}
    flow, problems = parse_callflow(json.loads(json.dumps(document)))
    assert problems == {}
    assert flow is not None
    assert flow.graph.start == "intro"


def test_the_stored_form_keeps_the_start_node_and_has_text_keys() -> None:
    document = good()
    del document["start"]
    document["nodes"]["menu"]["branches"] = {1: "confirm", 2: "cancel", "0": "agent"}
    stored = canonical_document(document)
    assert stored["start"] == "greet"
    # Sorted JSON (as the catalog stores it) needs keys of one type, and must mean the same.
    reloaded = json.loads(json.dumps(stored, sort_keys=True))
    flow, problems = parse_callflow(reloaded)
    assert problems == {}
    assert flow is not None
    assert flow.graph.start == "greet"
    menu = flow.graph.nodes["menu"].action
    assert isinstance(menu, Menu)
    assert set(menu.branches) == {"0", "1", "2"}


@pytest.mark.parametrize(
    ("nodes", "path", "message"),
    [
        (
            {"menu": {"gather": {}, "branches": {"3": "cancl"}}},
            "nodes.menu.branches.3",
            "branch to unknown node 'cancl'",
        ),
        ({"foo": {"colour": "red"}}, "nodes.foo", "unknown node type; use one of say, play"),
        ({"foo": {"colour": "red"}}, "nodes.foo.colour", "unknown key"),
        ({"foo": {"say": "a", "hangup": True}}, "nodes.foo", "more than one action (say, hangup)"),
        ({"foo": {"say": "Hi {Nmae}", "next": "bye"}}, "nodes.foo.say", "unknown placeholder"),
        ({"foo": {"say": "Hi"}}, "nodes.foo.next", "is required"),
        ({"foo": {"play": "a.wav"}}, "nodes.foo.next", "is required"),
        ({"foo": {"stage": "OptOut"}}, "nodes.foo.next", "is required"),
        ({"foo": {"sms": "Bye"}}, "nodes.foo.next", "is required"),
        ({"foo": {"say": "Hi", "next": "nowhere"}}, "nodes.foo.next", "unknown node 'nowhere'"),
        ({"foo": {"hangup": True, "next": "bye"}}, "nodes.foo.next", "not allowed"),
        ({"foo": {"gather": {}, "next": "bye"}}, "nodes.foo.next", "not allowed"),
        ({"foo": {"gather": {}, "default": "gone"}}, "nodes.foo.default", "unknown node 'gone'"),
        ({"foo": {"say": "a", "next": "bye", "default": "bye"}}, "nodes.foo.default", "gather"),
        ({"foo": {"hangup": "yes"}}, "nodes.foo.hangup", "must be true"),
        ({"foo": {"stage": "Happy", "next": "bye"}}, "nodes.foo.stage", "unknown stage 'Happy'"),
        ({"foo": {"sms": "x {", "next": "bye"}}, "nodes.foo.sms", "unmatched brace"),
        ({"foo": {"play": "../x.wav", "next": "bye"}}, "nodes.foo.play", "no '..'"),
        ({"foo": {"play": "a/b.wav", "next": "bye"}}, "nodes.foo.play", "no directory"),
        ({"foo": {"play": "song.mp3", "next": "bye"}}, "nodes.foo.play", "ending .wav"),
        ({"foo": {"transfer": "Sales"}}, "nodes.foo.transfer", "E.164"),
        ({"foo": {"transfer": "queue:"}}, "nodes.foo.transfer", "queue:<queue name>"),
        ({"foo": {"hangup": True, "voice": "x"}}, "nodes.foo.voice", "say or gather"),
        ({"foo": {"gather": {"timeout": 61}}}, "nodes.foo.gather.timeout", "1-60"),
        ({"foo": {"gather": {"max_digits": 0}}}, "nodes.foo.gather.max_digits", "1-20"),
        ({"foo": {"gather": {"attempts": 6}}}, "nodes.foo.gather.attempts", "1-5"),
        ({"foo": {"gather": {"attempts": 1.5}}}, "nodes.foo.gather.attempts", "whole"),
        ({"foo": {"gather": {"prompt": "{Nmae}"}}}, "nodes.foo.gather.prompt", "placeholder"),
        ({"foo": {"gather": {"beep": True}}}, "nodes.foo.gather.beep", "unknown key"),
        ({"foo": {"gather": {}, "branches": {"12": "bye"}}}, "nodes.foo.branches.12", "1 to 1"),
        ({"foo": {"gather": {}, "branches": {"x": "bye"}}}, "nodes.foo.branches.x", "keypad"),
        ({"foo": "say hello"}, "nodes.foo", "must be a mapping"),
        ({"9lives": {"hangup": True}}, "nodes.9lives", "node names are"),
    ],
)
def test_each_problem_points_at_its_node(nodes: dict[str, object], path: str, message: str) -> None:
    document = with_nodes(**nodes)
    # Point greet at the node under test so that it is reachable.
    first = next(iter(nodes))
    if first[0].isalpha():
        document["nodes"]["greet"] = {"say": "Hi", "next": first}
    problems = problems_of(document)
    assert path in problems, problems
    assert any(message in text for text in problems[path]), problems[path]


def test_an_unreachable_node_is_named_with_the_start() -> None:
    problems = problems_of(with_nodes(orphan={"say": "Lost", "next": "bye"}))
    assert problems == {"nodes.orphan": ["unreachable from start node 'greet'"]}


def test_a_loop_without_a_gather_is_refused_and_one_through_a_gather_is_not() -> None:
    spin = with_nodes(
        greet={"say": "Hi", "next": "again"},
        again={"stage": "Answered", "next": "greet"},
    )
    problems = problems_of(spin)
    assert set(problems) == {"nodes.again.next", "nodes.bye"}  # bye: only the loop leads on
    assert "loop with no gather (greet -> again -> greet)" in problems["nodes.again.next"][0]
    menu = with_nodes(
        greet={"say": "Hi", "next": "menu"},
        menu={
            "gather": {"prompt": "Press 1 to hear it again"},
            "branches": {"1": "greet"},
            "default": "bye",
        },
    )
    assert parse_callflow(menu)[1] == {}


def test_the_top_level_of_version_2() -> None:
    document = good()
    del document["answerphone"]
    document["message"] = "Hi"
    document["start"] = "nope"
    problems = problems_of(document)
    assert problems["answerphone"] == ["is required and must be text"]
    assert "version 2 speaks through say nodes" in problems["message"][0]
    assert problems["start"] == ["unknown node 'nope'"]
    assert problems_of({"version": 2, "sms": "a", "answerphone": "b"}) == {
        "nodes": ["is required and must map node names to nodes"]
    }
    many = {f"n{i}": {"say": "x", "next": f"n{i + 1}"} for i in range(100)}
    many["n100"] = {"hangup": True}
    too_many = {"version": 2, "sms": "a", "answerphone": "b", "nodes": many}
    assert problems_of(too_many)["nodes"] == ["has 101 nodes; at most 100 are allowed"]


def test_a_long_template_is_refused() -> None:
    problems = problems_of(with_nodes(greet={"say": "x" * 4001, "next": "bye"}))
    assert problems == {"nodes.greet.say": ["must be at most 4000 characters"]}


def test_version_1_still_parses_and_is_a_graph_too() -> None:
    flow, problems = parse_callflow({"message": "Hi {Name}", "sms": "s", "keys": {1: "OptIn"}})
    assert problems == {}
    assert flow is not None
    assert flow.version == 1
    assert flow.answerphone == flow.message
    graph = flow.graph
    assert graph.nodes[graph.start].action == Speak(Template("Hi {Name}"), None)
    assert flow.stage_for("1") is Stage.OPT_IN
    # A version-1 document naming nodes is told what it is missing.
    problems = problems_of({"message": "a", "sms": "b", "nodes": {}})
    assert "needs 'version: 2'" in problems["nodes"][0]


def test_placeholders_include_custom_data() -> None:
    template = Template("{Name} {Parameter2} {CustomData.ref} {CustomData.n} [{CustomData.gone}]")
    custom = custom_fields('{"ref": "A-1", "n": 12.5, "ok": true, "deep": {"x": 1}, "z": null}')
    assert dict(custom) == {"ref": "A-1", "n": "12.5", "ok": "true"}
    text = template.fill(Callee("Ann", {2: "Tue"}, custom))
    assert text == "Ann Tue A-1 12.5 []"
    assert custom_fields(None) == {}
    assert custom_fields("[1, 2]") == {}
    assert custom_fields("not json") == {}
    problems = problems_of(with_nodes(greet={"say": "{CustomData.}", "next": "bye"}))
    assert "unknown placeholder {CustomData.}" in problems["nodes.greet.say"][0]


def test_the_document_is_not_changed_by_parsing() -> None:
    document = good()
    before = copy.deepcopy(document)
    parse_callflow(document)
    canonical_document(document)
    assert document == before
