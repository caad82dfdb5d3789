"""A tenant: one customer of the platform, with its own campaigns, call flows and caller IDs."""

from dataclasses import dataclass
from datetime import datetime

from dialer.domain.ids import CallFlowId, CliId, TenantId


@dataclass(frozen=True, slots=True)
class Tenant:
    id: TenantId
    name: str
    region: str
    timezone: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CallerId:
    id: CliId
    tenant_id: TenantId
    number: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CallFlowRecord:
    id: CallFlowId
    tenant_id: TenantId
    name: str
    definition: str
    created_at: datetime
