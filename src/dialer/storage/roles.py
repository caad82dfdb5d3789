"""A session that is every role of the store itself (dialer.ports.store), as both the SQL and
the memory session are: one transaction behind all of them, so each role is the session seen
through its port. A property's ``self`` typed as its role is not checked where the session is
used as a StoreSession, so each session module also returns itself as ``AllRoles``
(``_every_role``): that is where mypy refuses a session lacking a method of a role."""

from typing import Protocol

from dialer.ports.store import (
    AbandonmentRepo,
    AgentRepo,
    AgentSessionRepo,
    CampaignRepo,
    CatalogRepo,
    ConsoleSessionRepo,
    DestinationRepo,
    DncRepo,
    IdempotencyRepo,
    LifecycleRepo,
    OutboxRepo,
    QueueRepo,
    ResultsRepo,
    SmsOutboxRepo,
    TenantRepo,
)


class AllRoles(
    TenantRepo,
    CatalogRepo,
    AgentRepo,
    AgentSessionRepo,
    CampaignRepo,
    DestinationRepo,
    QueueRepo,
    DncRepo,
    OutboxRepo,
    ResultsRepo,
    IdempotencyRepo,
    AbandonmentRepo,
    LifecycleRepo,
    ConsoleSessionRepo,
    SmsOutboxRepo,
    Protocol,
):
    """Every role's methods on one object."""


class EveryRole:
    @property
    def tenants(self: TenantRepo) -> TenantRepo:
        return self

    @property
    def catalog(self: CatalogRepo) -> CatalogRepo:
        return self

    @property
    def agents(self: AgentRepo) -> AgentRepo:
        return self

    @property
    def agent_sessions(self: AgentSessionRepo) -> AgentSessionRepo:
        return self

    @property
    def campaigns(self: CampaignRepo) -> CampaignRepo:
        return self

    @property
    def destinations(self: DestinationRepo) -> DestinationRepo:
        return self

    @property
    def queue(self: QueueRepo) -> QueueRepo:
        return self

    @property
    def dnc(self: DncRepo) -> DncRepo:
        return self

    @property
    def outbox(self: OutboxRepo) -> OutboxRepo:
        return self

    @property
    def results(self: ResultsRepo) -> ResultsRepo:
        return self

    @property
    def idempotency(self: IdempotencyRepo) -> IdempotencyRepo:
        return self

    @property
    def abandonment(self: AbandonmentRepo) -> AbandonmentRepo:
        return self

    @property
    def lifecycle(self: LifecycleRepo) -> LifecycleRepo:
        return self

    @property
    def console_sessions(self: ConsoleSessionRepo) -> ConsoleSessionRepo:
        return self

    @property
    def sms(self: SmsOutboxRepo) -> SmsOutboxRepo:
        return self
