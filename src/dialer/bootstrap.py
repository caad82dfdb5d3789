"""The composition root: the one place that turns settings into concrete, wired objects."""

import asyncio
import gc
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from dialer.api.live_hub import REFRESH, LiveHub
from dialer.clocks import RealTimer, SystemClock, VirtualTimer
from dialer.domain.events import FanOutSink
from dialer.domain.webhook import Delivery
from dialer.domain.webhook_address import AddressPolicy
from dialer.engine.scheduler import Engine
from dialer.engine.sms_outbox import SmsProviders
from dialer.engine.webhooks import WebhookDeliverer, new_client
from dialer.metrics.prometheus import PrometheusMetrics
from dialer.ports import AgentPhones, Clock, EventSink, SpeechSynthesizer
from dialer.ports.sms import SmsProvider
from dialer.services.agent_desk import AgentDeskService
from dialer.services.agent_supervision import AgentSupervision
from dialer.services.callflow_dry_run import CallFlowDryRun
from dialer.services.campaign_statistics import StatisticsService
from dialer.services.campaign_summary import SummaryService
from dialer.services.campaigns import CampaignService
from dialer.services.catalog import CatalogService
from dialer.services.console_sessions import ConsoleSessions
from dialer.services.dialer import DialerService
from dialer.services.dnc import DncService
from dialer.services.health import EngineProblem, HealthService
from dialer.services.live_feed import LiveFeed
from dialer.services.number_pages import NumberPages
from dialer.services.number_upload import NumberUploads
from dialer.services.numbers import LocalNormaliser, PooledNormaliser
from dialer.services.results import ResultsService
from dialer.services.sms import SmsSettingsService
from dialer.services.tenants import TenantService
from dialer.services.webhook_test import WebhookTester
from dialer.services.webhooks import WebhookService
from dialer.services.zones import CalleeZones
from dialer.settings import EngineSettings, NetworkSettings, Settings, SmsDefault
from dialer.storage.change_watch import watch_changes
from dialer.storage.database import open_database
from dialer.storage.memory import MemoryStore
from dialer.storage.migrations import migrate
from dialer.storage.probe import check_reachable
from dialer.storage.sql_store import SqlStore
from dialer.telephony.sim_network import SimulatedNetwork
from dialer.telephony.sim_profile import SimProfile
from dialer.telephony.sms import SimulatedSmsGateway, UnconfiguredSms
from dialer.telephony.sms_book import TenantSmsBook, smpp_provider
from dialer.telephony.sms_http import HttpSmsProvider

if TYPE_CHECKING:
    from fastapi import FastAPI

    from dialer.telephony.sip import SipNetwork


@dataclass
class Container:
    settings: Settings
    store: SqlStore | MemoryStore
    clock: Clock
    normaliser: PooledNormaliser | LocalNormaliser
    tenants: TenantService = field(init=False)
    campaigns: CampaignService = field(init=False)
    catalog: CatalogService = field(init=False)
    dialer: DialerService = field(init=False)
    dnc: DncService = field(init=False)
    results: ResultsService = field(init=False)
    webhooks: WebhookService = field(init=False)
    health: HealthService = field(init=False)
    agent_desk: AgentDeskService = field(init=False)
    agent_supervision: AgentSupervision = field(init=False)
    number_pages: NumberPages = field(init=False)
    number_uploads: NumberUploads = field(init=False)
    webhook_tester: WebhookTester = field(init=False)
    callflow_dry_run: CallFlowDryRun = field(init=False)
    summaries: SummaryService = field(init=False)
    statistics: StatisticsService = field(init=False)
    live_hub: LiveHub = field(init=False)
    console_sessions: ConsoleSessions = field(init=False)
    sms_settings: SmsSettingsService = field(init=False)
    # Every event of this process goes here; metrics subscribe (tests may add a Recording).
    events: FanOutSink = field(init=False)
    metrics: PrometheusMetrics = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = PrometheusMetrics()
        self.events = FanOutSink([self.metrics])
        self.tenants = TenantService(self.store, self.clock)
        self.campaigns = CampaignService(
            self.store, self.normaliser, self.clock, self.settings.max_numbers_per_request
        )
        self.catalog = CatalogService(self.store, self.clock)
        self.dialer = DialerService(self.store, self.normaliser, self.clock, self.tenants)
        self.dnc = DncService(self.store, self.clock)
        self.results = ResultsService(self.store)
        self.webhooks = WebhookService(self.store, self.clock, self.webhook_policy())
        self.health = HealthService(self.store, self.clock)
        self.agent_desk = AgentDeskService(self.store, self.clock, self.events)
        self.agent_supervision = AgentSupervision(self.store, self.clock)
        self.number_pages = NumberPages(self.store, self.clock)
        self.number_uploads = NumberUploads(self.store, self.normaliser, self.clock)
        self.webhook_tester = WebhookTester(self.store, self.clock, self._send_test)
        self.callflow_dry_run = CallFlowDryRun(self.store, _speech())
        self.summaries = SummaryService(self.store, self.clock)
        self.statistics = StatisticsService(self.store, self.clock)
        # The memory store hears only this process's commits that add work: refresh each second.
        refresh = 1.0 if isinstance(self.store, MemoryStore) else REFRESH
        self.live_hub = LiveHub(
            LiveFeed(self.store, self.clock, self.summaries),
            partial(watch_changes, self.store),
            refresh=refresh,
        )
        self.console_sessions = ConsoleSessions(
            self.store, self.clock, self.tenants, self.agent_desk
        )
        self.sms_settings = SmsSettingsService(self.store, self.clock, self.webhook_policy())

    def webhook_policy(self) -> AddressPolicy:
        return AddressPolicy.allowing(self.settings.webhook_allow)

    async def _send_test(self, delivery: Delivery) -> tuple[int | None, str | None]:
        """A webhook test's one try, as the deliverer makes every try (its own client: tests
        are rare, and this process may run no deliverer)."""
        async with new_client(max_connections=1) as client:
            deliverer = WebhookDeliverer(
                self.store, self.clock, client, policy=self.webhook_policy()
            )
            return await deliverer.post_once(delivery)

    def app(
        self,
        background: Callable[[], AbstractAsyncContextManager[None]] | None = None,
        engine_problem: EngineProblem | None = None,
    ) -> "FastAPI":
        # Imported here: the web app's modules cost a second of start-up that the CLI's other
        # commands (and every process the tests start for them) need not pay.
        from dialer.api.app import create_app

        return create_app(
            self.settings,
            self.tenants,
            self.campaigns,
            self.catalog,
            self.dialer,
            self.dnc,
            self.results,
            self.webhooks,
            on_shutdown=self.close_workers,
            background=background,
            health_service=self.health,
            engine_problem=engine_problem,
            metrics_text=self.metrics.exposition,
            agent_desk_service=self.agent_desk,
            agent_supervision=self.agent_supervision,
            number_pages=self.number_pages,
            number_uploads=self.number_uploads,
            webhook_tester=self.webhook_tester,
            callflow_dry_run=self.callflow_dry_run,
            summary_service=self.summaries,
            statistics_service=self.statistics,
            live_hub=self.live_hub,
            console_sessions=self.console_sessions,
            sms_settings=self.sms_settings,
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
        self.live_hub.close()
        self.close_workers()
        self.store.close()


# The store in this process's memory: for tests and demos, its data is lost at exit.
MEMORY_URL = "memory://"


def open_store(url: str, *, apply_migrations: bool = True) -> SqlStore | MemoryStore:
    """The store ``url`` names: ``sqlite:///FILE``, ``postgresql://...`` (migrated unless told
    not to) or ``memory://``. An unreachable PostgreSQL raises StoreUnreachable (an OSError)
    at once, with the server's reason."""
    if url == MEMORY_URL:
        return MemoryStore()
    check_reachable(url)
    database = open_database(url)
    if apply_migrations:
        migrate(database)
    return SqlStore(database)


def refuse_memory(settings: Settings, why: str) -> None:
    """ValueError if the store is ``memory://`` where its data would not be where it is needed:
    ``why`` says where (another process, or gone when a one-shot command exits)."""
    if settings.database_url == MEMORY_URL:
        raise ValueError(f"{MEMORY_URL} keeps its data inside this one process: {why}")


def migrate_database(settings: Settings) -> list[str]:
    """Apply pending migrations; returns the names of those applied (none in memory)."""
    if settings.database_url == MEMORY_URL:
        return []
    check_reachable(settings.database_url)
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
    one-shot CLI command. The store is ``open_store``'s.
    """
    store = open_store(settings.database_url, apply_migrations=apply_migrations)
    normaliser: PooledNormaliser | LocalNormaliser = (
        PooledNormaliser(threshold=settings.parallel_parse_threshold)
        if parallel
        else LocalNormaliser()
    )
    return Container(settings, store, clock or SystemClock(), normaliser)


@dataclass
class EngineRuntime:
    """An engine with its network, SMS gateway and timer, ready to run in an event loop."""

    engine: Engine
    driver: "SimulatedNetwork | SipNetwork"
    sms: SmsProvider  # the process's default (--sms); tenants may have their own
    timer: RealTimer | VirtualTimer
    webhook_policy: AddressPolicy = field(default_factory=AddressPolicy)
    events: FanOutSink = field(default_factory=FanOutSink)

    _tasks: dict[str, "asyncio.Task[None]"] = field(default_factory=dict, init=False, repr=False)

    def problem(self) -> str | None:
        """None while the engine and the webhook deliverer run; else what stopped (/health)."""
        if not self._tasks:
            return "the engine has not started"
        for name, task in self._tasks.items():
            if task.done():
                error = None if task.cancelled() else task.exception()
                why = f": {type(error).__name__}: {error}" if error else ""
                return f"the {name} stopped{why}"
        return None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the engine in the background for the duration of the block."""
        stop = asyncio.Event()
        async with new_client() as client:
            deliverer = WebhookDeliverer(
                self.engine.store,
                self.timer,
                client,
                policy=self.webhook_policy,
                events=self.events,
            )
            self._tasks = {
                "engine": asyncio.create_task(self.engine.run(stop)),
                "webhook deliverer": asyncio.create_task(deliverer.run(stop)),
            }
            tasks = list(self._tasks.values())
            try:
                yield
            finally:
                stop.set()
                await asyncio.gather(*tasks)
                await self.driver.close()


def make_timer(network: NetworkSettings, start: datetime | None = None) -> RealTimer | VirtualTimer:
    if network.speed is None:
        return VirtualTimer(start or datetime.now(UTC))
    return RealTimer(network.speed, network.anchor)


def build_engine(
    container: Container,
    network: NetworkSettings,
    engine_settings: EngineSettings,
    timer: RealTimer | VirtualTimer,
    worker: str | None = None,
) -> EngineRuntime:
    driver: SimulatedNetwork | SipNetwork
    if network.kind == "sip":
        driver = build_sip_network(network, timer, container.events)
        # The engine never offers the process more calls than its SIP driver holds: a call
        # waiting for a line would hold its destination for nothing (docs/sip.md, Capacity).
        engine_settings = replace(
            engine_settings,
            max_in_flight=min(engine_settings.max_in_flight, driver.settings.max_calls),
        )
    elif network.kind == "sim":
        profile = SimProfile.load(network.profile) if network.profile else SimProfile.default()
        driver = SimulatedNetwork(
            profile,
            timer,
            seed=network.seed,
            channels=network.channels,
            origination_log=network.origination_log,
            call_log=network.call_log,
        )
    else:
        raise ValueError(f"unknown network {network.kind!r}; this build knows 'sim' and 'sip'")
    # Texts go through the tenant's own provider, else this one (docs/sms.md).
    sms = default_sms_provider(network.sms, timer, container.events)
    book = TenantSmsBook(
        container.store,
        timer,
        container.events,
        real_network=network.kind == "sip",
        policy=container.webhook_policy(),
    )
    engine = Engine(
        container.store,
        driver,
        sms,
        timer,
        engine_settings,
        CalleeZones(),
        worker=worker,
        events=container.events,
        # The network calls agents' phones when it can (docs/agents.md).
        phones=driver if isinstance(driver, AgentPhones) else None,
        sms_providers=SmsProviders(sms, book, book.sender_id),
    )
    return EngineRuntime(engine, driver, sms, timer, container.webhook_policy(), container.events)


def default_sms_provider(
    default: SmsDefault, clock: Clock, events: EventSink | None = None
) -> SmsProvider:
    """The provider of ``--sms``: texts whose tenant set none go through it."""
    if default.kind == "smpp" and default.smpp is not None:
        return smpp_provider(default.smpp, clock)
    if default.kind == "http" and default.http is not None:
        return HttpSmsProvider(default.http)
    if default.kind == "none":
        return UnconfiguredSms()
    return SimulatedSmsGateway(clock, events)


def _speech() -> "SpeechSynthesizer | None":
    """The synthesizer of dry runs: espeak-ng as the calls speak, if it is installed (imported
    here, as build_sip_network does; renders are kept in memory only)."""
    if shutil.which("espeak-ng") is None:
        return None
    from dialer.telephony.speech import EspeakSynthesizer

    return EspeakSynthesizer()


def build_sip_network(
    network: NetworkSettings, timer: RealTimer | VirtualTimer, events: EventSink | None = None
) -> "SipNetwork":
    """The SIP driver with its speech and detectors (imported here: baresip loads a native
    library that the simulated network never needs)."""
    from dialer.telephony.detection import AmdSettings, AnswerDetector
    from dialer.telephony.pcm import read_wav_8k
    from dialer.telephony.sip import SipNetwork
    from dialer.telephony.sit import SitDetector
    from dialer.telephony.speech import EspeakSynthesizer

    if network.sip is None:
        raise ValueError("--network sip needs a trunk (--sip-trunk HOST[:PORT])")
    if not isinstance(timer, RealTimer) or timer.speed != 1.0:
        raise ValueError("--network sip dials real phones: it runs at --speed 1 only")
    if shutil.which("espeak-ng") is None:
        raise ValueError(
            "--network sip speaks with espeak-ng, which is not installed"
            " (Debian: apt-get install espeak-ng)"
        )
    amd = AmdSettings()
    return SipNetwork(
        network.sip,
        timer,
        EspeakSynthesizer(cache_dir=network.speech_cache),
        lambda mode: AnswerDetector(replace(amd, mode=mode)),
        _cached_audio(read_wav_8k),
        SitDetector,
        events,
    )


def _cached_audio(load: Callable[[Path], bytes]) -> Callable[[str], bytes]:
    """Audio files for call flows' play nodes, converted once per process (bounded)."""
    from functools import lru_cache

    @lru_cache(maxsize=64)
    def cached(path: str) -> bytes:
        return load(Path(path))

    return cached
