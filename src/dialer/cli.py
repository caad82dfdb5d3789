"""The command line: serve, migrate, tenant, callflow, cli. Thin: parse, call a service, print."""

import asyncio
import json
import logging
import signal
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dialer.bootstrap import Container, build, build_engine, make_timer, migrate_database
from dialer.domain.errors import DialerError, NotFound, ValidationFailed
from dialer.domain.ids import TenantId
from dialer.settings import EngineSettings, NetworkSettings, Settings

app = typer.Typer(help="dialer: outbound voice campaigns.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants and their API keys.", no_args_is_help=True)
callflow_app = typer.Typer(help="A tenant's call flows.", no_args_is_help=True)
cli_app = typer.Typer(help="A tenant's caller IDs (CLIs).", no_args_is_help=True)
agent_app = typer.Typer(
    help="A tenant's agents (members of Agent Dialer campaigns).", no_args_is_help=True
)
queue_app = typer.Typer(
    help="A tenant's queues (for UpdateCampaignStrategy).", no_args_is_help=True
)
dnc_app = typer.Typer(help="A tenant's do-not-call list.", no_args_is_help=True)
webhook_app = typer.Typer(
    help="A tenant's webhook (each finished call attempt is POSTed to it).", no_args_is_help=True
)
campaign_app = typer.Typer(help="Campaigns (the REST API does the same).", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(callflow_app, name="callflow")
app.add_typer(cli_app, name="cli")
app.add_typer(agent_app, name="agent")
app.add_typer(queue_app, name="queue")
app.add_typer(dnc_app, name="dnc")
app.add_typer(webhook_app, name="webhook")
app.add_typer(campaign_app, name="campaign")

DatabaseOpt = Annotated[
    str | None,
    typer.Option("--database", help="sqlite:///FILE or postgresql://... [env DIALER_DATABASE_URL]"),
]


def _print(value: Any) -> None:
    typer.echo(json.dumps(value))


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def _container(database: str | None) -> Iterator[Container]:
    try:
        container = build(Settings.from_env(database))
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    try:
        yield container
    except ValidationFailed as exc:
        _fail("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.errors.items()))
    except NotFound as exc:
        _fail(f"there is no {exc}")
    except DialerError as exc:
        _fail(str(exc))
    finally:
        container.close()


NetworkOpt = Annotated[str, typer.Option("--network", help="Telephone network: sim (built in)")]
SpeedOpt = Annotated[
    str,
    typer.Option(
        "--speed",
        help="Simulated seconds per real second (60: an hour a minute), or max (as fast as"
        " the machine allows; one engine process only)",
    ),
]
ProfileOpt = Annotated[
    Path | None, typer.Option("--profile", help="Simulated-network profile (YAML)")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the simulated network")]
AnchorOpt = Annotated[
    float | None,
    typer.Option(
        "--clock-anchor",
        help="Unix time at which simulated and real time agree (engines sharing a database"
        " at a --speed need the same anchor)",
    ),
]
MaxCallsOpt = Annotated[int, typer.Option("--max-calls", help="Calls in flight, per process")]
MaxCpsOpt = Annotated[
    float, typer.Option("--max-cps", help="New calls per second (engine clock), per process")
]
CampaignCallsOpt = Annotated[
    int, typer.Option("--campaign-max-calls", help="Calls in flight per campaign")
]
CampaignCpsOpt = Annotated[
    float, typer.Option("--campaign-cps", help="New calls per second per campaign")
]
LeaseOpt = Annotated[
    float, typer.Option("--lease-seconds", help="Lease on a claimed call (engine clock)")
]
ChannelsOpt = Annotated[
    int | None, typer.Option("--channels", help="Simulated network capacity (congestion past it)")
]
OriginationLogOpt = Annotated[
    Path | None,
    typer.Option("--origination-log", help="Append every call placed to this file (testing)"),
]

_ENGINE_DEFAULTS = EngineSettings()


def _network(
    network: str,
    speed: str,
    profile: Path | None,
    seed: int,
    anchor: float | None,
    channels: int | None = None,
    origination_log: Path | None = None,
) -> NetworkSettings:
    if network != "sim":
        _fail(f"unknown network {network!r}; this build dials on: sim")
    if speed == "max":
        rate: float | None = None
    else:
        try:
            rate = float(speed)
        except ValueError:
            _fail(f"--speed takes a number or max; got {speed!r}")
        if not rate > 0:
            _fail("--speed must be above 0")
    if profile is not None and not profile.is_file():
        _fail(f"no profile file at {profile}")
    return NetworkSettings(
        kind=network,
        speed=rate,
        profile=profile,
        seed=seed,
        channels=channels,
        origination_log=origination_log,
        anchor=None if anchor is None else datetime.fromtimestamp(anchor, UTC),
    )


def _engine_settings(
    max_calls: int, max_cps: float, campaign_calls: int, campaign_cps: float, lease: float
) -> EngineSettings:
    if min(max_calls, campaign_calls) < 1 or min(max_cps, campaign_cps, lease) <= 0:
        _fail("call limits, rates and the lease must be positive")
    return replace(
        _ENGINE_DEFAULTS,
        max_in_flight=max_calls,
        max_calls_per_second=max_cps,
        campaign_max_in_flight=campaign_calls,
        campaign_calls_per_second=campaign_cps,
        lease_seconds=lease,
    )


@app.command()
def serve(
    database: DatabaseOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
    access_log: Annotated[
        bool, typer.Option("--access-log", help="Log every request (costs ~17% of request CPU)")
    ] = False,
    engine: Annotated[
        bool, typer.Option("--engine/--no-engine", help="Dial in this process too")
    ] = True,
    network: NetworkOpt = "sim",
    speed: SpeedOpt = "1",
    profile: ProfileOpt = None,
    seed: SeedOpt = 0,
    clock_anchor: AnchorOpt = None,
    max_calls: MaxCallsOpt = _ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = _ENGINE_DEFAULTS.max_calls_per_second,
    campaign_max_calls: CampaignCallsOpt = _ENGINE_DEFAULTS.campaign_max_in_flight,
    campaign_cps: CampaignCpsOpt = _ENGINE_DEFAULTS.campaign_calls_per_second,
    lease_seconds: LeaseOpt = _ENGINE_DEFAULTS.lease_seconds,
    channels: ChannelsOpt = None,
    origination_log: OriginationLogOpt = None,
) -> None:
    """Migrate the store, then serve the APIs and run the dialing engine."""
    import uvicorn

    net = _network(network, speed, profile, seed, clock_anchor, channels, origination_log)
    limits = _engine_settings(max_calls, max_cps, campaign_max_calls, campaign_cps, lease_seconds)
    settings = Settings.from_env(database, host=host, port=port)
    timer = make_timer(net)
    container = build(settings, clock=timer, parallel=True)
    try:
        background = build_engine(container, net, limits, timer).running if engine else None
        container.warm_up()
        typer.echo(
            f"dialer serving on http://{host}:{port} (docs at /docs), store {settings.database_url}"
            + (f", dialing on the {network} network at speed {speed}" if engine else "")
        )
        uvicorn.run(
            container.app(background),
            host=host,
            port=port,
            log_level="info",
            access_log=access_log,
        )
    finally:
        container.close()


@app.command()
def worker(
    database: DatabaseOpt = None,
    network: NetworkOpt = "sim",
    speed: SpeedOpt = "1",
    profile: ProfileOpt = None,
    seed: SeedOpt = 0,
    clock_anchor: AnchorOpt = None,
    max_calls: MaxCallsOpt = _ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = _ENGINE_DEFAULTS.max_calls_per_second,
    campaign_max_calls: CampaignCallsOpt = _ENGINE_DEFAULTS.campaign_max_in_flight,
    campaign_cps: CampaignCpsOpt = _ENGINE_DEFAULTS.campaign_calls_per_second,
    lease_seconds: LeaseOpt = _ENGINE_DEFAULTS.lease_seconds,
    channels: ChannelsOpt = None,
    origination_log: OriginationLogOpt = None,
) -> None:
    """Run the dialing engine alone against the store (several may share one database)."""
    net = _network(network, speed, profile, seed, clock_anchor, channels, origination_log)
    limits = _engine_settings(max_calls, max_cps, campaign_max_calls, campaign_cps, lease_seconds)
    settings = Settings.from_env(database)
    timer = make_timer(net)
    container = build(settings, clock=timer)
    runtime = build_engine(container, net, limits, timer)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with runtime.running():
            await stop.wait()

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    typer.echo(f"dialer worker {runtime.engine.worker} on {settings.database_url}", err=True)
    try:
        asyncio.run(main())
    finally:
        container.close()
    stats = runtime.engine.stats
    typer.echo(
        json.dumps(
            {
                "worker": runtime.engine.worker,
                "originated": stats.originated,
                "recorded": stats.recorded,
                "recovered": stats.recovered,
            }
        ),
        err=True,
    )


@app.command()
def simulate(
    numbers: Annotated[int, typer.Option("--numbers", help="Destinations to call")] = 10_000,
    profile: ProfileOpt = None,
    speed: SpeedOpt = "max",
    seed: SeedOpt = 0,
    max_calls: MaxCallsOpt = _ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = 1000.0,
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Keep the SQLite store at this path")
    ] = None,
) -> None:
    """Run a whole campaign on the simulated network (throwaway SQLite) and summarise it."""
    from dialer import simulation
    from dialer.presentation import print_summary, progress_bar

    if not 1 <= numbers <= 1_000_000:
        _fail("--numbers must be between 1 and 1,000,000")
    net = _network("sim", speed, profile, seed, None)
    limits = _engine_settings(max_calls, max_cps, max_calls, max_cps, 60.0)
    with tempfile.TemporaryDirectory(prefix="dialer-sim-") as scratch:
        path = keep or Path(scratch) / "simulation.db"
        if path.exists():
            _fail(f"{path} exists; give --keep a new file")
        try:
            sim = simulation.prepare(path, numbers, net, limits)
        except DialerError as exc:
            _fail(str(exc))
        try:
            with progress_bar(numbers) as update:
                elapsed = asyncio.run(simulation.run(sim, update))
            print_summary(sim, elapsed)
        finally:
            sim.container.close()


@app.command("migrate")
def migrate_command(database: DatabaseOpt = None) -> None:
    """Apply any pending schema migrations."""
    try:
        applied = migrate_database(Settings.from_env(database))
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    _print({"applied": applied})


@tenant_app.command("create")
def tenant_create(
    name: str,
    region: Annotated[str, typer.Option(help="ISO region for national numbers")] = "GB",
    timezone: Annotated[str, typer.Option(help="IANA time zone of the tenant")] = "Europe/London",
    calling_hours: Annotated[
        str, typer.Option(help="When callees may be rung, in their own zone (HH:MM-HH:MM)")
    ] = "08:00-21:00",
    database: DatabaseOpt = None,
) -> None:
    """Create a tenant; prints its id and API key (shown only this once)."""
    with _container(database) as c:
        tenant, key = c.tenants.create(name, region, timezone, calling_hours)
        _print({"id": tenant.id, "api_key": key})


TenantOpt = Annotated[int, typer.Option("--tenant", help="Tenant id")]


@callflow_app.command("create")
def callflow_create(
    file: Annotated[Path, typer.Argument(help="YAML or JSON call flow ('-' for stdin)")],
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="Name of the call flow")],
    database: DatabaseOpt = None,
) -> None:
    """Add a call flow from a file; prints its id."""
    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
    with _container(database) as c:
        record = c.catalog.add_callflow(c.tenants.get(TenantId(tenant)), name, text)
        _print({"id": record.id})


@cli_app.command("create")
def cli_create(number: str, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Add a caller ID; prints its id."""
    with _container(database) as c:
        cli = c.catalog.add_cli(c.tenants.get(TenantId(tenant)), number)
        _print({"id": cli.id, "number": cli.number})


@agent_app.command("create")
def agent_create(
    member: Annotated[str, typer.Argument(help="SIP extension code, e.g. SIPSIP1")],
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="Display name")],
    database: DatabaseOpt = None,
) -> None:
    """Add an agent; prints its id."""
    with _container(database) as c:
        agent = c.catalog.add_agent(c.tenants.get(TenantId(tenant)), member, name)
        _print({"id": agent.id, "member": agent.member})


@queue_app.command("create")
def queue_create(name: str, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Add a queue; prints its id (setQueueForMonitoring)."""
    with _container(database) as c:
        _print({"id": c.catalog.add_queue(c.tenants.get(TenantId(tenant)), name).id})


NumbersArg = Annotated[list[str], typer.Argument(help="Numbers, national or international")]


@dnc_app.command("add")
def dnc_add(numbers: NumbersArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Put numbers on the do-not-call list."""
    with _container(database) as c:
        change = c.dnc.add(c.tenants.get(TenantId(tenant)), numbers)
        _print({"added": change.changed, "alreadyListed": change.unchanged})


@dnc_app.command("remove")
def dnc_remove(numbers: NumbersArg, tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Take numbers off the do-not-call list."""
    with _container(database) as c:
        change = c.dnc.remove(c.tenants.get(TenantId(tenant)), numbers)
        _print({"removed": change.changed, "notListed": change.unchanged})


@dnc_app.command("import")
def dnc_import(
    file: Annotated[
        Path, typer.Argument(help="One number per line ('#' comments; CSV: first column)")
    ],
    tenant: TenantOpt,
    database: DatabaseOpt = None,
) -> None:
    """Add every number in a file; refuses the whole file if any line is not a number."""
    try:
        lines = file.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {file}: {exc}")
    numbers = [
        line.split(",", 1)[0].strip().strip('"')
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]
    with _container(database) as c:
        change = c.dnc.add(c.tenants.get(TenantId(tenant)), numbers, label="line")
        _print({"added": change.changed, "alreadyListed": change.unchanged})


@campaign_app.command("create")
def campaign_create(
    file: Annotated[Path, typer.Argument(help="A campaign as the REST API's POST body (JSON)")],
    tenant: TenantOpt,
    kind: Annotated[
        str | None, typer.Option("--type", help="ivr or agent (overrides the file's 'type')")
    ] = None,
    database: DatabaseOpt = None,
) -> None:
    """Create a campaign from a JSON file; prints its id and Dialer API code."""
    try:
        body = json.loads(file.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        _fail(f"cannot read {file}: {exc}")
    if kind is not None and isinstance(body, dict):
        body = {k: v for k, v in body.items() if k.lower() != "type"} | {"type": kind}
    with _container(database) as c:
        detail = c.campaigns.create(c.tenants.get(TenantId(tenant)), body)
        _print({"id": detail.campaign.id, "code": detail.campaign.code})


@webhook_app.command("set")
def webhook_set(
    url: Annotated[str, typer.Argument(help="http(s) URL to POST results to")],
    tenant: TenantOpt,
    database: DatabaseOpt = None,
) -> None:
    """Register or replace the webhook; prints its signing secret (shown only this once)."""
    with _container(database) as c:
        webhook, secret = c.webhooks.register(c.tenants.get(TenantId(tenant)), url)
        _print({"url": webhook.url, "secret": secret})


@webhook_app.command("remove")
def webhook_remove(tenant: TenantOpt, database: DatabaseOpt = None) -> None:
    """Stop delivering to the webhook; undelivered results are dropped."""
    with _container(database) as c:
        c.webhooks.remove(c.tenants.get(TenantId(tenant)))
        _print({"removed": True})


def main() -> None:
    app()
