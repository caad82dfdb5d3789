"""At the start of ``dialer serve|worker --network sip`` with no ``--sms``: an error line for
each campaign whose texts would all fail for want of a provider (services/sms_readiness.py).
The process still starts (docs/sms.md says why)."""

import logging

import typer

from dialer.bootstrap import Container
from dialer.cli import logs
from dialer.services.sms_readiness import texting_without_provider
from dialer.settings import NetworkSettings

log = logging.getLogger("dialer.sms")


def report_texts_without_provider(
    container: Container, net: NetworkSettings, log_format: tuple[logs.LogFormat, str]
) -> int:
    """How many campaigns were named (0 unless this process dials real phones with no
    default provider)."""
    if net.kind != "sip" or net.sms.kind != "none":
        return 0
    found = texting_without_provider(container.store, container.clock.now())
    if found and log_format[0] == "json":  # every line on stderr is then an object
        logs.configure(*log_format)
    for campaign in found:
        if log_format[0] == "json":
            log.error(campaign.message())
        else:
            typer.echo(f"error: {campaign.message()}", err=True)
    return len(found)
