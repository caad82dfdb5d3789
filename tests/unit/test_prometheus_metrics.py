"""The Prometheus subscriber: each event lands in its metric; finished campaigns leave the gauge."""

from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import (
    AgentHearsCustomer,
    AttemptAnswered,
    AttemptFinished,
    AttemptsFinished,
    AttemptStarted,
    CallsOnLine,
    CampaignFinished,
    PacingDecided,
    SipResponse,
    StoreFailed,
    WebhookDelivered,
    WebhookFailed,
)
from dialer.domain.ids import CampaignId, DestinationId
from dialer.metrics.prometheus import LATENCY_BUCKETS, PrometheusMetrics

C = CampaignId(5)


def values(metrics: PrometheusMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = metrics.exposition().decode()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_in_flight_follows_each_pass_and_a_finished_campaign_leaves_the_gauge() -> None:
    metrics = PrometheusMetrics()
    metrics.publish(CallsOnLine({C: 2}))
    assert values(metrics, "dialer_calls_in_flight") == {(("campaign", "5"),): 2.0}
    metrics.publish(CallsOnLine({C: 1}))
    assert values(metrics, "dialer_calls_in_flight") == {(("campaign", "5"),): 1.0}
    metrics.publish(CallsOnLine({C: 0}))
    metrics.publish(CampaignFinished(C, closed_out=3))
    assert values(metrics, "dialer_calls_in_flight") == {}
    # A pass after the campaign finished does not bring its series back.
    metrics.publish(CallsOnLine({C: 0}))
    assert values(metrics, "dialer_calls_in_flight") == {}
    assert values(metrics, "dialer_destinations_out_of_time_total") == {(): 3.0}


def test_started_calls_reach_their_series_at_the_next_pass_as_observe_would_put_them() -> None:
    """The claim latency histogram is filled a pass at a time: the same buckets, count and
    sum as one observe() per call (checked against the library's own Histogram)."""
    metrics = PrometheusMetrics()
    latencies = [0.0, 0.005, 0.0051, 0.02, 0.3, 1.0, 59.0, 61.0, 1000.0, -0.5]
    for n, latency in enumerate(latencies):
        metrics.publish(AttemptStarted(C, DestinationId(n), 1, 0.0, latency))
    assert values(metrics, "dialer_calls_originated_total") == {(): 0.0}
    metrics.publish(CallsOnLine({C: len(latencies)}))
    assert values(metrics, "dialer_calls_originated_total") == {(): float(len(latencies))}

    reference = CollectorRegistry()
    histogram = Histogram(
        "dialer_claim_to_originate_seconds", "", registry=reference, buckets=LATENCY_BUCKETS
    )
    for latency in latencies:
        histogram.observe(max(0.0, latency))
    expected = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(generate_latest(reference).decode())
        for sample in family.samples
        if not sample.name.endswith("_created")
    }
    for (name, labels), value in expected.items():
        assert values(metrics, name)[labels] == value, (name, labels)
    # Nothing is counted twice by a later pass.
    metrics.publish(CallsOnLine({C: 0}))
    assert values(metrics, "dialer_claim_to_originate_seconds_count") == {(): 10.0}


def test_answered_calls_reach_their_series_at_the_next_pass_started_or_not() -> None:
    """Answers are tallied and moved once a pass (each move takes the series' lock: once per
    answered call before issue 11's seventh round), also by a pass in which no call started:
    a call answers passes after it started."""
    metrics = PrometheusMetrics()
    metrics.publish(AttemptStarted(C, DestinationId(1), 1, 0.0, 0.0))
    metrics.publish(CallsOnLine({C: 1}))
    for n in range(3):
        metrics.publish(AttemptAnswered(C, DestinationId(n), 1, datetime(2025, 9, 30, tzinfo=UTC)))
    assert values(metrics, "dialer_attempts_answered_total") == {(): 0.0}
    metrics.publish(CallsOnLine({C: 3}))  # no call started since the last pass
    assert values(metrics, "dialer_attempts_answered_total") == {(): 3.0}
    metrics.publish(CallsOnLine({C: 0}))
    assert values(metrics, "dialer_attempts_answered_total") == {(): 3.0}


def test_a_recorded_batch_counts_each_attempt_by_campaign_and_outcome() -> None:
    metrics = PrometheusMetrics()

    def finished(campaign: int, outcome: Outcome, *, webhook: bool = False) -> AttemptFinished:
        return AttemptFinished(
            CampaignId(campaign),
            DestinationId(1),
            1,
            outcome,
            Stage.NONE,
            False,
            True,
            webhook=webhook,
        )

    metrics.publish(
        AttemptsFinished(
            (
                finished(5, Outcome.BUSY),
                finished(5, Outcome.BUSY, webhook=True),
                finished(6, Outcome.ANSWERED),
            )
        )
    )
    assert values(metrics, "dialer_attempts_total") == {
        (("campaign", "5"), ("outcome", "Busy")): 2.0,
        (("campaign", "6"), ("outcome", "Answered")): 1.0,
    }
    assert values(metrics, "dialer_attempts_finished_total") == {(): 3.0}
    assert values(metrics, "dialer_webhooks_queued_total") == {(): 1.0}


def test_outcomes_sip_codes_webhooks_and_store_errors_are_counted_by_label() -> None:
    metrics = PrometheusMetrics()
    finished = AttemptFinished(
        C, DestinationId(1), 1, Outcome.BUSY, Stage.NONE, False, final=False, webhook=True
    )
    for event in (
        finished,
        finished,
        SipResponse(486),
        SipResponse(200),
        WebhookDelivered(0.1),
        WebhookFailed(gave_up=False),
        WebhookFailed(gave_up=True),
        StoreFailed("engine"),
    ):
        metrics.publish(event)
    assert values(metrics, "dialer_attempts_total") == {
        (("campaign", "5"), ("outcome", Outcome.BUSY.api_name)): 2.0
    }
    assert values(metrics, "dialer_sip_responses_total") == {
        (("code", "200"),): 1.0,
        (("code", "486"),): 1.0,
    }
    assert values(metrics, "dialer_webhooks_queued_total") == {(): 2.0}
    assert values(metrics, "dialer_webhooks_delivered_total") == {(): 1.0}
    assert values(metrics, "dialer_webhook_failures_total") == {
        (("gave_up", "false"),): 1.0,
        (("gave_up", "true"),): 1.0,
    }
    assert values(metrics, "dialer_store_errors_total") == {(("loop", "engine"),): 1.0}


def test_two_instances_do_not_share_counts() -> None:
    first, second = PrometheusMetrics(), PrometheusMetrics()
    first.publish(SipResponse(503))
    assert values(second, "dialer_sip_responses_total") == {}


def test_bridge_to_agent_audio_is_a_histogram() -> None:
    metrics = PrometheusMetrics()
    metrics.publish(AgentHearsCustomer(0.12))
    metrics.publish(AgentHearsCustomer(0.14))
    assert values(metrics, "dialer_bridge_to_agent_audio_seconds_count") == {(): 2.0}
    assert values(metrics, "dialer_bridge_to_agent_audio_seconds_sum")[()] == pytest.approx(0.26)
    under = values(metrics, "dialer_bridge_to_agent_audio_seconds_bucket")
    assert under[(("le", "0.12"),)] == 1.0


def test_pacing_decisions_set_the_campaigns_rate_target_and_ratio() -> None:
    metrics = PrometheusMetrics()
    at = datetime(2025, 10, 1, 9, tzinfo=UTC)
    metrics.publish(PacingDecided(C, 3, 1.8, "predictive", 0.012, 0.03, at))
    label = (("campaign", "5"),)
    assert values(metrics, "dialer_abandon_rate") == {label: 0.012}
    assert values(metrics, "dialer_abandon_target") == {label: 0.03}
    assert values(metrics, "dialer_dial_ratio") == {label: 1.8}
    metrics.publish(PacingDecided(C, 0, 1.2, "governor: budget 0.0", 0.02, 0.03, at))
    assert values(metrics, "dialer_dial_ratio") == {label: 1.2}
    metrics.publish(CampaignFinished(C, closed_out=0))
    assert values(metrics, "dialer_abandon_rate") == {}
    assert values(metrics, "dialer_dial_ratio") == {}
