"""Settings from flags and environment variables, with the embedded defaults."""

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dialer.domain.sms import SmppSettings
from dialer.domain.sms_settings import HttpSmsSettings

DEFAULT_DATABASE_URL = "sqlite:///dialer.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    # A 250,000-number campaign with names and two parameters is about 35 MB of JSON.
    max_body_bytes: int = 64 * 1024 * 1024
    max_numbers_per_request: int = 250_000
    # Lists at least this long are normalised on all cores (a 1,000-call AddCallsBulk is).
    parallel_parse_threshold: int = 500
    # Hosts and networks webhooks may go to although they are not public (docs/webhooks.md).
    webhook_allow: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, database_url: str | None = None, **overrides: object) -> "Settings":
        url = database_url or os.environ.get("DIALER_DATABASE_URL") or DEFAULT_DATABASE_URL
        if not overrides.get("webhook_allow"):
            overrides["webhook_allow"] = tuple(
                os.environ.get("DIALER_WEBHOOK_ALLOW", "").replace(",", " ").split()
            )
        return cls(database_url=url, **overrides)  # type: ignore[arg-type]


@dataclass(frozen=True)
class EngineSettings:
    """Limits and timings of one engine process; times are in the engine's clock."""

    # Calls on the network at once, and new calls per second, for this process ...
    max_in_flight: int = 200
    max_calls_per_second: float = 50.0
    # ... and, over every engine on the store, for each campaign (a campaign's Dialer API
    # MaximumCallers, when set, wins), each tenant and each trunk (None: no such limit).
    # Engines sharing a store should be given the same values (docs/engine.md, Limits).
    campaign_max_in_flight: int = 100
    campaign_calls_per_second: float = 25.0
    tenant_calls_per_second: float | None = None
    trunk: str = "sim"  # the name this engine's trunk limit is shared under
    trunk_calls_per_second: float | None = None
    ring_timeout_seconds: float = 30.0
    gather_timeout_seconds: float = 5.0
    # A claimed call is leased for this long and renewed at a third of it; an engine that
    # dies leaves leases that run out, and another engine records those calls as NoConnection.
    lease_seconds: float = 60.0
    claim_batch: int = 200
    # Real seconds an idle engine waits before looking again; new work committed through this
    # store (or, on PostgreSQL, by any process) wakes it at once.
    poll_seconds: float = 1.0
    # A call flow's play node reads <audio_dir>/<tenant id>/<file name> (docs/callflows.md).
    audio_dir: Path = Path("audio")
    # What an agent's phone shows when the engine calls it at log-in (docs/agents.md).
    agent_caller_id: str = "dialer"
    # The SMS outbox (docs/sms.md): how long a sender holds a claimed text (longer than a
    # provider's slowest answer), and how long a text with no answer waits for a receipt
    # before it is sent again. DIALER_SMS_LEASE_SECONDS and DIALER_SMS_GRACE_SECONDS.
    sms_lease_seconds: float = 120.0
    sms_grace_seconds: float = 600.0


@dataclass(frozen=True)
class SmsDefault:
    """The provider of texts whose tenant set none (``--sms``, docs/sms.md). ``none``: such
    texts fail, saying why (the default on --network sip, where the simulator would pretend)."""

    kind: str = "sim"  # sim | smpp | http | none
    smpp: SmppSettings | None = None
    http: HttpSmsSettings | None = None


@dataclass(frozen=True)
class NetworkSettings:
    """Which telephone network the engine dials on, and how its simulated time runs."""

    kind: str = "sim"  # "sim": the built-in simulated network; "sip": a carrier trunk
    speed: float | None = 1.0  # simulated seconds per real second; None: as fast as possible
    profile: Path | None = None  # a simulated-network profile; None: the UK-like default
    seed: int = 0
    channels: int | None = None  # the simulated network's capacity (congestion beyond it)
    origination_log: Path | None = None  # every call placed, one line each (crash tests)
    call_log: Path | None = None  # every call's claim, start and end (the limits test)
    # With a speed, the real instant at which simulated and real time agree; engines
    # sharing a database need the same anchor and speed.
    anchor: datetime | None = None
    sip: "SipSettings | None" = None  # the trunk, when kind is "sip"
    speech_cache: Path | None = None  # rendered speech kept across restarts (None: memory only)
    sms: SmsDefault = SmsDefault()  # texts of tenants with no SMS settings of their own


@dataclass(frozen=True)
class SipSettings:
    """The carrier trunk of ``--network sip`` (docs/sip.md); times are real seconds."""

    host: str = "127.0.0.1"  # the carrier's SIP proxy or SBC
    port: int = 5060
    transport: str = "udp"  # udp | tcp | tls
    from_user: str = "dialer"  # used when a call has no caller ID of its own
    from_domain: str | None = None  # None: the trunk host
    username: str | None = None  # digest credentials, when the trunk asks for them
    password: str | None = None
    codecs: tuple[str, ...] = ("pcmu", "pcma")
    dtmf_mode: str = "rtpevent"  # rtpevent (RFC 2833) | info | auto; received either way
    max_calls: int = 200  # calls up at once on this trunk, from this process
    calls_per_second: float = 20.0  # INVITEs per second: bursts of hundreds partly fail
    local_address: str | None = None  # the address to bind and route from (loopback needs it)
    # A ring timeout never ends a call sooner than this, whatever the campaign asks.
    min_ring_seconds: float = 15.0
    # No 1xx at all within this long: the carrier is not there (NoConnection).
    provisional_timeout_seconds: float = 5.0
