"""An agent campaign's abandoned-call figures as GET campaign and GetCampaignDetails show them
(docs/compliance.md, "What you can see"): the rate as its regime counts it over the window, the
limit and target, the counts, and the pacer's latest ratio and reason."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dialer.domain.abandonment import AbandonRules, PacingStatus, Tally, rules_for
from dialer.domain.campaign import Campaign, CampaignType
from dialer.ports.store import AbandonmentRepo, TenantRepo
from dialer.services.results import iso_utc


class FiguresSession(Protocol):
    @property
    def tenants(self) -> TenantRepo: ...
    @property
    def abandonment(self) -> AbandonmentRepo: ...


@dataclass(frozen=True, slots=True)
class AbandonmentView:
    rules: AbandonRules
    tally: Tally
    pacing: PacingStatus | None


def abandonment_view(
    session: FiguresSession, campaign: Campaign, now: datetime
) -> AbandonmentView | None:
    """None for an IVR campaign: it plays its call flow to whoever answers, so it abandons
    no call."""
    if campaign.spec.kind is not CampaignType.AGENT:
        return None
    settings = session.tenants.compliance(campaign.tenant_id)
    assert settings is not None  # a campaign's tenant is never deleted
    rules = rules_for(settings, campaign.spec.agent_options.pacing.target, campaign.spec.amd_mode)
    tally = session.abandonment.tally(campaign.id, now - rules.window)
    return AbandonmentView(rules, tally, session.abandonment.pacing(campaign.id))


def _percent(fraction: float) -> float:
    return round(fraction * 100, 3)


def _window(rules: AbandonRules) -> str:
    hours = round(rules.window.total_seconds() / 3600)
    return f"{hours // 24}d" if hours > 24 and hours % 24 == 0 else f"{hours}h"


def abandonment_json(view: AbandonmentView) -> dict[str, Any]:
    """Rates in percent. ``rate`` is what the regime counts: under the UK rule the estimated
    people among the machine verdicts (``falseMachines``) join both sides."""
    rules, tally, pacing = view.rules, view.tally, view.pacing
    return {
        "regime": rules.regime.value,
        "window": _window(rules),
        "rate": _percent(tally.rate(rules)),
        "limit": _percent(rules.limit) if rules.enforced else None,
        "target": _percent(rules.target) if rules.enforced else None,
        "live": tally.live,
        "abandoned": tally.abandoned,
        "machines": tally.machines,
        "falseMachines": round(tally.false_machines(rules), 3),
        "dialRatio": None if pacing is None else pacing.ratio,
        "pacerReason": None if pacing is None else pacing.reason,
        "decidedAt": None if pacing is None else iso_utc(pacing.at),
    }
