"""quick_init keeps a frozen dataclass what it was, with a faster __init__."""

import copy
import dataclasses
import inspect
from dataclasses import FrozenInstanceError, InitVar, dataclass, field

import pytest

from dialer.domain import attempt, call, events, retry, templates, walker
from dialer.domain.records import quick_init
from dialer.telephony import sim_network


@quick_init
@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    sides: int = 4
    tags: list[str] = field(default_factory=list)
    colour: str = field(default="red", kw_only=True)
    area: float = field(default=0.0, init=False)
    seen: list[int] = field(default_factory=list, init=False)


@dataclass(frozen=True, slots=True)
class PlainShape:  # the same class as the dataclass makes it, to compare against
    name: str
    sides: int = 4
    tags: list[str] = field(default_factory=list)
    colour: str = field(default="red", kw_only=True)
    area: float = field(default=0.0, init=False)
    seen: list[int] = field(default_factory=list, init=False)


def test_it_takes_the_same_parameters_with_the_same_defaults() -> None:
    def shape(cls: type) -> list[tuple[str, object, object]]:
        params = inspect.signature(cls).parameters.values()
        return [(p.name, p.kind, p.default is inspect.Parameter.empty) for p in params]

    assert shape(Shape) == shape(PlainShape)
    assert dataclasses.asdict(Shape("square")) == dataclasses.asdict(PlainShape("square"))
    built = Shape("kite", 3, ["odd"], colour="blue")
    assert (built.name, built.sides, built.tags, built.colour) == ("kite", 3, ["odd"], "blue")
    assert (built.area, built.seen) == (0.0, [])


def test_a_default_factory_gives_each_instance_its_own_value() -> None:
    one, two = Shape("a"), Shape("b")
    one.tags.append("x")
    one.seen.append(1)
    assert two.tags == []
    assert two.seen == []


def test_wrong_arguments_are_refused_as_before() -> None:
    for make in (
        lambda: Shape(),  # type: ignore[call-arg]
        lambda: Shape("a", 3, [], "blue"),  # type: ignore[misc]  # colour is keyword-only
        lambda: Shape("a", area=2.0),  # type: ignore[call-arg]  # area is not a parameter
        lambda: Shape("a", name="b"),  # type: ignore[misc]
    ):
        with pytest.raises(TypeError):
            make()


def test_it_stays_frozen_and_keeps_the_dataclass_methods() -> None:
    built = Shape("square", tags=["even"])
    with pytest.raises(FrozenInstanceError):
        built.sides = 5  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del built.name  # type: ignore[misc]
    assert built == Shape("square", tags=["even"])
    assert built != Shape("square")
    assert dataclasses.replace(built, sides=6) == Shape("square", 6, ["even"])
    assert repr(built) == repr(PlainShape("square", tags=["even"])).replace("PlainShape", "Shape")
    assert copy.deepcopy(built) == built  # through __reduce_ex__, as pickle
    match built:
        case Shape("square", 4):
            pass
        case _:
            pytest.fail("the positional pattern no longer matches")


def test_the_engine_records_hash_as_before() -> None:
    started = events.AttemptStarted(1, 2, 1, 0.5, 0.25)  # type: ignore[arg-type]
    assert hash(started) == hash(events.AttemptStarted(1, 2, 1, 0.5, 0.25))  # type: ignore[arg-type]
    assert len({started, events.AttemptStarted(1, 2, 1, 0.5, 0.25)}) == 1  # type: ignore[arg-type]


def test_what_it_cannot_copy_is_refused() -> None:
    @dataclass(frozen=True, slots=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            pass

    @dataclass(frozen=True, slots=True)
    class Scaled:
        n: int
        scale: InitVar[int] = 1

    @dataclass(frozen=True)
    class NoSlots:
        n: int

    @dataclass(slots=True)
    class Mutable:
        n: int

    for cls in (Checked, Scaled, NoSlots, Mutable):
        with pytest.raises(TypeError, match="quick_init"):
            quick_init(cls)


def test_the_records_built_per_attempt_have_it() -> None:
    # The engine's hot path: a record here that lost quick_init costs every attempt again.
    hot = [
        events.AttemptStarted,
        events.AttemptAnswered,
        events.AttemptFinished,
        events.CallEnded,
        call.OriginateRequest,
        call.Answered,
        call.Hangup,
        call.Failed,
        attempt.AttemptRecord,
        attempt.FinishedAttempt,
        retry.Verdict,
        templates.Callee,
        walker.Say,
        walker.Hangup,
        walker.Gather,
        sim_network.CallPlan,
    ]
    for cls in hot:
        assert "_FACTORY" in cls.__init__.__globals__, cls  # made by quick_init
