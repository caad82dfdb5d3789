"""The ASGI application factory: routes and error handling, over services built elsewhere."""

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.routing import Route

from dialer import __version__
from dialer.api import agent_schemas, console_files, errors, health, metrics, openapi
from dialer.api.live_hub import LiveHub
from dialer.api.rest import (
    agent_desk,
    agent_events,
    agents,
    campaign_lifecycle,
    campaign_summary,
    campaigns,
    catalog,
    dnc,
    events_stream,
    webhooks,
)
from dialer.api.rest import callflow_dry_run as dry_run_routes
from dialer.api.rest import campaign_numbers as numbers_routes
from dialer.api.rest import session as session_routes
from dialer.api.rest import settings as settings_routes
from dialer.api.rest import sms as sms_routes
from dialer.api.rpc import dispatch
from dialer.api.rpc import openapi as rpc_openapi
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
from dialer.services.number_pages import NumberPages
from dialer.services.number_upload import NumberUploads
from dialer.services.results import ResultsService
from dialer.services.sms import SmsSettingsService
from dialer.services.tenants import TenantService
from dialer.services.webhook_test import WebhookTester
from dialer.services.webhooks import WebhookService
from dialer.settings import Settings


def create_app(
    settings: Settings,
    tenants: TenantService,
    campaigns_service: CampaignService,
    catalog_service: CatalogService,
    dialer_service: DialerService,
    dnc_service: DncService,
    results_service: ResultsService,
    webhook_service: WebhookService,
    on_shutdown: Callable[[], None] | None = None,
    background: Callable[[], AbstractAsyncContextManager[None]] | None = None,
    health_service: HealthService | None = None,
    engine_problem: EngineProblem | None = None,
    metrics_text: Callable[[], bytes] | None = None,
    agent_desk_service: AgentDeskService | None = None,
    agent_supervision: AgentSupervision | None = None,
    number_pages: NumberPages | None = None,
    number_uploads: NumberUploads | None = None,
    webhook_tester: WebhookTester | None = None,
    callflow_dry_run: CallFlowDryRun | None = None,
    summary_service: SummaryService | None = None,
    statistics_service: StatisticsService | None = None,
    live_hub: LiveHub | None = None,
    console_sessions: ConsoleSessions | None = None,
    sms_settings: SmsSettingsService | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # background: the dialing engine, when this process runs one beside the APIs.
        async with background() if background is not None else nullcontext():
            yield
        # Here, not after uvicorn.run returns: uvicorn re-raises SIGTERM once it has shut down,
        # so code after it never runs when the service is stopped with a signal.
        if on_shutdown is not None:
            on_shutdown()

    app = FastAPIOffline(
        lifespan=lifespan,
        title="dialer",
        version=__version__,
        description=(
            "Outbound voice campaigns. Authenticate with `Authorization: Bearer <api key>` "
            "(from `dialer tenant create`); an agent's desk (`/api/agents/me`) with"
            " `Authorization: Bearer <agent token>` instead (POST /api/agents/{agentId}/tokens)."
        ),
    )
    app.state.settings = settings
    app.state.tenants = tenants
    app.state.campaigns = campaigns_service
    app.state.catalog = catalog_service
    app.state.dialer = dialer_service
    app.state.dnc = dnc_service
    app.state.results = results_service
    app.state.webhooks = webhook_service
    app.state.health = health_service
    app.state.engine_problem = engine_problem  # None: this process runs no engine
    # Set when the server is told to stop: endless responses (agents' event streams) end.
    app.state.draining = threading.Event()
    app.state.agent_desk = agent_desk_service
    app.state.agent_supervision = agent_supervision
    app.state.number_pages = number_pages
    app.state.number_uploads = number_uploads
    app.state.webhook_tester = webhook_tester
    app.state.callflow_dry_run = callflow_dry_run
    app.state.summaries = summary_service
    app.state.statistics = statistics_service
    app.state.live_hub = live_hub
    app.state.console_sessions = console_sessions  # None: the console cannot log in
    app.state.sms_settings = sms_settings
    errors.install(app)
    if summary_service is not None and statistics_service is not None:
        # Before the campaigns': its /{campaign_id} would take "summaries".
        app.include_router(campaign_summary.router)
        app.include_router(campaign_lifecycle.router)
    if live_hub is not None:
        app.include_router(events_stream.router)
    app.include_router(campaigns.router)
    if number_pages is not None and number_uploads is not None:
        app.include_router(numbers_routes.router)
    if agent_desk_service is not None and agent_supervision is not None:
        # Before the catalog: its /api/agents/{agent_id} would take "me", "sessions", "report".
        app.include_router(agent_desk.router)
        app.include_router(agent_events.router)
        app.include_router(agents.router)
    if callflow_dry_run is not None:
        # Before the catalog: its /api/callflows/{callflow_id} must not take dry-run paths.
        app.include_router(dry_run_routes.router)
    app.include_router(catalog.router)
    app.include_router(dnc.router)
    app.include_router(webhooks.router)
    app.include_router(settings_routes.router)
    if sms_settings is not None:
        app.include_router(sms_routes.router)
    app.include_router(session_routes.router)
    app.router.routes.extend(console_files.routes())
    if health_service is not None:
        app.include_router(health.router)
    # The Dialer API's own route goes first: a plain Starlette route, no dependency layer.
    app.router.routes.insert(
        0, Route(dispatch.PATH, dispatch.endpoint, methods=["GET", "POST"], include_in_schema=False)
    )
    app.include_router(dispatch.router)
    if metrics_text is not None:
        app.router.routes.append(metrics.route(metrics_text))
    openapi.install(
        app, rpc_openapi.add_examples, agent_schemas.add_examples, session_routes.declare_cookie
    )
    return app
