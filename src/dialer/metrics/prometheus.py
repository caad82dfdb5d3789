"""The Prometheus exporter: an event subscriber that keeps counters, and the text of /metrics.

prometheus_client is imported inside the class, not at module level: its multiprocess mode is
chosen once, when the library is first imported, from PROMETHEUS_MULTIPROC_DIR, which
``dialer serve --workers N`` sets up before it builds anything (docs/metrics.md).
"""

import bisect
import contextlib
import os
from collections.abc import Callable
from typing import Any

from dialer.domain.codes import Outcome
from dialer.domain.events import (
    AgentHearsCustomer,
    AnswerDetected,
    AttemptAnswered,
    AttemptFinished,
    AttemptsFinished,
    AttemptStarted,
    ByKind,
    CallsOnLine,
    CampaignFinished,
    FirstAudio,
    Handler,
    LeaseLost,
    PacingDecided,
    SipResponse,
    SpeechRendered,
    StoreFailed,
    WebhookDelivered,
    WebhookFailed,
)
from dialer.domain.ids import CampaignId

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Around the 100 ms bridge tone and the 200 ms target (docs/agents-sip.md).
_BRIDGE_BUCKETS = (0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.25, 0.3, 0.5, 1)


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROCESS_ENV) or None


class PrometheusMetrics(ByKind):
    """Subscribe it to the engine's, the deliverer's and the driver's events."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            PlatformCollector,
            ProcessCollector,
        )

        # A registry per instance, not the library's global one: tests build many containers.
        self.registry = CollectorRegistry(auto_describe=True)
        self._multiprocess = multiprocess_dir() is not None
        if not self._multiprocess:
            # In multiprocess mode the library cannot sum these; each process reports only
            # through its files (docs/metrics.md).
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
        r = self.registry
        self.in_flight = Gauge(
            "dialer_calls_in_flight",
            "Calls on the line now, by campaign id",
            ["campaign"],
            registry=r,
            multiprocess_mode="livesum",
        )
        self.originated = Counter(
            "dialer_calls_originated", "Calls started (rate: calls per second)", registry=r
        )
        self.attempts = Counter(
            "dialer_attempts",
            "Recorded attempts by campaign id and outcome (the API's outcome names)",
            ["campaign", "outcome"],
            registry=r,
        )
        self.answered = Counter(
            "dialer_attempts_answered", "Attempts whose call was answered", registry=r
        )
        self.finished = Counter(
            "dialer_attempts_finished",
            "Recorded attempts (answer rate: answered/finished)",
            registry=r,
        )
        self.recovered = Counter(
            "dialer_attempts_recovered",
            "Attempts of lost engines recorded as NoConnection",
            registry=r,
        )
        self.leases_lost = Counter(
            "dialer_results_dropped_lease_lost",
            "Results dropped: their leases were lost",
            registry=r,
        )
        self.closed_out = Counter(
            "dialer_destinations_out_of_time",
            "Destinations ended OutOfTime at a close-out",
            registry=r,
        )
        self.claim_latency = Histogram(
            "dialer_claim_to_originate_seconds",
            "Seconds from the claim of a destination to the start of its call",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.sip_responses = Counter(
            "dialer_sip_responses",
            "Final SIP responses to our INVITEs, by code",
            ["code"],
            registry=r,
        )
        self.speech = Histogram(
            "dialer_speech_first_audio_seconds",
            "Seconds from asking for speech to its first audio",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.detection = Histogram(
            "dialer_answer_detection_seconds",
            "Seconds from answer to the answering-machine detector's verdict, by verdict",
            ["by"],
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.first_audio = Histogram(
            "dialer_answer_to_first_audio_seconds",
            "Seconds from answer to the first audio sent",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.agent_audio = Histogram(
            "dialer_bridge_to_agent_audio_seconds",
            "Seconds from a bridge's start to the customer's first audio on the agent's leg",
            registry=r,
            buckets=_BRIDGE_BUCKETS,
        )
        self.webhooks_queued = Counter(
            "dialer_webhooks_queued", "Webhook messages put in the outbox", registry=r
        )
        self.webhooks_delivered = Counter(
            "dialer_webhooks_delivered", "Webhook messages delivered", registry=r
        )
        self.webhook_failures = Counter(
            "dialer_webhook_failures",
            "Failed delivery tries (gave_up: the last try, the message is dropped)",
            ["gave_up"],
            registry=r,
        )
        self._attempts: dict[tuple[CampaignId, Outcome], Any] = {}
        self._in_flight: dict[CampaignId, Any] = {}
        self.store_errors = Counter(
            "dialer_store_errors",
            "Failed passes of a background loop, by loop",
            ["loop"],
            registry=r,
        )
        # Agent campaigns' pacing (the latest decision of this process's engine). Every engine
        # reads the same tally, so across processes the largest is the campaign's.
        self.abandon_rate = Gauge(
            "dialer_abandon_rate",
            "Abandoned calls over live calls in the rules' window (fraction), by campaign id",
            ["campaign"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.abandon_target = Gauge(
            "dialer_abandon_target",
            "The abandoned-call rate pacing keeps under (fraction), by campaign id",
            ["campaign"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self.dial_ratio = Gauge(
            "dialer_dial_ratio",
            "Lines in flight per ready agent the pacer aims at, by campaign id",
            ["campaign"],
            registry=r,
            multiprocess_mode="livemax",
        )
        self._pacing: dict[CampaignId, tuple[Any, Any, Any]] = {}
        self._handlers = self._routes()
        # Calls started and answered since the engine's last pass, not yet in their series
        # (flush): each move of a series takes a lock.
        self._started = 0
        self._answered = 0
        self._latency_bounds = [*LATENCY_BUCKETS, float("inf")]
        self._latency_counts = [0] * len(self._latency_bounds)
        self._latency_sum = 0.0

    # Labelled children are cached: .labels() takes a lock and builds keys, several times per
    # attempt otherwise.

    def _attempt_finished(self, event: AttemptFinished) -> None:
        self._attempts_finished(AttemptsFinished((event,)))

    def _attempts_finished(self, batch: AttemptsFinished) -> None:
        """A recorded batch: each series moves once per batch, not once per attempt (each
        move of a prometheus_client value takes a lock, and the engine records thousands of
        attempts a second)."""
        per_key: dict[tuple[CampaignId, Outcome], int] = {}
        recovered = webhooks = 0
        for event in batch.items:
            key = (event.campaign_id, event.outcome)
            per_key[key] = per_key.get(key, 0) + 1
            recovered += event.recovered
            webhooks += event.webhook
        for key, n in per_key.items():
            child = self._attempts.get(key)
            if child is None:
                child = self.attempts.labels(str(key[0]), key[1].api_name)
                self._attempts[key] = child
            child.inc(n)
        self.finished.inc(len(batch.items))
        if recovered:
            self.recovered.inc(recovered)
        if webhooks:
            self.webhooks_queued.inc(webhooks)

    def _attempt_started(self, event: AttemptStarted) -> None:
        """Tallied here, and moved into the series at the engine's next pass (CallsOnLine):
        the same thread publishes both, so nothing is lost between them."""
        self._started += 1
        latency = event.claim_latency
        if latency < 0.0:  # a comparison, not max(): no call per attempt (issue 11)
            latency = 0.0
        self._latency_counts[bisect.bisect_left(self._latency_bounds, latency)] += 1
        self._latency_sum += latency

    def _calls_on_line(self, event: CallsOnLine) -> None:
        for campaign_id, calls in event.calls.items():
            if calls or campaign_id in self._in_flight:
                self._in_flight_of(campaign_id).set(calls)
        self.flush()

    def _attempt_answered(self, _: AttemptAnswered) -> None:
        """Tallied here and moved at the engine's next pass, as the calls started are."""
        self._answered += 1

    def flush(self) -> None:
        """Move the calls started and answered since the last pass into their series."""
        if self._answered:
            # A call answers in a later pass than it started in: moved whether or not any
            # call started since.
            self.answered.inc(self._answered)
            self._answered = 0
        if not self._started:
            return
        self.originated.inc(self._started)
        # The histogram's own buckets and sum, as observe() moves them (one bucket per
        # observation: the first whose bound is not below it), once per bucket per pass.
        histogram = self.claim_latency
        for index, count in enumerate(self._latency_counts):
            if count:
                histogram._buckets[index].inc(count)
                self._latency_counts[index] = 0
        histogram._sum.inc(self._latency_sum)
        self._started, self._latency_sum = 0, 0.0

    def _campaign_finished(self, event: CampaignFinished) -> None:
        self.closed_out.inc(event.closed_out)
        self._forget(event.campaign_id)

    def _pacing_decided(self, event: PacingDecided) -> None:
        children = self._pacing.get(event.campaign_id)
        if children is None:
            label = str(event.campaign_id)
            children = (
                self.abandon_rate.labels(label),
                self.abandon_target.labels(label),
                self.dial_ratio.labels(label),
            )
            self._pacing[event.campaign_id] = children
        rate, target, ratio = children
        rate.set(event.rate)
        target.set(event.target)
        ratio.set(event.ratio)

    def _routes(self) -> dict[type, Handler]:
        return {
            PacingDecided: self._pacing_decided,
            AttemptFinished: self._attempt_finished,
            AttemptsFinished: self._attempts_finished,
            AttemptStarted: self._attempt_started,
            CallsOnLine: self._calls_on_line,
            AttemptAnswered: self._attempt_answered,
            LeaseLost: lambda e: self.leases_lost.inc(e.count),
            CampaignFinished: self._campaign_finished,
            SipResponse: lambda e: self.sip_responses.labels(str(e.code)).inc(),
            SpeechRendered: lambda e: self.speech.observe(e.seconds),
            AnswerDetected: lambda e: self.detection.labels(e.by).observe(e.seconds),
            FirstAudio: lambda e: self.first_audio.observe(e.frame),
            AgentHearsCustomer: lambda e: self.agent_audio.observe(e.seconds),
            WebhookDelivered: lambda _: self.webhooks_delivered.inc(),
            WebhookFailed: lambda e: self.webhook_failures.labels(
                "true" if e.gave_up else "false"
            ).inc(),
            StoreFailed: lambda e: self.store_errors.labels(e.where).inc(),
        }

    def _in_flight_of(self, campaign_id: CampaignId) -> Any:
        child = self._in_flight.get(campaign_id)
        if child is None:
            child = self._in_flight[campaign_id] = self.in_flight.labels(str(campaign_id))
        return child

    def _forget(self, campaign_id: CampaignId) -> None:
        """A finished campaign's in-flight series goes (its attempts stay, as counters must)."""
        self._in_flight.pop(campaign_id, None)
        with contextlib.suppress(KeyError):
            self.in_flight.remove(str(campaign_id))
        if self._pacing.pop(campaign_id, None) is not None:
            for gauge in (self.abandon_rate, self.abandon_target, self.dial_ratio):
                with contextlib.suppress(KeyError):
                    gauge.remove(str(campaign_id))

    def scraped(self) -> Any:
        """What a scrape reads: this process's registry, or, in multiprocess mode, every
        process's files in the directory, summed by the library."""
        from prometheus_client import CollectorRegistry
        from prometheus_client.multiprocess import MultiProcessCollector

        if not self._multiprocess:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry

    def exposition(self) -> bytes:
        """The text of GET /metrics."""
        from prometheus_client import generate_latest

        body: bytes = generate_latest(self.scraped())
        return body

    def serve(self, host: str, port: int) -> Callable[[], None]:
        """Answer scrapes on http://host:port/metrics from a thread (``dialer worker``, which
        has no API server); returns what stops it."""
        from prometheus_client import start_http_server

        server, thread = start_http_server(port, addr=host, registry=self.scraped())

        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)

        return stop
