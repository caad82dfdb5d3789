"""The command line: migrate, tenant, callflow, cli, agent, queue, dnc, webhook, campaign; the
dialing commands are in cli/engine.py. Thin: parse, call a service, print."""

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dialer import __version__
from dialer.bootstrap import Container, build, migrate_database, refuse_memory
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
from dialer.cli.progress import import_progress
from dialer.domain.errors import DialerError, NotFound, ValidationFailed
from dialer.domain.ids import TenantId
from dialer.services.dnc_import import DncImporter
from dialer.settings import Settings

app = typer.Typer(
    help="dialer: outbound voice campaigns.", no_args_is_help=True, pretty_exceptions_enable=False
)
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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dialer {__version__}")
        raise typer.Exit


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """dialer: outbound voice campaigns."""


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
        settings = Settings.from_env(database)
        refuse_memory(settings, "what this command writes would be gone when it exits")
        container = build(settings)
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
    regime: RegimeOpt = None,
    abandon_target: TargetOpt = None,
    info_message: MessageOpt = None,
    info_recording: RecordingOpt = None,
    opt_out_key: OptOutKeyOpt = None,
    attempts_per_day: PerDayOpt = None,
    false_machine_rate: FalseMachineOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Create a tenant; prints its id and API key (shown only this once). The abandoned-call
    options are those of ``tenant compliance`` (docs/compliance.md)."""
    compliance = compliance_body(
        regime,
        abandon_target,
        info_message,
        info_recording,
        opt_out_key,
        attempts_per_day,
        false_machine_rate,
    )
    with _container(database) as c:
        tenant, key = c.tenants.create(name, region, timezone, calling_hours, compliance)
        _print({"id": tenant.id, "api_key": key})


TenantOpt = Annotated[int, typer.Option("--tenant", help="Tenant id")]


def _read_text(file: Path) -> str:
    """The file ('-': stdin) as UTF-8 text; one error line if it cannot be read or is not UTF-8.

    Bytes, then a strict decode: sys.stdin itself would turn bad bytes into surrogates that
    fail only later, far from the cause."""
    try:
        data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {file}: {exc.strerror or exc}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        name = "stdin" if str(file) == "-" else str(file)
        _fail(f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})")


@callflow_app.command("create")
def callflow_create(
    file: Annotated[Path, typer.Argument(help="YAML or JSON call flow ('-' for stdin)")],
    tenant: TenantOpt,
    name: Annotated[str, typer.Option(help="Name of the call flow")],
    database: DatabaseOpt = None,
) -> None:
    """Add a call flow from a file; prints its id."""
    text = _read_text(file)
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
        Path,
        typer.Argument(help="One number per line ('#' comments, a header line; CSV: 1st column)"),
    ],
    tenant: TenantOpt,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Import the good lines and report the bad ones (else refuse)"
        ),
    ] = False,
    database: DatabaseOpt = None,
) -> None:
    """Add every number in a file, of any size, in batches; refuses the whole file if any line
    is not a number, unless --skip-invalid."""
    try:
        size = file.stat().st_size
    except OSError as exc:
        _fail(f"cannot read {file}: {exc}")
    with _container(database) as c:
        owner = c.tenants.get(TenantId(tenant))
        importer = DncImporter(c.store, c.clock)
        with import_progress(size) as progress:
            if not skip_invalid:
                with progress.stage("checking") as advance:
                    importer.check(owner, _file_lines(file, advance))
            with progress.stage("importing") as advance:
                report = importer.run(owner, _file_lines(file, advance), skip_invalid=skip_invalid)
        _print(
            {
                "added": report.added,
                "alreadyListed": report.already_listed,
                "header": report.header,
                "skipped": report.skipped,
                "skippedLines": [{"line": b.line, "text": b.text} for b in report.skipped_lines],
            }
        )


def _file_lines(file: Path, advance: Callable[[int], None]) -> Iterator[str]:
    """The file's lines, decoded one at a time; ``advance`` hears how many bytes each took."""
    try:
        with file.open("rb") as stream:
            for number, raw in enumerate(stream, start=1):
                advance(len(raw))
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError:
                    _fail(f"{file}: line {number} is not UTF-8 text")
    except OSError as exc:
        _fail(f"cannot read {file}: {exc}")


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


def _usage_error(exc: typer.TyperException) -> int:
    """Click's usage errors (typer vendors click) as one line; returns the exit status."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    if not message and hasattr(exc, "show"):  # `dialer` alone: the help is the answer
        exc.show()
    else:
        ctx = getattr(exc, "ctx", None)
        hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        typer.echo(f"error: {message}{hint}", err=True)
    code = getattr(exc, "exit_code", 2)
    return code if isinstance(code, int) else 2


def main() -> None:
    try:
        status = app(standalone_mode=False)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        raise SystemExit(1) from None
    except typer.TyperException as exc:  # a wrong option or argument: one line, not a box
        raise SystemExit(_usage_error(exc)) from None
    except Exception as exc:  # the last resort: one line, never a traceback
        # Mistakes are caught where they happen, with a message saying what to change; this
        # is for what nobody foresaw, so the operator still gets one line and a status
        # (DIALER_TRACEBACK=1 shows the whole traceback, for a bug report).
        if os.environ.get("DIALER_TRACEBACK") == "1":
            raise
        typer.echo(f"error: {type(exc).__name__}: {exc}".splitlines()[0], err=True)
        raise SystemExit(2) from None
    if isinstance(status, int):  # typer.Exit(n) is returned, not raised, outside standalone mode
        raise SystemExit(status)


# Register serve, worker and simulate, and the catalog's list/show/delete commands, on the
# apps above; imported last, as they build on them.
from dialer.cli import agent_tokens as _agent_tokens  # noqa: E402, F401
from dialer.cli import catalog as _catalog  # noqa: E402, F401
from dialer.cli import compliance as _compliance  # noqa: E402, F401
from dialer.cli import engine as _engine  # noqa: E402, F401
from dialer.cli import simulate as _simulate  # noqa: E402, F401
from dialer.cli import webhooks as _webhooks  # noqa: E402, F401
