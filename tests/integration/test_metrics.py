"""GET /metrics after a whole campaign on the simulated network, parsed as Prometheus does."""

from collections import Counter

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.engine_support import Rig, drama


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def test_metrics_count_the_attempts_of_a_campaign_by_outcome(rig: Rig) -> None:
    numbers = [drama(n) for n in range(13)]
    campaign = rig.campaign(numbers, answerMachineDetected=2, smsOnBusy=1)
    rig.run()
    results = Counter(
        row.outcome.api_name for rows in rig.attempts(campaign).values() for row in rows
    )
    assert sum(results.values()) > len(numbers)  # busy numbers were retried

    with TestClient(rig.container.app()) as client:
        answer = client.get("/metrics")  # no API key, like /health
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = answer.text

    by_outcome = {
        labels["outcome"]: value
        for labels, value in samples(text, "dialer_attempts_total")
        if labels["campaign"] == str(campaign)
    }
    assert by_outcome == {name: float(count) for name, count in results.items()}
    (finished,) = samples(text, "dialer_attempts_finished_total")
    assert finished[1] == sum(results.values())
    (originated,) = samples(text, "dialer_calls_originated_total")
    assert originated[1] == sum(results.values())  # every attempt here was dialled
    (answered,) = samples(text, "dialer_attempts_answered_total")
    assert 0 < answered[1] < finished[1]
    # Every call has left the line; the histogram saw every start.
    assert all(value == 0 for _, value in samples(text, "dialer_calls_in_flight"))
    (latency,) = samples(text, "dialer_claim_to_originate_seconds_count")
    assert latency[1] == originated[1]
    assert samples(text, "process_resident_memory_bytes")  # process metrics, one process
    # Nothing of the tenant's: no key, no campaign code, no number.
    assert rig.account.key not in text
    assert "+44" not in text
    assert "7700900" not in text


def test_metrics_need_no_key_and_show_no_tenant_secrets_before_any_call(rig: Rig) -> None:
    with TestClient(rig.container.app()) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200
    families = {family.name for family in text_string_to_metric_families(answer.text)}
    assert {"dialer_attempts", "dialer_calls_in_flight", "dialer_webhook_failures"} <= families
    assert rig.account.key not in answer.text
