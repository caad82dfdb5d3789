"""The walker: a call flow's graph walked with scripted results, no network involved."""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest

from dialer.domain.callflow import CallFlow, parse_callflow
from dialer.domain.codes import Stage
from dialer.domain.templates import Callee
from dialer.domain.walker import (
    MAX_STEPS,
    Gather,
    Hangup,
    Play,
    Say,
    Step,
    StepResult,
    Transfer,
    Walker,
)

ANN = Callee("Ann", {1: "Friday"}, {"ref": "B-7"})


def flow(nodes: dict[str, Any], **top: Any) -> CallFlow:
    document = {"version": 2, "sms": "s", "answerphone": "a", "nodes": nodes, **top}
    parsed, problems = parse_callflow(document)
    assert problems == {}
    assert parsed is not None
    return parsed


MENU = flow(
    {
        "greet": {"say": "Hello {Name}, about {Parameter1}.", "next": "menu"},
        "menu": {
            "gather": {"prompt": "Press 1 or 2.", "timeout": 7, "attempts": 3},
            "branches": {"1": "confirm", "2": "cancel", "0": "agent"},
            "default": "goodbye",
        },
        "confirm": {"stage": "CorrectCallee", "next": "thanks"},
        "thanks": {"say": "Thank you.", "next": "bye"},
        "cancel": {"stage": "OptOut", "sms": "Cancelled {CustomData.ref}.", "next": "bye"},
        "agent": {"transfer": "queue:Sales", "next": "sorry"},
        "sorry": {"play": "busy.wav", "next": "menu"},
        "goodbye": {"say": "Goodbye.", "next": "bye"},
        "bye": {"hangup": True},
    },
    voice="en-gb",
)
PROMPT = Gather("Press 1 or 2.", "en-gb", timedelta(seconds=7), 1)


def walk(graph_flow: CallFlow, results: Sequence[StepResult]) -> tuple[Walker, list[Step]]:
    """Walk with ``results`` answering each step in turn; returns the walker and its steps."""
    walker = Walker(graph_flow.graph, ANN)
    steps = [walker.start()]
    for result in results:
        assert not isinstance(steps[-1], Hangup), steps
        steps.append(walker.advance(result))
    return walker, steps


def test_a_menu_asks_again_up_to_its_attempts_then_takes_the_default() -> None:
    walker, steps = walk(MENU, [True, "", "7", "", True])
    assert steps == [
        Say("Hello Ann, about Friday.", "en-gb"),
        PROMPT,
        PROMPT,
        PROMPT,
        Say("Goodbye.", "en-gb"),
        Hangup(),
    ]
    assert walker.done
    assert walker.keys == "7"  # every key pressed, known or not
    assert walker.stage is Stage.ANSWERED  # no stage node on the way


def test_a_branch_records_its_stage() -> None:
    walker, steps = walk(MENU, [True, "1", True])
    assert steps[-2:] == [Say("Thank you.", "en-gb"), Hangup()]
    assert (walker.stage, walker.keys, walker.sms) == (Stage.CORRECT_CALLEE, "1", [])


def test_an_sms_node_is_collected_with_the_callees_details() -> None:
    walker, steps = walk(MENU, [True, "2"])
    assert steps[-1] == Hangup()
    assert walker.stage is Stage.OPT_OUT
    assert walker.sms == ["Cancelled B-7."]


def test_a_transfer_to_a_queue() -> None:
    walker, steps = walk(MENU, [True, "0", True])
    assert steps[-2:] == [Transfer("queue:Sales"), Hangup()]
    assert walker.stage is Stage.CALL_TRANSFERRED_TO_CALL_CENTRE
    assert walker.transferred_to == "queue:Sales"


def test_a_failed_transfer_goes_on_and_a_menu_may_loop_back() -> None:
    walker, steps = walk(MENU, [True, "0", False, True, "2"])
    assert steps[2:5] == [Transfer("queue:Sales"), Play("busy.wav"), PROMPT]
    assert walker.stage is Stage.OPT_OUT  # a stage node wins over what the transfer implied
    assert walker.keys == "02"


def test_a_transfer_to_a_number_without_a_stage_node() -> None:
    direct = flow({"agent": {"transfer": "+442071234567"}})
    walker, steps = walk(direct, [True])
    assert steps == [Transfer("+442071234567"), Hangup()]
    assert walker.stage is Stage.CALLEE_TRANSFER_ACCEPTED
    walker, _ = walk(direct, [False])
    assert walker.stage is Stage.CALLEE_TRANSFER_REQUEST


def test_hanging_up_during_the_first_say_declines_the_call() -> None:
    walker, steps = walk(MENU, [False])
    assert steps[-1] == Hangup()
    assert walker.stage is Stage.CALL_DECLINED


def test_hanging_up_later_is_answered_and_keeps_a_stage_reached() -> None:
    walker, _ = walk(MENU, [True, None])
    assert walker.stage is Stage.ANSWERED
    walker, _ = walk(MENU, [True, "1", False])
    assert walker.stage is Stage.CORRECT_CALLEE


def test_hanging_up_at_a_first_gather_that_asked_nothing_declines() -> None:
    silent = flow({"menu": {"gather": {}, "default": "bye"}, "bye": {"hangup": True}})
    walker, _ = walk(silent, [None])
    assert walker.stage is Stage.CALL_DECLINED
    walker, _ = walk(silent, [""])
    assert walker.stage is Stage.ANSWERED


def test_the_step_cap_ends_a_walk_that_keeps_going() -> None:
    again = flow(
        {
            "menu": {"gather": {"prompt": "Press 1"}, "branches": {"1": "note"}},
            "note": {"sms": "Once only", "next": "menu"},
        }
    )
    walker = Walker(again.graph, ANN)
    step = walker.start()
    count = 0
    while not isinstance(step, Hangup):
        count += 1
        step = walker.advance("1")
    assert walker.capped
    assert count == MAX_STEPS // 2  # each round: the gather and the sms node
    assert walker.sms == ["Once only"]  # an sms node sends once per call however often reached
    assert walker.advance("1") == Hangup()  # over is over


def test_a_version_1_flow_walks_as_before() -> None:
    v1, _ = parse_callflow({"message": "Hi {Name}", "sms": "s", "voice": "v"})
    assert v1 is not None
    walker, steps = walk(v1, [True, "9"])
    assert steps == [Say("Hi Ann", "v"), Gather(None, "v", None, 1), Hangup()]
    assert (walker.stage, walker.keys) == (Stage.OPT_OUT, "9")
    for results, stage in (
        ([True, "7"], Stage.ANSWERED),
        ([True, ""], Stage.ANSWERED),
        ([True, None], Stage.ANSWERED),
        ([False], Stage.CALL_DECLINED),
    ):
        assert walk(v1, results)[0].stage is stage


def test_advance_needs_a_start() -> None:
    walker = Walker(MENU.graph, ANN)
    with pytest.raises(RuntimeError):
        walker.advance(True)
    walker.start()
    with pytest.raises(RuntimeError):
        walker.start()
