"""Which campaigns would send texts that no provider can take: on a process that dials real
phones with no ``--sms`` default, the campaigns still to dial that text (``smsOnBusy`` set,
or a call flow with an ``sms`` node) whose tenant has no real provider of its own (none, or
``sim``, which a SIP process ignores). ``dialer serve`` and ``dialer worker`` name each at
start (docs/sms.md), since otherwise the first sign is a text that failed."""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from dialer.domain.callflow import parse_callflow
from dialer.domain.campaign import Campaign
from dialer.domain.ids import CampaignId, TenantId
from dialer.domain.lifecycle import FINAL_STATES
from dialer.domain.policy import MessagePolicy
from dialer.domain.sms_settings import SmsProviderKind
from dialer.ports.store import StoreSession, UnitOfWork
from dialer.services.campaign_summary import summaries_of

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TextingWithoutProvider:
    tenant_id: TenantId
    tenant_name: str
    campaign_id: CampaignId
    campaign_name: str | None
    texts: tuple[str, ...]  # what would text: "smsOnBusy", "sms node 'note'"

    def message(self) -> str:
        name = f" {self.campaign_name!r}" if self.campaign_name else ""
        return (
            f"campaign {self.campaign_id}{name} of tenant {self.tenant_id}"
            f" ({self.tenant_name}) would send texts ({', '.join(self.texts)}) but no SMS"
            " provider can take them: every one will fail. Set the tenant's provider"
            " (PUT /api/settings/sms) or start with --sms smpp|http"
        )


def _texts(campaign: Campaign, definition: str | None) -> tuple[str, ...]:
    found: list[str] = []
    flow = None
    if definition is not None:
        flow, _ = parse_callflow(json.loads(definition))
    # A flow's busy text is never empty (the call flow's parser requires it).
    if campaign.spec.sms_on_busy is not MessagePolicy.NEVER:
        found.append("smsOnBusy")
    if flow is not None:
        found.extend(
            f"sms node {name!r}"
            for name, node in flow.graph.nodes.items()
            if node.sms is not None and node.sms.text.strip()
        )
    return tuple(found)


def texting_without_provider(
    store: UnitOfWork[StoreSession], now: datetime
) -> list[TextingWithoutProvider]:
    """The campaigns with calls still to make (not finished, expired or cancelled; paused
    ones included, as they text once resumed) whose texts would all fail, in id order."""
    found: list[TextingWithoutProvider] = []
    with store.read() as session:
        by_zone: dict[str, list[Campaign]] = defaultdict(list)
        for context in session.queue.dialing_contexts():
            campaign = context.campaign
            settings = session.sms.sms_settings(campaign.tenant_id)
            if settings is None or settings.provider is SmsProviderKind.SIM:
                by_zone[context.timezone].append(campaign)
        live = [
            summary.campaign
            for zone, campaigns in by_zone.items()
            for summary in summaries_of(session, campaigns, zone, now)
            if summary.state not in FINAL_STATES
        ]
        for campaign in sorted(live, key=lambda c: c.id):
            record = session.catalog.get_callflow(campaign.tenant_id, campaign.spec.callflow_id)
            texts = _texts(campaign, None if record is None else record.definition)
            if not texts:
                continue
            tenant = session.tenants.get_tenant(campaign.tenant_id)
            found.append(
                TextingWithoutProvider(
                    campaign.tenant_id,
                    tenant.name if tenant is not None else "?",
                    campaign.id,
                    campaign.spec.name,
                    texts,
                )
            )
    return found
