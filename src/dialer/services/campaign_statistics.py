"""A campaign's statistics (docs/rest-api.md, "Statistics"): its attempts and their outcomes
and stages per 5-minute or 1-hour bucket of their end time, the answer rate per bucket, and for
an agent campaign the abandoned-call rate over its regime's rolling window at each bucket's end
and the pacing ratios the engine saved in the bucket (migration 0022's history).

Read through the covering index of migrations 0016 and 0027 (campaign_id, ended_at, id,
outcome, stage): one range of it, grouped, never the numbers. At most MAX_BUCKETS buckets per
request."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dialer.domain.abandonment import Tally, rules_for
from dialer.domain.attempt import SETTLED_WITHOUT_CALL
from dialer.domain.campaign import CampaignType
from dialer.domain.codes import Outcome, Stage
from dialer.domain.errors import NotFound, ValidationFailed
from dialer.domain.ids import CampaignId
from dialer.domain.pacing_history import PacingPoint
from dialer.domain.tenant import Tenant
from dialer.ports import Clock, Store
from dialer.services.results import iso_utc

BUCKETS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1)}
# The default span, ending now, when from= is not given.
DEFAULT_SPAN = {"5m": timedelta(hours=24), "1h": timedelta(days=7)}
MAX_BUCKETS = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MACHINES = {Outcome.ANSWERPHONE_MESSAGE_LEFT.value, Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT.value}
_NO_CALL = {o.value for o in SETTLED_WITHOUT_CALL}


def parse_instant(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed(
            {f"query.{name}": ["An ISO 8601 instant with its offset, e.g. 2026-11-30T09:00:00Z."]}
        )
    return moment.astimezone(UTC)


def _floor(moment: datetime, bucket: timedelta) -> datetime:
    return _EPOCH + ((moment - _EPOCH) // bucket) * bucket


@dataclass(frozen=True, slots=True)
class Span:
    bucket_name: str
    bucket: timedelta
    start: datetime  # aligned to the bucket
    end: datetime  # aligned to the bucket, exclusive

    @property
    def count(self) -> int:
        return (self.end - self.start) // self.bucket


def span_of(bucket: str, since: str | None, until: str | None, now: datetime) -> Span:
    """Checked and aligned: buckets start at multiples of their width since the epoch (UTC)."""
    if bucket not in BUCKETS:
        raise ValidationFailed({"query.bucket": ["5m or 1h."]})
    width = BUCKETS[bucket]
    end_at = parse_instant(until, "to") or now
    start_at = parse_instant(since, "from") or end_at - DEFAULT_SPAN[bucket]
    if end_at <= start_at:
        raise ValidationFailed({"query.to": ["Later than from."]})
    start = _floor(start_at, width)
    end = _floor(end_at, width)
    if end < end_at:
        end += width
    span = Span(bucket, width, start, end)
    if span.count > MAX_BUCKETS:
        raise ValidationFailed(
            {
                "query.from": [
                    f"At most {MAX_BUCKETS} buckets of {bucket} per request: this span has"
                    f" {span.count}; ask for a shorter span or 1h buckets."
                ]
            }
        )
    return span


class StatisticsService:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def statistics(
        self,
        tenant: Tenant,
        campaign_id: CampaignId,
        bucket: str,
        since: str | None,
        until: str | None,
    ) -> dict[str, Any]:
        span = span_of(bucket, since, until, self._clock.now())
        with self._store.read() as session:
            campaign = session.campaigns.get_campaign(tenant.id, campaign_id)
            if campaign is None:
                raise NotFound(f"campaign {campaign_id}")
            rules = None
            pacing = None
            history: list[PacingPoint] = []
            reach = span.start
            if campaign.spec.kind is CampaignType.AGENT:
                settings = session.tenants.compliance(tenant.id)
                assert settings is not None  # the tenant is the caller
                rules = rules_for(
                    settings, campaign.spec.agent_options.pacing.target, campaign.spec.amd_mode
                )
                # Each bucket's rate counts the window that ends with it: read that far back.
                reach = _floor(span.start - rules.window, span.bucket)
                pacing = session.abandonment.pacing(campaign_id)
                history = session.abandonment.pacing_history(
                    campaign_id, span.start, span.end, span.bucket
                )
            rows = session.lifecycle.attempt_buckets(campaign_id, reach, span.end, span.bucket)
        offset = (span.start - reach) // span.bucket
        count = span.count
        # Per bucket of the whole read range: live, abandoned and machine calls.
        reach_count = offset + count
        live = [0] * reach_count
        dropped = [0] * reach_count
        machines = [0] * reach_count
        buckets: list[dict[str, Any]] = [
            {"attempts": 0, "calls": 0, "outcomes": {}, "stages": {}} for _ in range(count)
        ]
        totals: dict[str, Any] = {"attempts": 0, "outcomes": {}, "stages": {}}
        for index, outcome, stage, n in rows:
            if outcome == Outcome.ANSWERED.value:
                live[index] += n
                if stage == Stage.CALL_DROPPED.value:
                    dropped[index] += n
            elif outcome in _MACHINES:
                machines[index] += n
            if index < offset:
                continue
            b = buckets[index - offset]
            b["attempts"] += n
            if outcome not in _NO_CALL:
                b["calls"] += n
            for target in (b, totals):
                o, s = Outcome(outcome).api_name, Stage(stage).api_name
                target["outcomes"][o] = target["outcomes"].get(o, 0) + n
                target["stages"][s] = target["stages"].get(s, 0) + n
            totals["attempts"] += n
        ratios = {p.bucket: p for p in history}
        window_buckets = 0 if rules is None else rules.window // span.bucket
        sums = [0, 0, 0]  # live, abandoned, machines over the window ending at bucket i
        out = []
        for i in range(reach_count):
            sums[0] += live[i]
            sums[1] += dropped[i]
            sums[2] += machines[i]
            if window_buckets and i >= window_buckets:
                gone = i - window_buckets
                sums[0] -= live[gone]
                sums[1] -= dropped[gone]
                sums[2] -= machines[gone]
            if i < offset:
                continue
            b = buckets[i - offset]
            answered = b["outcomes"].get(Outcome.ANSWERED.api_name, 0)
            calls = b.pop("calls")
            out.append(
                {
                    "start": iso_utc(span.start + (i - offset) * span.bucket),
                    **b,
                    "answered": answered,
                    "answerRate": None if not calls else round(100 * answered / calls, 3),
                    "abandonedRate": (
                        None if rules is None else round(100 * Tally(*sums).rate(rules), 3)
                    ),
                    **_ratio(ratios.get(i - offset)),
                }
            )
        return {
            "campaignId": campaign_id,
            "bucket": span.bucket_name,
            "from": iso_utc(span.start),
            "to": iso_utc(span.end),
            "buckets": out,
            "totals": totals,
            "abandonedWindow": None if rules is None else _window(rules.window),
            "abandonedLimit": None
            if rules is None or not rules.enforced
            else round(rules.limit * 100, 3),
            "pacing": None
            if pacing is None
            else {"ratio": pacing.ratio, "reason": pacing.reason, "decidedAt": iso_utc(pacing.at)},
        }


def _ratio(point: PacingPoint | None) -> dict[str, float | None]:
    """The bucket's pacing ratios: the mean, least and greatest of the decisions saved in it."""
    if point is None:
        return {"pacingRatio": None, "pacingRatioMin": None, "pacingRatioMax": None}
    return {
        "pacingRatio": round(point.mean, 3),
        "pacingRatioMin": round(point.low, 3),
        "pacingRatioMax": round(point.high, 3),
    }


def _window(window: timedelta) -> str:
    hours = round(window.total_seconds() / 3600)
    return f"{hours // 24}d" if hours > 24 and hours % 24 == 0 else f"{hours}h"
