"""The event sink's fan-out, and engine statistics built from events alone."""

import logging
from datetime import UTC, datetime

import pytest

from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import (
    AttemptFinished,
    AttemptNotPlaced,
    AttemptPostponed,
    AttemptsFinished,
    AttemptStarted,
    CampaignOpened,
    DestinationsClaimed,
    Event,
    FanOutSink,
    Handler,
    NullSink,
    Recording,
    SmsSent,
)
from dialer.domain.ids import CampaignId, DestinationId
from dialer.engine.stats import EngineStats
from dialer.metrics.prometheus import PrometheusMetrics

C1, C2 = CampaignId(1), CampaignId(2)


def finished(
    destination: int, outcome: Outcome, *, final: bool, sms: bool = False, recovered: bool = False
) -> AttemptFinished:
    return AttemptFinished(
        C1,
        DestinationId(destination),
        1,
        outcome,
        Stage.NONE,
        sms,
        final=final,
        recovered=recovered,
    )


class Broken:
    def publish(self, event: Event) -> None:
        raise RuntimeError("subscriber bug")


def test_fan_out_gives_every_event_to_every_subscriber_in_order() -> None:
    first, second = Recording(), Recording()
    sink = FanOutSink([first])
    sink.subscribe(second)
    events = [CampaignOpened(C1), DestinationsClaimed(C1, 3), CampaignOpened(C2)]
    for event in events:
        sink.publish(event)
    assert list(first.events) == events
    assert list(second.events) == events


def test_a_failing_subscriber_is_logged_and_the_others_still_get_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    after = Recording()
    sink = FanOutSink([Broken(), after])
    with caplog.at_level(logging.ERROR):
        sink.publish(CampaignOpened(C1))  # must not raise into the engine
    assert list(after.events) == [CampaignOpened(C1)]
    assert "subscriber" in caplog.text
    assert "subscriber bug" in caplog.text


def test_unsubscribed_subscribers_hear_nothing_more() -> None:
    recording = Recording()
    sink = FanOutSink([recording])
    sink.publish(CampaignOpened(C1))
    sink.unsubscribe(recording)
    sink.publish(CampaignOpened(C2))
    assert list(recording.events) == [CampaignOpened(C1)]


class OpenedOnly:
    """A routed subscriber: it handles one kind; its publish would take any."""

    def __init__(self) -> None:
        self.handled: list[Event] = []
        self.published: list[Event] = []

    def publish(self, event: Event) -> None:
        self.published.append(event)

    def handler_for(self, kind: type) -> Handler | None:
        return self.handled.append if kind is CampaignOpened else None


def test_fan_out_calls_a_routed_subscriber_only_with_the_kinds_it_handles() -> None:
    routed, plain = OpenedOnly(), Recording()
    sink = FanOutSink([routed])
    events = [CampaignOpened(C1), DestinationsClaimed(C1, 3), CampaignOpened(C2)]
    for event in events[:2]:
        sink.publish(event)
    sink.subscribe(plain)  # a later subscriber hears the kinds already routed
    sink.publish(events[2])
    assert routed.handled == [CampaignOpened(C1), CampaignOpened(C2)]
    assert routed.published == []
    assert list(plain.events) == [CampaignOpened(C2)]


def test_engine_stats_and_metrics_take_only_what_they_count() -> None:
    stats, metrics = EngineStats(), PrometheusMetrics()
    assert stats.handler_for(CampaignOpened) is None
    assert metrics.handler_for(CampaignOpened) is None
    assert stats.handler_for(AttemptFinished) is not None
    assert metrics.handler_for(AttemptFinished) is not None


def test_the_null_sink_takes_anything() -> None:
    NullSink().publish(CampaignOpened(C1))


def test_a_recording_is_bounded_and_filters_by_kind() -> None:
    recording = Recording(limit=2)
    sent = SmsSent("+447700900000", "Clinic", "hi", datetime(2026, 1, 1, tzinfo=UTC), "r1", True)
    for event in (CampaignOpened(C1), sent, CampaignOpened(C2)):
        recording.publish(event)
    assert list(recording.events) == [sent, CampaignOpened(C2)]
    assert recording.of(SmsSent) == [sent]


def test_engine_stats_are_built_from_events_alone() -> None:
    stats = EngineStats()
    for event in [
        DestinationsClaimed(C1, 4),
        AttemptStarted(C1, DestinationId(1), 1, wait=0.5, claim_latency=0.01),
        AttemptStarted(C1, DestinationId(2), 1, wait=0.5, claim_latency=0.01),
        AttemptPostponed(C1, DestinationId(3)),
        AttemptNotPlaced(C1, DestinationId(4)),
        finished(1, Outcome.BUSY, final=False, sms=True),
        finished(2, Outcome.ANSWERED, final=True),
        finished(5, Outcome.NO_CONNECTION, final=True, recovered=True),
        CampaignOpened(C2),  # not a count
    ]:
        stats.publish(event)
    assert (stats.claimed, stats.originated, stats.postponed, stats.not_placed) == (4, 2, 1, 1)
    assert (stats.recorded, stats.done, stats.recovered, stats.sms_sent) == (3, 2, 1, 1)
    assert stats.outcomes == {Outcome.BUSY: 1, Outcome.ANSWERED: 1, Outcome.NO_CONNECTION: 1}
    assert stats.final == {Outcome.ANSWERED: 1, Outcome.NO_CONNECTION: 1}
    assert stats.stages == {Stage.NONE: 3}


class FinishedOnly:
    """Handles single AttemptFinished events only (as a subscriber written before batches)."""

    def __init__(self) -> None:
        self.seen: list[AttemptFinished] = []

    def publish(self, event: Event) -> None:
        if isinstance(event, AttemptFinished):
            self.seen.append(event)

    def handler_for(self, kind: type) -> Handler | None:
        return self.seen.append if kind is AttemptFinished else None


class Plain:
    def __init__(self) -> None:
        self.seen: list[Event] = []

    def publish(self, event: Event) -> None:
        self.seen.append(event)


def test_a_recorded_batch_reaches_subscribers_of_single_attempts_one_by_one() -> None:
    routed, plain, stats = FinishedOnly(), Plain(), EngineStats()
    sink = FanOutSink([routed, plain, stats])
    items = (finished(1, Outcome.BUSY, final=False), finished(2, Outcome.ANSWERED, final=True))
    sink.publish(AttemptsFinished(items))
    assert routed.seen == list(items)
    assert plain.seen == list(items)
    assert stats.recorded == 2
    assert stats.done == 1
    recording = Recording()
    recording.publish(AttemptsFinished(items))
    assert recording.of(AttemptFinished) == list(items)


class BatchesOnly:
    """Handles recorded batches only, as the metrics do (one move per batch)."""

    def __init__(self) -> None:
        self.batches: list[AttemptsFinished] = []

    def publish(self, event: Event) -> None:
        pass

    def handler_for(self, kind: type) -> Handler | None:
        return self.batches.append if kind is AttemptsFinished else None


def test_a_sink_subscribed_to_another_passes_batches_on_whole() -> None:
    # The container's sink (metrics, tests' recordings) is a subscriber of each engine's: a
    # batch unpacked on the way reached the metrics' batch handler once per attempt.
    batches, plain = BatchesOnly(), Plain()
    inner = FanOutSink([batches])
    outer = FanOutSink([inner])
    items = (finished(1, Outcome.BUSY, final=False), finished(2, Outcome.ANSWERED, final=True))
    outer.publish(AttemptsFinished(items))
    assert batches.batches == [AttemptsFinished(items)]
    # A subscriber the inner sink gains later hears what the outer sink routed already.
    inner.subscribe(plain)
    outer.publish(AttemptsFinished(items))
    outer.publish(CampaignOpened(C1))
    assert len(batches.batches) == 2
    assert plain.seen == [*items, CampaignOpened(C1)]


def test_a_sink_subscribed_to_another_is_routed_through_not_published_to(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Issue 11: the engine's sink calls the container's subscribers' handlers itself, not
    # the container's publish (a second look-up and call per event, thousands a second).
    plain, after = Plain(), Plain()
    inner = FanOutSink([Broken(), plain])
    outer = FanOutSink([inner, after])
    passed: list[Event] = []
    inner.publish = passed.append  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR):
        outer.publish(CampaignOpened(C1))
    assert passed == []
    assert plain.seen == after.seen == [CampaignOpened(C1)]
    assert "subscriber bug" in caplog.text  # the inner subscriber's fault, logged and skipped
    # Changes to the inner sink's subscribers reach the outer sink's routes.
    inner.unsubscribe(plain)
    outer.publish(CampaignOpened(C2))
    assert plain.seen == [CampaignOpened(C1)]
    inner.subscribe(plain)
    outer.publish(CampaignOpened(C2))
    assert plain.seen == [CampaignOpened(C1), CampaignOpened(C2)]
    # Two levels deep, and unsubscribed from the outer sink, the inner one hears nothing more.
    top = FanOutSink([outer])
    top.publish(CampaignOpened(C1))
    assert plain.seen[-1] == CampaignOpened(C1)
    assert after.seen[-1] == CampaignOpened(C1)
    outer.unsubscribe(inner)
    outer.publish(CampaignOpened(C2))
    assert plain.seen[-1] == CampaignOpened(C1)
