"""``tenant compliance``: show or change a tenant's abandoned-call settings
(docs/compliance.md)."""

from typing import Annotated

import typer

from dialer.cli import DatabaseOpt, TenantOpt, _container, _fail, _print, tenant_app
from dialer.cli.compliance_options import (
    FalseMachineOpt,
    MessageOpt,
    OptOutKeyOpt,
    PerDayOpt,
    RecordingOpt,
    RegimeOpt,
    TargetOpt,
    compliance_body,
)
from dialer.domain.ids import TenantId
from dialer.services.compliance_input import compliance_json


@tenant_app.command("compliance")
def tenant_compliance(
    tenant: TenantOpt,
    regime: RegimeOpt = None,
    abandon_target: TargetOpt = None,
    info_message: MessageOpt = None,
    info_recording: RecordingOpt = None,
    no_info_message: Annotated[
        bool, typer.Option("--no-info-message", help="Remove the information message")
    ] = False,
    opt_out_key: OptOutKeyOpt = None,
    attempts_per_day: PerDayOpt = None,
    false_machine_rate: FalseMachineOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Show the tenant's abandoned-call settings, changing those given first."""
    body = compliance_body(
        regime,
        abandon_target,
        info_message,
        info_recording,
        opt_out_key,
        attempts_per_day,
        false_machine_rate,
    )
    if no_info_message:
        if "message" in body:
            _fail("give --no-info-message or a message, not both")
        body["message"] = None
    with _container(database) as c:
        tenant_id = c.tenants.get(TenantId(tenant)).id
        if body:
            settings = c.tenants.update_compliance(tenant_id, body)
        else:
            settings = c.tenants.compliance(tenant_id)
        _print(compliance_json(settings))
