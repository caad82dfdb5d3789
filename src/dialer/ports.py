"""The small interfaces the services depend on; adapters implement them, bootstrap wires them."""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from dialer.domain.attempt import AttemptRecord
from dialer.domain.campaign import (
    Campaign,
    CampaignSpec,
    CampaignStatus,
    CampaignSummary,
    PhoneNumber,
    StoredNumber,
)
from dialer.domain.ids import CallFlowId, CampaignId, CliId, DestinationId, TenantId
from dialer.domain.tenant import CallerId, CallFlowRecord, Tenant


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, always timezone-aware."""
        ...


class PendingNumbers(Protocol):
    def chunks(self) -> Iterator[list[str | None]]:
        """Results in input order, a slice at a time, each as soon as it is ready."""
        ...

    def cancel(self) -> None: ...


class NumberNormaliser(Protocol):
    def normalise(self, raws: Sequence[str], region: str) -> list[str | None]:
        """E.164 form of each number as dialled from ``region``; None where it is not possible."""
        ...

    def start(self, raws: Sequence[str], region: str) -> PendingNumbers:
        """Begin normalising, so the caller can do other work until ``result()``."""
        ...


class StoreSession(Protocol):
    """One transaction on the store; every method sees and writes the same snapshot."""

    # tenants
    def add_tenant(
        self, name: str, region: str, timezone: str, api_key_hash: str, now: datetime
    ) -> Tenant: ...
    def tenant_by_key_hash(self, api_key_hash: str) -> Tenant | None: ...
    def get_tenant(self, tenant_id: TenantId) -> Tenant | None: ...

    # call flows and caller IDs
    def add_callflow(
        self, tenant_id: TenantId, name: str, definition: str, now: datetime
    ) -> CallFlowRecord: ...
    def list_callflows(self, tenant_id: TenantId) -> list[CallFlowRecord]: ...
    def callflow_owned(self, tenant_id: TenantId, callflow_id: CallFlowId) -> bool: ...
    def add_cli(self, tenant_id: TenantId, number: str, now: datetime) -> CallerId: ...
    def list_clis(self, tenant_id: TenantId) -> list[CallerId]: ...
    def cli_owned(self, tenant_id: TenantId, cli_id: CliId) -> bool: ...

    # campaigns
    def add_campaign(
        self,
        tenant_id: TenantId,
        code: str,
        spec: CampaignSpec,
        status: CampaignStatus,
        now: datetime,
    ) -> CampaignId: ...
    def get_campaign(
        self, tenant_id: TenantId, campaign_id: CampaignId, *, for_update: bool = False
    ) -> Campaign | None: ...
    def list_campaigns(self, tenant_id: TenantId) -> list[CampaignSummary]: ...
    def update_campaign(
        self, campaign_id: CampaignId, spec: CampaignSpec, now: datetime
    ) -> None: ...
    def delete_campaign(self, campaign_id: CampaignId) -> None: ...

    # a campaign's numbers
    def add_numbers(
        self, campaign_id: CampaignId, numbers: Iterable[PhoneNumber], now: datetime
    ) -> None:
        """Insert in order; ``numbers`` may be a generator, consumed as the rows stream out."""
        ...

    def list_numbers(self, campaign_id: CampaignId) -> list[StoredNumber]: ...
    def dialled_numbers(self, campaign_id: CampaignId) -> list[tuple[DestinationId, str]]:
        """(id, key) of every number already attempted or in flight: its history is fixed."""
        ...

    def destination_ids(self, campaign_id: CampaignId) -> list[DestinationId]: ...
    def delete_undialled_numbers(self, campaign_id: CampaignId) -> None: ...
    def update_number_details(
        self,
        destination_id: DestinationId,
        name: str | None,
        parameters: tuple[tuple[int, str], ...],
    ) -> None: ...

    # attempts
    def record_attempt(self, attempt: AttemptRecord) -> None: ...


class Store(Protocol):
    def read(self) -> AbstractContextManager[StoreSession]: ...
    def write(self) -> AbstractContextManager[StoreSession]:
        """A transaction that commits when the block ends normally and rolls back otherwise."""
        ...

    def close(self) -> None: ...
