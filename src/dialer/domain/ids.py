"""Typed identifiers, so a campaign id can never be passed where a tenant id is wanted."""

from typing import NewType

TenantId = NewType("TenantId", int)
CampaignId = NewType("CampaignId", int)
CallFlowId = NewType("CallFlowId", int)
CliId = NewType("CliId", int)
DestinationId = NewType("DestinationId", int)
