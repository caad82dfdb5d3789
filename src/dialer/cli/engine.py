"""The commands that dial: serve (APIs and engine), worker (engine alone), simulate."""

import asyncio
import json
import logging
import math
import signal
import subprocess
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from dialer.bootstrap import build, build_engine, make_timer, refuse_memory
from dialer.cli import DatabaseOpt, _fail, app, http_workers, logs, metrics_dir, redaction
from dialer.cli import limit_options as lo
from dialer.cli import sip_options as so
from dialer.cli.listening import AddressInUse, Listeners, open_listeners
from dialer.cli.webhooks import WebhookAllowOpt, allow_list, serve_webhook_allow
from dialer.clocks import RealTimer, VirtualTimer
from dialer.domain.errors import DialerError
from dialer.settings import EngineSettings, NetworkSettings, Settings, SipSettings

NetworkOpt = Annotated[
    str, typer.Option("--network", help="Telephone network: sim (built in) or sip (a carrier)")
]
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
    int,
    typer.Option("--campaign-max-calls", help="Calls in flight per campaign, over every engine"),
]
CampaignCpsOpt = Annotated[
    float,
    typer.Option("--campaign-cps", help="New calls per second per campaign, over every engine"),
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
RingOpt = Annotated[
    float, typer.Option("--ring-timeout", help="Seconds a call may ring before we give up")
]
AudioDirOpt = Annotated[
    Path,
    typer.Option("--audio-dir", help="Audio files of play nodes, as <dir>/<tenant id>/<name>.wav"),
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
    sip: SipSettings | None = None,
    speech_cache: Path | None = None,
    call_log: Path | None = None,
) -> NetworkSettings:
    if network not in ("sim", "sip"):
        _fail(f"unknown network {network!r}; this build dials on: sim, sip")
    if network == "sip" and sip is None:
        _fail("--network sip needs --sip-trunk HOST[:PORT]")
    if network == "sip" and speed != "1":
        _fail("--network sip dials real phones: --speed must be 1")
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
        call_log=call_log,
        anchor=None if anchor is None else datetime.fromtimestamp(anchor, UTC),
        sip=sip,
        speech_cache=speech_cache,
    )


def _engine_settings(
    max_calls: int,
    max_cps: float,
    campaign_calls: int,
    campaign_cps: float,
    lease: float,
    ring_timeout: float = _ENGINE_DEFAULTS.ring_timeout_seconds,
    audio_dir: Path = _ENGINE_DEFAULTS.audio_dir,
    shared: tuple[float | None, str, float | None] = (None, "sim", None),
) -> EngineSettings:
    if min(max_calls, campaign_calls) < 1 or min(max_cps, campaign_cps, lease, ring_timeout) <= 0:
        _fail("call limits, rates, the lease and the ring timeout must be positive")
    tenant_cps, trunk, trunk_cps = shared
    # Kept in the store as whole calls per window (domain/limits.py): a number, and finite.
    for rate in (campaign_cps, tenant_cps, trunk_cps):
        if rate is not None and not (math.isfinite(rate) and rate > 0):
            _fail("--campaign-cps, --tenant-cps and --trunk-cps must be positive numbers")
    if not trunk.strip():
        _fail("--trunk needs a name")
    return replace(
        _ENGINE_DEFAULTS,
        max_in_flight=max_calls,
        max_calls_per_second=max_cps,
        campaign_max_in_flight=campaign_calls,
        campaign_calls_per_second=campaign_cps,
        lease_seconds=lease,
        ring_timeout_seconds=ring_timeout,
        audio_dir=audio_dir,
        tenant_calls_per_second=tenant_cps,
        trunk=trunk,
        trunk_calls_per_second=trunk_cps,
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
    workers: Annotated[
        int,
        typer.Option("--workers", help="Processes answering the APIs (the first one also dials)"),
    ] = 1,
    api_copy: Annotated[bool, typer.Option("--api-copy", hidden=True)] = False,
    listen_fd: Annotated[int | None, typer.Option("--listen-fd", hidden=True)] = None,
    network: NetworkOpt = "sim",
    speed: SpeedOpt = "1",
    profile: ProfileOpt = None,
    seed: SeedOpt = 0,
    clock_anchor: AnchorOpt = None,
    max_calls: MaxCallsOpt = _ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = _ENGINE_DEFAULTS.max_calls_per_second,
    campaign_max_calls: CampaignCallsOpt = _ENGINE_DEFAULTS.campaign_max_in_flight,
    campaign_cps: CampaignCpsOpt = _ENGINE_DEFAULTS.campaign_calls_per_second,
    tenant_cps: lo.TenantCpsOpt = None,
    trunk_name: lo.TrunkOpt = None,
    trunk_cps: lo.TrunkCpsOpt = None,
    lease_seconds: LeaseOpt = _ENGINE_DEFAULTS.lease_seconds,
    ring_timeout: RingOpt = _ENGINE_DEFAULTS.ring_timeout_seconds,
    audio_dir: AudioDirOpt = _ENGINE_DEFAULTS.audio_dir,
    channels: ChannelsOpt = None,
    origination_log: OriginationLogOpt = None,
    call_log: lo.CallLogOpt = None,
    sip_trunk: so.TrunkOpt = None,
    sip_transport: so.TransportOpt = "udp",
    sip_from: so.FromOpt = None,
    sip_username: so.UsernameOpt = None,
    sip_codecs: so.CodecsOpt = "pcmu,pcma",
    sip_dtmf: so.DtmfOpt = "rtpevent",
    sip_max_calls: so.SipMaxCallsOpt = 200,
    sip_cps: so.SipCpsOpt = 20.0,
    sip_local_address: so.LocalAddressOpt = None,
    min_ring_seconds: so.MinRingOpt = 15.0,
    speech_cache: so.SpeechCacheOpt = None,
    webhook_allow: WebhookAllowOpt = None,
    log_format: logs.LogFormatOpt = "text",
    log_level: logs.LogLevelOpt = "info",
) -> None:
    """Migrate the store, then serve the APIs and run the dialing engine."""
    try:
        log = logs.checked(log_format, log_level)
    except ValueError as exc:
        _fail(str(exc))
    try:
        trunk = so.sip_settings(
            sip_trunk,
            sip_transport,
            sip_from,
            sip_username,
            sip_codecs,
            sip_dtmf,
            sip_max_calls,
            sip_cps,
            sip_local_address,
            min_ring_seconds,
        )
    except ValueError as exc:
        _fail(str(exc))
    net = _network(
        network,
        speed,
        profile,
        seed,
        clock_anchor,
        channels,
        origination_log,
        trunk,
        speech_cache,
        call_log,
    )
    limits = _engine_settings(
        max_calls,
        max_cps,
        campaign_max_calls,
        campaign_cps,
        lease_seconds,
        ring_timeout,
        audio_dir,
        lo.shared(tenant_cps, trunk_name, trunk_cps, trunk),
    )
    if not 1 <= workers <= 64:
        _fail("--workers must be between 1 and 64")
    settings = Settings.from_env(
        database, host=host, port=port, webhook_allow=serve_webhook_allow(webhook_allow)
    )
    if api_copy:
        if listen_fd is None:
            _fail("--api-copy is started by dialer serve --workers, with its socket")
        listeners = Listeners([http_workers.inherited_socket(listen_fd)])
    else:
        listeners = _listen(host, port, workers)
    try:
        # Before anything imports prometheus_client: it picks its mode then (docs/metrics.md).
        with metrics_dir.shared(workers > 1 and not api_copy):
            _serve(settings, listeners, net, limits, engine, workers, api_copy, access_log, log)
    finally:
        listeners.close()


def _listen(host: str, port: int, workers: int) -> Listeners:
    try:
        return open_listeners(host, port, workers)
    except AddressInUse:
        _fail(f"{host}:{port} is already in use")
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def _serve(
    settings: Settings,
    listeners: Listeners,
    net: NetworkSettings,
    limits: EngineSettings,
    engine: bool,
    workers: int,
    api_copy: bool,
    access_log: bool,
    log: tuple[logs.LogFormat, str],
) -> None:
    timer = make_timer(net)
    # A copy started by --workers shares its parent's store, already migrated.
    try:
        refuse_memory(settings, "no command could add a tenant to what dialer serve holds")
        container = build(settings, clock=timer, parallel=True, apply_migrations=not api_copy)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    children: list[subprocess.Popen[bytes]] = []
    try:
        try:
            runtime = build_engine(container, net, limits, timer) if engine else None
        except ValueError as exc:
            _fail(str(exc))
        background = runtime.running if runtime is not None else None
        app = container.app(background, runtime.problem if runtime is not None else None)
        container.warm_up()
        sock, *others = listeners.sockets
        if api_copy:
            http_workers.die_with_parent()
            http_workers.run(app, sock, access_log, log)
            return
        host, port = settings.host, listeners.port
        children = http_workers.spawn(others, host, port, settings.database_url, access_log, log)
        for other in others:  # each copy holds its own; a dead copy's must not linger here
            other.close()
        typer.echo(
            f"dialer serving on http://{host}:{port} (docs at /docs),"
            f" store {redaction.redact(settings.database_url)}"
            + (f", dialing on the {net.kind} network at speed {_speed(net)}" if engine else "")
            + (f", {workers} API processes" if workers > 1 else "")
        )
        _print_clock(timer)
        http_workers.run(app, sock, access_log, log)
    finally:
        http_workers.stop(children)
        container.close()


def _print_clock(timer: RealTimer | VirtualTimer) -> None:
    """Under --speed N the service's time is not the wall clock: say where it is anchored, so
    a restart (or a second engine) can carry on the same simulated time."""
    if isinstance(timer, RealTimer) and timer.speed != 1.0:
        anchor = timer.anchor.timestamp()
        typer.echo(
            f"clock: speed {timer.speed:g}, anchored at {timer.anchor.isoformat()}; simulated"
            f" time now {timer.now().isoformat()}; to carry on the same time after a restart,"
            f" add --speed {timer.speed:g} --clock-anchor {anchor:.6f}"
        )


def _speed(net: NetworkSettings) -> str:
    return "max" if net.speed is None else f"{net.speed:g}"


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
    tenant_cps: lo.TenantCpsOpt = None,
    trunk_name: lo.TrunkOpt = None,
    trunk_cps: lo.TrunkCpsOpt = None,
    lease_seconds: LeaseOpt = _ENGINE_DEFAULTS.lease_seconds,
    ring_timeout: RingOpt = _ENGINE_DEFAULTS.ring_timeout_seconds,
    audio_dir: AudioDirOpt = _ENGINE_DEFAULTS.audio_dir,
    channels: ChannelsOpt = None,
    origination_log: OriginationLogOpt = None,
    call_log: lo.CallLogOpt = None,
    sip_trunk: so.TrunkOpt = None,
    sip_transport: so.TransportOpt = "udp",
    sip_from: so.FromOpt = None,
    sip_username: so.UsernameOpt = None,
    sip_codecs: so.CodecsOpt = "pcmu,pcma",
    sip_dtmf: so.DtmfOpt = "rtpevent",
    sip_max_calls: so.SipMaxCallsOpt = 200,
    sip_cps: so.SipCpsOpt = 20.0,
    sip_local_address: so.LocalAddressOpt = None,
    min_ring_seconds: so.MinRingOpt = 15.0,
    speech_cache: so.SpeechCacheOpt = None,
    webhook_allow: WebhookAllowOpt = None,
    log_format: logs.LogFormatOpt = "text",
    log_level: logs.LogLevelOpt = "info",
    metrics_port: Annotated[
        int | None,
        typer.Option("--metrics-port", help="Serve this worker's /metrics on this port"),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="Address of --metrics-port")
    ] = "127.0.0.1",
) -> None:
    """Run the dialing engine alone against the store (several may share one database)."""
    try:
        log = logs.checked(log_format, log_level)
    except ValueError as exc:
        _fail(str(exc))
    try:
        trunk = so.sip_settings(
            sip_trunk,
            sip_transport,
            sip_from,
            sip_username,
            sip_codecs,
            sip_dtmf,
            sip_max_calls,
            sip_cps,
            sip_local_address,
            min_ring_seconds,
        )
    except ValueError as exc:
        _fail(str(exc))
    net = _network(
        network,
        speed,
        profile,
        seed,
        clock_anchor,
        channels,
        origination_log,
        trunk,
        speech_cache,
        call_log,
    )
    limits = _engine_settings(
        max_calls,
        max_cps,
        campaign_max_calls,
        campaign_cps,
        lease_seconds,
        ring_timeout,
        audio_dir,
        lo.shared(tenant_cps, trunk_name, trunk_cps, trunk),
    )
    settings = Settings.from_env(database, webhook_allow=allow_list(webhook_allow))
    timer = make_timer(net)
    try:
        refuse_memory(settings, "a dialer worker cannot share it; use dialer serve")
        container = build(settings, clock=timer)
    except (ValueError, OSError) as exc:
        _fail(str(exc))
    try:
        runtime = build_engine(container, net, limits, timer)
    except ValueError as exc:
        container.close()
        _fail(str(exc))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with runtime.running():
            await stop.wait()

    logs.configure(*log)
    stop_metrics = None
    if metrics_port is not None:
        try:
            stop_metrics = container.metrics.serve(metrics_host, metrics_port)
        except OSError as exc:
            container.close()
            _fail(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc.strerror or exc}")
    store = redaction.redact(settings.database_url)
    if log[0] == "json":  # every line on stderr is then an object
        logging.getLogger("dialer.worker").info("worker %s on %s", runtime.engine.worker, store)
    else:
        typer.echo(f"dialer worker {runtime.engine.worker} on {store}", err=True)
    _print_clock(timer)
    try:
        asyncio.run(main())
    finally:
        if stop_metrics is not None:
            stop_metrics()
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
