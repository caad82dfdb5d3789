"""What an engine's dispatcher, housekeeper and loop share; the Engine owns it.

Only this process's view lives here (calls it started, results not yet written, caches of
campaign plans); the work itself is in the store, so losing this state loses nothing.
"""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from dialer.domain.attempt import FinishedAttempt
from dialer.domain.campaign import Campaign, DialingContext
from dialer.domain.dialling import Rules
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.engine.calls import CampaignPlan


@dataclass(eq=False)
class EngineState:
    worker: str
    lease: timedelta
    plans: dict[CampaignId, CampaignPlan] = field(default_factory=dict)
    contexts: dict[CampaignId, DialingContext] = field(default_factory=dict)
    # Calls on the line now, by campaign (this engine's).
    active: Counter[CampaignId] = field(default_factory=Counter)
    calls: set[asyncio.Task[None]] = field(default_factory=set)
    # Results waiting to be written, in batches (Engine._flush).
    finished: list[FinishedAttempt] = field(default_factory=list)
    # Destinations on the line now; with those in ``finished``, the only leases renewed.
    dialling: set[DestinationId] = field(default_factory=set)
    wake: asyncio.Event = field(default_factory=asyncio.Event)  # a call ended, work, or stop
    # Tenants with a webhook, as the housekeeper last read them.
    webhook_tenants: frozenset[TenantId] = frozenset()
    # Results to write at the end of this pass, not with the next batch: their leases count
    # against a campaign's calls in flight, a limit shared with every engine (a campaign at
    # its limit with ended calls waiting, or claims settled without a call).
    record_soon: bool = False
    # Agent campaigns' calls here with no agent yet (ringing, detecting, waiting), by campaign.
    without_agent: Counter[CampaignId] = field(default_factory=Counter)
    agents_held: int = 0  # agents' sessions whose phone legs this engine holds
    # The last Rules given: every call of a batch asks for the same ones (issue 11: a frozen
    # dataclass built per attempt is three Python calls).
    _rules: Rules | None = None

    def rules(self, campaign: Campaign) -> Rules:
        """What concludes the campaign's attempts (dialer.domain.dialling.conclude), as they
        are now: the campaign as last read and whether its tenant has a webhook today."""
        webhook = campaign.tenant_id in self.webhook_tenants
        last = self._rules
        if last is None or last.campaign is not campaign or last.webhook is not webhook:
            last = self._rules = Rules(campaign, webhook=webhook)
        return last

    def held(self) -> list[DestinationId]:
        """The leases this engine must renew: calls on the line and results not yet written.
        A claim it lost track of (a failed step between claim and call) must expire, so that
        an engine records it, not be held forever."""
        return [*self.dialling, *(f.record.destination_id for f in self.finished)]
