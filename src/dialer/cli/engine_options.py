"""The options and settings the dialling commands share (serve, worker, simulate): what each
flag means, and the checks that turn them into the engine's and the network's settings."""

import math
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from dialer.cli import _fail
from dialer.settings import EngineSettings, NetworkSettings, SipSettings

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

ENGINE_DEFAULTS = EngineSettings()


def network_settings(
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


def engine_settings(
    max_calls: int,
    max_cps: float,
    campaign_calls: int,
    campaign_cps: float,
    lease: float,
    ring_timeout: float = ENGINE_DEFAULTS.ring_timeout_seconds,
    audio_dir: Path = ENGINE_DEFAULTS.audio_dir,
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
    defaults = ENGINE_DEFAULTS
    return replace(
        defaults,
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
        sms_lease_seconds=_env_seconds("DIALER_SMS_LEASE_SECONDS", defaults.sms_lease_seconds),
        sms_grace_seconds=_env_seconds("DIALER_SMS_GRACE_SECONDS", defaults.sms_grace_seconds),
    )


def _env_seconds(name: str, default: float) -> float:
    """The SMS outbox's timings (docs/sms.md), set only from the environment: tests shorten
    them; an operator rarely needs to."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not (math.isfinite(seconds) and seconds > 0):
        _fail(f"{name} takes a positive number of seconds; got {raw!r}")
    return seconds
