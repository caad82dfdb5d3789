"""The commands that dial: serve (APIs and engine), worker (engine alone), simulate."""

import asyncio
import json
import logging
import signal
import subprocess
from dataclasses import replace
from typing import Annotated

import typer

from dialer.bootstrap import build, build_engine, make_timer, refuse_memory
from dialer.cli import DatabaseOpt, _fail, app, http_workers, logs, metrics_dir, redaction
from dialer.cli import limit_options as lo
from dialer.cli import sip_options as so
from dialer.cli.engine_options import (
    ENGINE_DEFAULTS,
    AnchorOpt,
    AudioDirOpt,
    CampaignCallsOpt,
    CampaignCpsOpt,
    ChannelsOpt,
    LeaseOpt,
    MaxCallsOpt,
    MaxCpsOpt,
    NetworkOpt,
    OriginationLogOpt,
    ProfileOpt,
    RingOpt,
    SeedOpt,
    SpeedOpt,
    engine_settings,
    network_settings,
)
from dialer.cli.listening import AddressInUse, Listeners, open_listeners
from dialer.cli.sms_check import report_texts_without_provider
from dialer.cli.sms_options import SmsOpt, sms_default
from dialer.cli.webhooks import WebhookAllowOpt, allow_list, serve_webhook_allow
from dialer.clocks import RealTimer, VirtualTimer
from dialer.settings import EngineSettings, NetworkSettings, Settings


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
    max_calls: MaxCallsOpt = ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = ENGINE_DEFAULTS.max_calls_per_second,
    campaign_max_calls: CampaignCallsOpt = ENGINE_DEFAULTS.campaign_max_in_flight,
    campaign_cps: CampaignCpsOpt = ENGINE_DEFAULTS.campaign_calls_per_second,
    tenant_cps: lo.TenantCpsOpt = None,
    trunk_name: lo.TrunkOpt = None,
    trunk_cps: lo.TrunkCpsOpt = None,
    lease_seconds: LeaseOpt = ENGINE_DEFAULTS.lease_seconds,
    ring_timeout: RingOpt = ENGINE_DEFAULTS.ring_timeout_seconds,
    audio_dir: AudioDirOpt = ENGINE_DEFAULTS.audio_dir,
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
    sms: SmsOpt = None,
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
    net = network_settings(
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
    try:
        net = replace(net, sms=sms_default(sms, network))
    except ValueError as exc:
        _fail(str(exc))
    limits = engine_settings(
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
        if runtime is not None and not api_copy:
            report_texts_without_provider(container, net, log)
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
    max_calls: MaxCallsOpt = ENGINE_DEFAULTS.max_in_flight,
    max_cps: MaxCpsOpt = ENGINE_DEFAULTS.max_calls_per_second,
    campaign_max_calls: CampaignCallsOpt = ENGINE_DEFAULTS.campaign_max_in_flight,
    campaign_cps: CampaignCpsOpt = ENGINE_DEFAULTS.campaign_calls_per_second,
    tenant_cps: lo.TenantCpsOpt = None,
    trunk_name: lo.TrunkOpt = None,
    trunk_cps: lo.TrunkCpsOpt = None,
    lease_seconds: LeaseOpt = ENGINE_DEFAULTS.lease_seconds,
    ring_timeout: RingOpt = ENGINE_DEFAULTS.ring_timeout_seconds,
    audio_dir: AudioDirOpt = ENGINE_DEFAULTS.audio_dir,
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
    sms: SmsOpt = None,
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
    net = network_settings(
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
    try:
        net = replace(net, sms=sms_default(sms, network))
    except ValueError as exc:
        _fail(str(exc))
    limits = engine_settings(
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
    report_texts_without_provider(container, net, log)
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
