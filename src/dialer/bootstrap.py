"""The composition root: the one place that turns settings into concrete, wired objects."""

import gc
from dataclasses import dataclass, field

from fastapi import FastAPI

from dialer.api.app import create_app
from dialer.clocks import SystemClock
from dialer.ports import Clock
from dialer.services.campaigns import CampaignService
from dialer.services.catalog import CatalogService
from dialer.services.dialer import DialerService
from dialer.services.dnc import DncService
from dialer.services.numbers import LocalNormaliser, PooledNormaliser
from dialer.services.tenants import TenantService
from dialer.settings import Settings
from dialer.storage.database import open_database
from dialer.storage.migrations import migrate
from dialer.storage.sql_store import SqlStore


@dataclass
class Container:
    settings: Settings
    store: SqlStore
    clock: Clock
    normaliser: PooledNormaliser | LocalNormaliser
    tenants: TenantService = field(init=False)
    campaigns: CampaignService = field(init=False)
    catalog: CatalogService = field(init=False)
    dialer: DialerService = field(init=False)
    dnc: DncService = field(init=False)

    def __post_init__(self) -> None:
        self.tenants = TenantService(self.store, self.clock)
        self.campaigns = CampaignService(
            self.store, self.normaliser, self.clock, self.settings.max_numbers_per_request
        )
        self.catalog = CatalogService(self.store, self.clock)
        self.dialer = DialerService(self.store, self.normaliser, self.clock, self.tenants)
        self.dnc = DncService(self.store, self.clock)

    def app(self) -> FastAPI:
        return create_app(
            self.settings,
            self.tenants,
            self.campaigns,
            self.catalog,
            self.dialer,
            self.dnc,
            on_shutdown=self.close_workers,
        )

    def close_workers(self) -> None:
        if isinstance(self.normaliser, PooledNormaliser):
            self.normaliser.close()

    def warm_up(self) -> None:
        """Start worker processes now, and tune the garbage collector for big bodies.

        One 100,000-number campaign is over a million JSON objects; with the default threshold
        (700) the cyclic collector ran hundreds of times per request and cost about a third of
        its parse time. Reference counting still frees everything acyclic at once.
        """
        if isinstance(self.normaliser, PooledNormaliser):
            self.normaliser.warm_up()
        gc.freeze()
        gc.set_threshold(50_000, 20, 20)

    def close(self) -> None:
        self.close_workers()
        self.store.close()


def migrate_database(settings: Settings) -> list[str]:
    """Apply pending migrations; returns the names of those applied."""
    database = open_database(settings.database_url)
    try:
        return [f"{m.version:04d}_{m.name}" for m in migrate(database)]
    finally:
        database.close()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    parallel: bool = False,
    apply_migrations: bool = True,
) -> Container:
    """Open the store (migrating it unless told not to) and wire the services.

    ``parallel`` starts worker processes for number parsing: worth it for a server, not for a
    one-shot CLI command.
    """
    database = open_database(settings.database_url)
    if apply_migrations:
        migrate(database)
    normaliser: PooledNormaliser | LocalNormaliser = (
        PooledNormaliser(threshold=settings.parallel_parse_threshold)
        if parallel
        else LocalNormaliser()
    )
    return Container(settings, SqlStore(database), clock or SystemClock(), normaliser)
