"""What the engine, the webhook deliverer and the drivers tell the rest of the system.

Events are facts, published through the EventSink port (dialer.ports) as they happen. Engine
statistics, metrics and test measurements subscribe to them, so production objects keep no
measurement lists of their own. Publishing must be cheap and must never raise into the caller's
business: a subscriber's fault is its own (FanOutSink logs and drops it). Each event is a frozen
dataclass given ``quick_init`` (dialer.domain.records): the engine builds several per attempt,
and a frozen dataclass's own ``__init__`` builds one about five times slower (docs/engine.md).
"""

import logging
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.domain.records import quick_init

log = logging.getLogger(__name__)
_E = TypeVar("_E")


@quick_init
@dataclass(frozen=True, slots=True)
class DestinationsClaimed:
    """The engine leased ``count`` due destinations of a campaign."""

    campaign_id: CampaignId
    count: int


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptPostponed:
    """A claimed destination may not be called yet (the callee's calling hours)."""

    campaign_id: CampaignId
    destination_id: DestinationId


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptStarted:
    """The engine starts dialling an attempt.

    ``wait``: seconds from the moment it became due (queued) to this start; ``claim_latency``:
    seconds from the claim that leased it to this start, both on the engine's clock.
    """

    campaign_id: CampaignId
    destination_id: DestinationId
    attempt_number: int
    wait: float
    claim_latency: float


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptNotPlaced:
    """The driver could not place the call (its process was full): back to the queue."""

    campaign_id: CampaignId
    destination_id: DestinationId


@quick_init
@dataclass(frozen=True, slots=True)
class CallEnded:
    """A call started by this engine left the line (however it went): one fewer in flight."""

    campaign_id: CampaignId
    destination_id: DestinationId


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptAnswered:
    """The callee's line answered (a person, a machine or a fax)."""

    campaign_id: CampaignId
    destination_id: DestinationId
    attempt_number: int
    answered_at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptFinished:
    """An attempt's result is recorded. ``final``: the destination is done (no retry);
    ``recovered``: recorded for an engine whose lease ran out."""

    campaign_id: CampaignId
    destination_id: DestinationId
    attempt_number: int
    outcome: Outcome
    stage: Stage
    sms_sent: bool
    final: bool
    recovered: bool = False
    webhook: bool = False  # a webhook message for it went into the outbox


@quick_init
@dataclass(frozen=True, slots=True)
class AttemptsFinished:
    """The attempts one transaction recorded, published once (the engine records thousands a
    second). A subscriber with no handler for the batch gets each AttemptFinished in it: the
    FanOutSink unpacks it."""

    items: tuple[AttemptFinished, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class CallsOnLine:
    """The engine's calls on the line now, per campaign it has dialled: published once per
    dispatcher pass, so a gauge of calls in flight costs nothing per call."""

    calls: Mapping[CampaignId, int]


@quick_init
@dataclass(frozen=True, slots=True)
class LeaseLost:
    """Results the engine held could not be recorded: another engine took their leases."""

    count: int


@quick_init
@dataclass(frozen=True, slots=True)
class CampaignOpened:
    """A campaign's calling window is open and this engine dials it (first seen open)."""

    campaign_id: CampaignId


@quick_init
@dataclass(frozen=True, slots=True)
class CampaignClosed:
    """A campaign's calling window closed, or it was stopped, or it has nothing left."""

    campaign_id: CampaignId


@quick_init
@dataclass(frozen=True, slots=True)
class CampaignFinished:
    """A campaign's last window is over: what still waited was recorded as OutOfTime."""

    campaign_id: CampaignId
    closed_out: int


@quick_init
@dataclass(frozen=True, slots=True)
class StoreFailed:
    """A store operation of a background loop failed (``where``: the engine, webhooks)."""

    where: str


@quick_init
@dataclass(frozen=True, slots=True)
class WebhookDelivered:
    seconds: float


@quick_init
@dataclass(frozen=True, slots=True)
class WebhookFailed:
    """One delivery try failed; ``gave_up``: it was the last one (the message is dropped)."""

    gave_up: bool


@quick_init
@dataclass(frozen=True, slots=True)
class SipResponse:
    """A final SIP response to an INVITE of ours."""

    code: int


@quick_init
@dataclass(frozen=True, slots=True)
class SpeechRendered:
    """Seconds from asking for a text's speech to its first audio (cached phrases: ~0)."""

    seconds: float


@quick_init
@dataclass(frozen=True, slots=True)
class AnswerDetected:
    """Answering-machine detection decided ``by`` (person, machine, fax) after ``seconds``."""

    by: str
    seconds: float


@quick_init
@dataclass(frozen=True, slots=True)
class FirstAudio:
    """Seconds from answer to the first audio frame sent, and to the first spoken word."""

    frame: float
    speech: float


@quick_init
@dataclass(frozen=True, slots=True)
class SmsSent:
    to: str
    sender: str
    text: str
    sent_at: datetime
    reference: str
    accepted: bool


@quick_init
@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """An agent's session changed state (stored first: this is the record, published)."""

    tenant_id: TenantId
    agent_id: int
    member: str
    session_id: int
    state: str  # dialer.domain.agent_session.AgentState's value
    at: datetime
    reason: str | None = None
    campaign_id: CampaignId | None = None
    destination_id: DestinationId | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class CustomerQueued:
    """An agent campaign's answered call waits for an agent (none was ready)."""

    campaign_id: CampaignId
    destination_id: DestinationId
    at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class CustomerBridged:
    """A customer reached an agent: ``wait`` seconds from the answer (or verdict)."""

    campaign_id: CampaignId
    destination_id: DestinationId
    agent_id: int
    wait: float


@quick_init
@dataclass(frozen=True, slots=True)
class CallAbandoned:
    """Under an abandoned-call regime, an answered customer got no agent in time (or left
    while waiting): recorded CallDropped and counted. ``message_at``: when the information
    message began; ``heard``: it played to its end; ``opted_out``: US, the opt-out key was
    pressed during it (the number joins the tenant's DNC list)."""

    campaign_id: CampaignId
    destination_id: DestinationId
    answered_at: datetime
    message_at: datetime
    heard: bool
    opted_out: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class PacingDecided:
    """An agent campaign's pacer decided: ``lines`` placed now, the ratio it aims at, why;
    with the campaign's abandoned-call rate in its window and its target (fractions)."""

    campaign_id: CampaignId
    lines: int
    ratio: float
    reason: str
    rate: float
    target: float
    at: datetime


@quick_init
@dataclass(frozen=True, slots=True)
class AgentHearsCustomer:
    """Seconds from a bridge's start (the verdict) to the customer's first audio handed to the
    agent's phone leg, after the bridge tone (SIP driver; docs/agents-sip.md)."""

    seconds: float


Event = (
    DestinationsClaimed
    | AttemptPostponed
    | AttemptStarted
    | AttemptNotPlaced
    | CallEnded
    | AttemptAnswered
    | AttemptFinished
    | AttemptsFinished
    | CallsOnLine
    | LeaseLost
    | CampaignOpened
    | CampaignClosed
    | CampaignFinished
    | StoreFailed
    | WebhookDelivered
    | WebhookFailed
    | SipResponse
    | SpeechRendered
    | AnswerDetected
    | FirstAudio
    | SmsSent
    | AgentStateChanged
    | CustomerQueued
    | CustomerBridged
    | AgentHearsCustomer
    | CallAbandoned
    | PacingDecided
)


class Subscriber(Protocol):
    def publish(self, event: Event) -> None: ...


Handler = Callable[[Any], None]


class Routed(Protocol):
    """A subscriber that names the one handler it has for each kind of event (None: the kind
    is not its business), so a FanOutSink calls it only with what it handles."""

    def publish(self, event: Event) -> None: ...
    def handler_for(self, kind: type) -> Handler | None: ...


class ByKind:
    """A subscriber whose ``_handlers`` name one handler per kind of event it records (the
    Routed protocol): EngineStats, the Prometheus exporter, the simulation's agent figures."""

    _handlers: dict[type, Handler]

    def publish(self, event: Event) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def handler_for(self, kind: type) -> Handler | None:
        """What records events of ``kind`` (FanOutSink asks once per kind)."""
        return self._handlers.get(kind)


class NullSink:
    """Publishes nowhere: for objects built without a sink (tests, one-shot commands)."""

    def publish(self, event: Event) -> None:
        pass


class FanOutSink:
    """Hands every event to each subscriber in turn; one that raises is logged and skipped,
    so that a metrics fault never fails a call.

    The engine publishes several events per attempt, thousands a second: each kind's
    handlers are found once and kept (by exact type), so a publication costs one dict look-up
    and a call per interested subscriber, not a chain of type tests in every subscriber."""

    def __init__(self, subscribers: Iterable[Subscriber] = ()) -> None:
        self._subscribers: list[Subscriber] = []
        self._routes: dict[type, tuple[Handler, ...]] = {}
        # The sinks this one is subscribed to: they route through its handlers, so they
        # forget their routes when its subscribers change. Weak: an engine's sink, with
        # the container's subscribed to it, goes when its engine goes.
        self._outer: weakref.WeakSet[FanOutSink] = weakref.WeakSet()
        for subscriber in subscribers:
            self.subscribe(subscriber)

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)
        if isinstance(subscriber, FanOutSink):
            subscriber._outer.add(self)
        self._changed()

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)
        if isinstance(subscriber, FanOutSink) and subscriber not in self._subscribers:
            subscriber._outer.discard(self)
        self._changed()

    def _changed(self) -> None:
        self._routes.clear()
        for outer in list(self._outer):
            outer._changed()

    def handler_for(self, kind: type) -> Handler | None:
        """For a Routed-aware sink other than a FanOutSink (which takes this one's handlers
        themselves): a batch is taken as it comes, unpacked by this sink's own routes, so its
        subscribers' batch handlers (the metrics') run once per batch, not once per attempt.
        Always this sink's own publish, since its subscribers may change after the outer
        sink has routed the kind."""
        return self.publish

    def publish(self, event: Event) -> None:
        handlers = self._routes.get(type(event))
        if handlers is None:
            handlers = self._route(type(event))
        for handler in handlers:
            try:
                handler(event)
            except Exception:
                log.exception("event subscriber %r failed on %r", handler, event)

    def _route(self, kind: type) -> tuple[Handler, ...]:
        handlers: list[Handler] = []
        item_kind = _BATCHES.get(kind)
        for subscriber in self._subscribers:
            if isinstance(subscriber, FanOutSink):
                # A sink subscribed to this one (the container's, to each engine's): its
                # handlers are called from here, not through its publish, one dict look-up
                # and one call fewer per event and level (issue 11). A batch is routed whole
                # and unpacked, where needed, by its own routes.
                handlers.extend(subscriber._routes.get(kind) or subscriber._route(kind))
                continue
            handler_for = getattr(subscriber, "handler_for", None)
            if handler_for is None:
                handler: Handler | None = subscriber.publish
                if item_kind is not None:
                    handler = _each(subscriber.publish)
            else:
                handler = handler_for(kind)
                if handler is None and item_kind is not None:
                    item_handler = handler_for(item_kind)
                    handler = None if item_handler is None else _each(item_handler)
            if handler is not None:
                handlers.append(handler)
        self._routes[kind] = routed = tuple(handlers)
        return routed


# Batch events, and the kind of event each carries.
_BATCHES: dict[type, type] = {AttemptsFinished: AttemptFinished}


def _each(handler: Handler) -> Handler:
    """A batch's handler that hands each of its items to ``handler``."""

    def each(batch: Any) -> None:
        for item in batch.items:
            handler(item)

    return each


class Recording:
    """Keeps the last ``limit`` events (test and benchmark code; bounded)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.events: deque[Event] = deque(maxlen=limit)

    def publish(self, event: Event) -> None:
        if isinstance(event, AttemptsFinished):
            self.events.extend(event.items)
        else:
            self.events.append(event)

    def of(self, kind: type[_E]) -> list[_E]:
        return [e for e in self.events if isinstance(e, kind)]
