"""The Prometheus subscriber: each event lands in its metric; finished campaigns leave the gauge."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from dialer.domain.codes import Outcome, Stage
from dialer.domain.events import (
    AgentHearsCustomer,
    AttemptFinished,
    AttemptStarted,
    CallEnded,
    CampaignFinished,
    SipResponse,
    StoreFailed,
    WebhookDelivered,
    WebhookFailed,
)
from dialer.domain.ids import CampaignId, DestinationId
from dialer.metrics.prometheus import PrometheusMetrics

C = CampaignId(5)


def values(metrics: PrometheusMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = metrics.exposition().decode()
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_in_flight_rises_and_falls_and_a_finished_campaign_leaves_the_gauge() -> None:
    metrics = PrometheusMetrics()
    for destination in (1, 2):
        metrics.publish(AttemptStarted(C, DestinationId(destination), 1, 0.0, 0.02))
    metrics.publish(CallEnded(C, DestinationId(1)))
    assert values(metrics, "dialer_calls_in_flight") == {(("campaign", "5"),): 1.0}
    metrics.publish(CallEnded(C, DestinationId(2)))
    metrics.publish(CampaignFinished(C, closed_out=3))
    assert values(metrics, "dialer_calls_in_flight") == {}
    assert values(metrics, "dialer_destinations_out_of_time_total") == {(): 3.0}
    assert values(metrics, "dialer_claim_to_originate_seconds_count") == {(): 2.0}


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
