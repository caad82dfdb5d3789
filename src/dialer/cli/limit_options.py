"""The options of ``serve`` and ``worker`` for the limits every engine shares (docs/engine.md,
Limits), and the simulated network's call log that the limits test reads."""

from pathlib import Path
from typing import Annotated

import typer

from dialer.settings import SipSettings

TenantCpsOpt = Annotated[
    float | None,
    typer.Option("--tenant-cps", help="New calls per second per tenant, over every engine"),
]
TrunkOpt = Annotated[
    str | None,
    typer.Option(
        "--trunk",
        help="Name under which engines share --trunk-cps (default: the SIP trunk's"
        " HOST:PORT, or sim)",
    ),
]
TrunkCpsOpt = Annotated[
    float | None,
    typer.Option("--trunk-cps", help="New calls per second on this trunk, over every engine"),
]
CallLogOpt = Annotated[
    Path | None,
    typer.Option(
        "--call-log", help="Append each simulated call's claim, start and end times (testing)"
    ),
]


def shared(
    tenant_cps: float | None, trunk: str | None, trunk_cps: float | None, sip: SipSettings | None
) -> tuple[float | None, str, float | None]:
    """The limits engines share, with the trunk named after the carrier's address by default."""
    if trunk is None:
        trunk = "sim" if sip is None else f"{sip.host}:{sip.port}"
    return tenant_cps, trunk, trunk_cps
