"""The simulated network's behaviour profile: outcome mix, callee behaviour and durations.

A profile is a YAML document (docs/simulated-network.md); ``profiles/uk.yaml`` is the default.
A user file may leave out whole top-level sections, which then come from the default, but a
section it gives must be complete, so a half-edited mix of outcomes never sums to 1 by luck.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from dialer.domain.call import AnsweredBy
from dialer.domain.errors import FieldErrors, ValidationFailed

SUM_TOLERANCE = 1e-6
KEYPRESSES = ("1", "2", "3", "9", "none", "hangup")
_STANDARD_NORMAL = NormalDist()
# Keeps inverse-CDF draws finite when random() returns exactly 0.
_EDGE = 1e-12
_SECTIONS = frozenset(
    {
        "version",
        "name",
        "zero_durations",
        "outcomes",
        "answered_by",
        "ring_seconds",
        "ring_out_seconds",
        "setup_seconds",
        "speech",
        "human",
        "machine",
        "agents",
    }
)
# The dispositions a simulated agent gives, by their Stage names in the API.
AGENT_DISPOSITIONS = ("CorrectCallee", "CallerRequestedCallBack", "OptOut", "WrongCallee")
K = TypeVar("K")


class CallFate(Enum):
    """What the network does with a dialled call, before anyone's behaviour matters."""

    ANSWER = "answer"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNOBTAINABLE = "unobtainable"
    INVALID = "invalid"
    NETWORK_FAILURE = "network_failure"
    CONGESTION = "congestion"


@dataclass(frozen=True, slots=True)
class Spread:
    """A duration in seconds: lognormal around ``median`` with shape ``sigma``, clipped."""

    median: float
    sigma: float
    low: float
    high: float

    def at(self, u: float) -> float:
        """The duration at quantile ``u`` in [0, 1); one uniform per draw keeps draws stable."""
        if self.sigma == 0:
            return self.median
        z = _STANDARD_NORMAL.inv_cdf(min(max(u, _EDGE), 1 - _EDGE))
        return min(max(self.median * math.exp(self.sigma * z), self.low), self.high)


@dataclass(frozen=True, slots=True)
class Band:
    """A share ``weight`` of draws falls uniformly between ``low`` and ``high`` seconds."""

    weight: float
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class Bands:
    """A duration in seconds from a mixture of uniform bands (the bimodal ring time of a call
    centre: most people answer after 6-10 s or 18-22 s, some within 1 s)."""

    bands: tuple[Band, ...]

    def at(self, u: float) -> float:
        """The duration at quantile ``u`` in [0, 1): ``u`` picks the band and, rescaled, the
        place within it, so one uniform per draw still suffices."""
        total = math.fsum(b.weight for b in self.bands)
        x = min(max(u, 0.0), 1.0) * total
        for band in self.bands:
            if band.weight <= 0:
                continue
            if x < band.weight:
                return band.low + (band.high - band.low) * (x / band.weight)
            x -= band.weight
        last = next(b for b in reversed(self.bands) if b.weight > 0)
        return last.high


Duration = Spread | Bands


@dataclass(frozen=True, slots=True)
class AgentProfile:
    """How simulated agents and their phones behave (docs/simulated-network.md, Agents)."""

    answer_seconds: Duration  # the agent's phone rings this long at log-in
    ring_timeout_seconds: float  # a phone that never answers (sim:fail) fails after this
    short_call_share: float  # the customer refuses at once: a short call
    short_talk_seconds: Duration
    talk_seconds: Duration  # a conversation
    wrap_up_seconds: Duration  # sigma 0: a fixed wrap-up
    pauses_per_hour: float  # per hour of work, breaks excluded (a Poisson process)
    pause_seconds: Duration
    dispositions: Mapping[str, float]  # by Stage name, AGENT_DISPOSITIONS
    callback_seconds: Duration  # how far ahead a callback is asked for

    def talk_at(self, kind: float, u: float) -> float:
        """A talk time from two uniforms: ``kind`` picks short or conversation, ``u`` its
        quantile (a mixture of two lognormals)."""
        spread = self.short_talk_seconds if kind < self.short_call_share else self.talk_seconds
        return spread.at(u)


def pick(weights: Mapping[K, float], order: Sequence[K], u: float) -> K:
    """The outcome at quantile ``u`` of a discrete distribution, walking ``order``."""
    total = 0.0
    chosen = None
    for key in order:
        weight = weights[key]
        if weight <= 0:
            continue
        chosen = key
        total += weight
        if u < total:
            return key
    # Rounding can leave u just above the sum; the last possible outcome takes it.
    if chosen is None:
        raise ValueError("no outcome has a positive weight")
    return chosen


@dataclass(frozen=True, slots=True)
class SimProfile:
    """How the simulated network and its callees behave; see docs/simulated-network.md."""

    name: str
    outcomes: Mapping[CallFate, float]
    answered_by: Mapping[AnsweredBy, float]
    ring_seconds: Duration
    ring_out_seconds: Duration
    setup_seconds: Duration
    words_per_second: float
    keypress: Mapping[str, float]
    keypress_delay_seconds: Duration
    patience_seconds: Duration
    greeting_seconds: Duration
    record_seconds: float
    agents: AgentProfile
    zero_durations: bool = False

    @classmethod
    def default(cls) -> "SimProfile":
        """The built-in UK-like profile, ``profiles/uk.yaml``."""
        return cls.from_document(default_document(), source="uk.yaml")

    @classmethod
    def shipped(cls, name: str) -> "SimProfile":
        """A profile shipped in ``telephony/profiles`` by name ("uk", "call-centre"); the
        sections it leaves out come from the default."""
        names = sorted(
            entry.name.removesuffix(".yaml")
            for entry in resources.files("dialer.telephony").joinpath("profiles").iterdir()
            if entry.name.endswith(".yaml")
        )
        if name not in names:
            raise ValidationFailed({"$": [f"no shipped profile {name!r}; shipped: {names}"]})
        text = resources.files("dialer.telephony").joinpath(f"profiles/{name}.yaml")
        document = yaml.safe_load(text.read_text("utf-8"))
        return cls.from_document({**default_document(), **document}, source=f"{name}.yaml")

    def with_person_rate(self, rate: float) -> "SimProfile":
        """The same profile with people answering ``rate`` of dials (the call-centre profile's
        second scenario, 0.15): machines, faxes and failures keep their share of dials and
        the unanswered calls make up the difference."""
        answer = self.outcomes[CallFate.ANSWER]
        others = {b: answer * w for b, w in self.answered_by.items() if b is not AnsweredBy.HUMAN}
        new_answer = rate + math.fsum(others.values())
        rest = math.fsum(w for f, w in self.outcomes.items() if f is not CallFate.ANSWER)
        no_answer = self.outcomes[CallFate.NO_ANSWER] + answer - new_answer
        if not 0 <= rate <= 1 or no_answer < -SUM_TOLERANCE or new_answer <= 0:
            raise ValidationFailed(
                {"person_rate": [f"{rate} does not fit: answers and failures leave {1 - rest}"]}
            )
        outcomes = {**self.outcomes, CallFate.ANSWER: new_answer, CallFate.NO_ANSWER: no_answer}
        answered_by = {b: answer * w / new_answer for b, w in self.answered_by.items()}
        answered_by[AnsweredBy.HUMAN] = rate / new_answer
        return replace(
            self,
            outcomes=MappingProxyType(outcomes),
            answered_by=MappingProxyType(answered_by),
        )

    @classmethod
    def load(cls, path: Path) -> "SimProfile":
        """A user's profile file; sections it leaves out come from the default."""
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValidationFailed({"$": [f"{path}: not valid YAML: {exc}"]}) from exc
        if document is None:
            document = {}
        if not isinstance(document, Mapping):
            raise ValidationFailed({"$": [f"{path}: a profile must be a mapping of sections"]})
        merged = {**default_document(), "name": path.stem, **document}
        return cls.from_document(merged, source=str(path))

    @classmethod
    def from_document(cls, document: Mapping[Any, Any], source: str = "profile") -> "SimProfile":
        """Validate a decoded document; raises ValidationFailed naming every bad key."""
        return _Parser(source).parse(document)


def default_document() -> dict[str, Any]:
    """The default profile as decoded YAML: a starting point for a profile of one's own."""
    text = resources.files("dialer.telephony").joinpath("profiles/uk.yaml").read_text("utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


class _Parser:
    """Reads a profile document, collecting every problem by dotted key path."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors = FieldErrors()

    def parse(self, document: Mapping[Any, Any]) -> SimProfile:
        known = ", ".join(sorted(_SECTIONS))
        for key in document:
            if key not in _SECTIONS:
                self.errors.add(str(key), f"unknown key; known keys are {known}")
        version = document.get("version", 1)
        if isinstance(version, bool) or version != 1:
            self.errors.add("version", f"unsupported version {version!r}; supported: 1")
        name = document.get("name", "profile")
        if not isinstance(name, str):
            self.errors.add("name", "must be text")
        zero = document.get("zero_durations", False)
        if not isinstance(zero, bool):
            self.errors.add("zero_durations", "must be true or false")
        outcomes = self.weights("outcomes", document.get("outcomes"), [f.value for f in CallFate])
        answered_by = self.weights(
            "answered_by", document.get("answered_by"), [b.value for b in AnsweredBy]
        )
        speech = self.section("speech", document.get("speech"), ["words_per_second"])
        words_per_second = self.number("speech.words_per_second", speech.get("words_per_second"))
        if "words_per_second" in speech and words_per_second <= 0:
            self.errors.add("speech.words_per_second", "must be more than 0")
        human = self.section(
            "human",
            document.get("human"),
            ["keypress", "keypress_delay_seconds", "patience_seconds"],
        )
        machine = self.section(
            "machine", document.get("machine"), ["greeting_seconds", "record_seconds"]
        )
        profile = SimProfile(
            name=str(name),
            outcomes=MappingProxyType({f: outcomes[f.value] for f in CallFate}),
            answered_by=MappingProxyType({b: answered_by[b.value] for b in AnsweredBy}),
            ring_seconds=self.spread("ring_seconds", document.get("ring_seconds")),
            ring_out_seconds=self.spread("ring_out_seconds", document.get("ring_out_seconds")),
            setup_seconds=self.spread("setup_seconds", document.get("setup_seconds")),
            words_per_second=words_per_second,
            keypress=MappingProxyType(
                self.weights("human.keypress", human.get("keypress"), KEYPRESSES)
            ),
            keypress_delay_seconds=self.spread(
                "human.keypress_delay_seconds", human.get("keypress_delay_seconds")
            ),
            patience_seconds=self.spread("human.patience_seconds", human.get("patience_seconds")),
            greeting_seconds=self.spread(
                "machine.greeting_seconds", machine.get("greeting_seconds")
            ),
            record_seconds=self.number("machine.record_seconds", machine.get("record_seconds")),
            agents=self.agents(document.get("agents")),
            zero_durations=zero is True,
        )
        if self.errors:
            self.errors.add("$", f"in {self.source}")
        # Values that failed hold placeholders until here, so none of them can escape.
        self.errors.raise_if_any()
        return profile

    def agents(self, value: object) -> AgentProfile:
        keys = [
            "answer_seconds",
            "ring_timeout_seconds",
            "short_call_share",
            "short_talk_seconds",
            "talk_seconds",
            "wrap_up_seconds",
            "pauses_per_hour",
            "pause_seconds",
            "dispositions",
            "callback_seconds",
        ]
        found = self.section("agents", value, keys)
        share = self.number("agents.short_call_share", found.get("short_call_share"))
        if share > 1:
            self.errors.add("agents.short_call_share", f"is a probability, at most 1 (got {share})")
        timeout = self.number("agents.ring_timeout_seconds", found.get("ring_timeout_seconds"))
        if "ring_timeout_seconds" in found and timeout <= 0:
            self.errors.add("agents.ring_timeout_seconds", "must be more than 0")
        return AgentProfile(
            answer_seconds=self.spread("agents.answer_seconds", found.get("answer_seconds")),
            ring_timeout_seconds=timeout,
            short_call_share=share,
            short_talk_seconds=self.spread(
                "agents.short_talk_seconds", found.get("short_talk_seconds")
            ),
            talk_seconds=self.spread("agents.talk_seconds", found.get("talk_seconds")),
            wrap_up_seconds=self.spread("agents.wrap_up_seconds", found.get("wrap_up_seconds")),
            pauses_per_hour=self.number("agents.pauses_per_hour", found.get("pauses_per_hour")),
            pause_seconds=self.spread("agents.pause_seconds", found.get("pause_seconds")),
            dispositions=MappingProxyType(
                self.weights("agents.dispositions", found.get("dispositions"), AGENT_DISPOSITIONS)
            ),
            callback_seconds=self.spread("agents.callback_seconds", found.get("callback_seconds")),
        )

    def section(self, path: str, value: object, keys: Sequence[str]) -> dict[str, object]:
        """A mapping with exactly ``keys``; YAML's integer keys (``1:``) are read as text."""
        if value is None:
            parts = path.split(".")
            # Said once: a missing section's own sections are not reported again.
            if not any(self.errors.has(".".join(parts[:n])) for n in range(1, len(parts) + 1)):
                self.errors.add(path, "is required")
            return {}
        if not isinstance(value, Mapping):
            self.errors.add(path, f"must be a mapping with keys {', '.join(keys)}")
            return {}
        found = {str(k): v for k, v in value.items()}
        for key in found:
            if key not in keys:
                self.errors.add(f"{path}.{key}", f"unknown key; known keys are {', '.join(keys)}")
        for key in keys:
            if key not in found:
                self.errors.add(f"{path}.{key}", "is required")
        return found

    def number(self, path: str, value: object) -> float:
        """A finite, non-negative number; 0 (and a problem) otherwise."""
        if value is None:
            return 0.0  # section() has said it is missing, or the whole section is
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.add(path, "must be a number")
        elif not math.isfinite(value):
            self.errors.add(path, "must be a finite number")
        elif value < 0:
            self.errors.add(path, f"must not be negative (got {value})")
        else:
            return float(value)
        return 0.0

    def weights(self, path: str, value: object, keys: Sequence[str]) -> dict[str, float]:
        """Probabilities for every one of ``keys``, each in [0, 1], summing to 1."""
        found = self.section(path, value, keys)
        weights = {key: self.number(f"{path}.{key}", found.get(key)) for key in keys}
        for key, weight in weights.items():
            if weight > 1:
                self.errors.add(f"{path}.{key}", f"is a probability, at most 1 (got {weight})")
        if found and not any(self.errors.has(f"{path}.{key}") for key in keys):
            total = math.fsum(weights.values())
            if abs(total - 1) > SUM_TOLERANCE:
                self.errors.add(path, f"probabilities must sum to 1 (got {total:.6g})")
        return weights

    def spread(self, path: str, value: object) -> Duration:
        """A duration: a lognormal ``{median, sigma, min, max}`` (median > 0, sigma >= 0,
        min <= median <= max), or ``{bands: [{weight, min, max}, ...]}`` uniform bands."""
        if isinstance(value, Mapping) and "bands" in value:
            return self.bands(path, value)
        found = self.section(path, value, ["median", "sigma", "min", "max"])
        median, sigma, low, high = (
            self.number(f"{path}.{key}", found.get(key))
            for key in ("median", "sigma", "min", "max")
        )
        spread = Spread(median=median, sigma=sigma, low=low, high=high)
        if any(self.errors.has(f"{path}.{key}") for key in ("median", "sigma", "min", "max")):
            return spread
        if not found:
            return spread
        if median <= 0:
            self.errors.add(f"{path}.median", "must be more than 0")
        elif not low <= median <= high:
            self.errors.add(path, f"needs min <= median <= max (got {low}, {median}, {high})")
        return spread

    def bands(self, path: str, value: Mapping[Any, Any]) -> Bands:
        """Uniform bands: weights in [0, 1] summing to 1, each with 0 <= min <= max."""
        found = self.section(path, value, ["bands"])
        items = found.get("bands")
        if not isinstance(items, Sequence) or isinstance(items, str) or not items:
            self.errors.add(f"{path}.bands", "must be a list of {weight, min, max}")
            return Bands(())
        bands = []
        for i, item in enumerate(items):
            where = f"{path}.bands.{i}"
            entry = self.section(where, item, ["weight", "min", "max"])
            weight, low, high = (
                self.number(f"{where}.{key}", entry.get(key)) for key in ("weight", "min", "max")
            )
            if weight > 1:
                self.errors.add(f"{where}.weight", f"is a probability, at most 1 (got {weight})")
            if low > high:
                self.errors.add(where, f"needs min <= max (got {low}, {high})")
            bands.append(Band(weight, low, high))
        total = math.fsum(b.weight for b in bands)
        if not self.errors.has(f"{path}.bands") and abs(total - 1) > SUM_TOLERANCE:
            self.errors.add(f"{path}.bands", f"weights must sum to 1 (got {total:.6g})")
        return Bands(tuple(bands))
