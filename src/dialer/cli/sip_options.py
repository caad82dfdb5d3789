"""The ``--sip-*`` options of ``serve`` and ``worker``: the carrier trunk of ``--network sip``.

The digest password comes from the environment (DIALER_SIP_PASSWORD), never a flag: command
lines are visible to every user of the machine through ps.
"""

import os
from pathlib import Path
from typing import Annotated

import typer

from dialer.settings import SipSettings

PASSWORD_VARIABLE = "DIALER_SIP_PASSWORD"  # noqa: S105 (the name of a variable)
_DEFAULTS = SipSettings()
_TRANSPORTS = ("udp", "tcp", "tls")
_DTMF_MODES = ("rtpevent", "info", "auto")

TrunkOpt = Annotated[
    str | None,
    typer.Option("--sip-trunk", help="Carrier SIP proxy, HOST[:PORT] (--network sip)"),
]
TransportOpt = Annotated[str, typer.Option("--sip-transport", help="udp, tcp or tls")]
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--sip-from",
        help="USER[@DOMAIN] for calls without a caller ID (domain defaults to the trunk host)",
    ),
]
UsernameOpt = Annotated[
    str | None,
    typer.Option(
        "--sip-username",
        help=f"Digest user when the trunk challenges (password: {PASSWORD_VARIABLE})",
    ),
]
CodecsOpt = Annotated[str, typer.Option("--sip-codecs", help="Codec order, e.g. pcmu,pcma")]
DtmfOpt = Annotated[
    str, typer.Option("--sip-dtmf", help="How we send keys: rtpevent (RFC 2833), info or auto")
]
SipMaxCallsOpt = Annotated[
    int,
    typer.Option(
        "--sip-max-calls", help="Calls up at once on the trunk (one process holds 250 at most)"
    ),
]
SipCpsOpt = Annotated[float, typer.Option("--sip-cps", help="INVITEs per second on the trunk")]
LocalAddressOpt = Annotated[
    str | None,
    typer.Option("--sip-local-address", help="Local address to bind (needed for loopback)"),
]
MinRingOpt = Annotated[
    float, typer.Option("--min-ring-seconds", help="No ring timeout ends a call sooner")
]
SpeechCacheOpt = Annotated[
    Path | None, typer.Option("--speech-cache", help="Keep rendered speech in this directory")
]


def sip_settings(
    trunk: str | None,
    transport: str,
    from_: str | None,
    username: str | None,
    codecs: str,
    dtmf: str,
    max_calls: int,
    cps: float,
    local_address: str | None,
    min_ring: float,
) -> SipSettings | None:
    """The trunk's settings, or None when no trunk was given; raises ValueError when wrong."""
    if trunk is None:
        return None
    host, _, port_text = trunk.partition(":")
    if not host:
        raise ValueError("--sip-trunk needs a host")
    try:
        port = int(port_text) if port_text else _DEFAULTS.port
    except ValueError:
        raise ValueError(f"--sip-trunk port must be a number, got {port_text!r}") from None
    if not 0 < port < 65536:
        raise ValueError("--sip-trunk port must be 1-65535")
    if transport not in _TRANSPORTS:
        raise ValueError(f"--sip-transport must be one of {', '.join(_TRANSPORTS)}")
    if dtmf not in _DTMF_MODES:
        raise ValueError(f"--sip-dtmf must be one of {', '.join(_DTMF_MODES)}")
    if max_calls < 1 or cps <= 0 or min_ring < 0:
        raise ValueError("--sip-max-calls and --sip-cps must be positive")
    user, _, domain = (from_ or _DEFAULTS.from_user).partition("@")
    return SipSettings(
        host=host,
        port=port,
        transport=transport,
        from_user=user or _DEFAULTS.from_user,
        from_domain=domain or None,
        username=username,
        password=os.environ.get(PASSWORD_VARIABLE) or None,
        codecs=tuple(c.strip() for c in codecs.split(",") if c.strip()),
        dtmf_mode=dtmf,
        max_calls=max_calls,
        calls_per_second=cps,
        local_address=local_address,
        min_ring_seconds=min_ring,
    )
