"""The command line: serve, migrate, tenant, callflow, cli. Thin: parse, call a service, print."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from dialer.bootstrap import Container, build, migrate_database
from dialer.domain.errors import DialerError, NotFound, ValidationFailed
from dialer.domain.ids import TenantId
from dialer.settings import Settings

app = typer.Typer(help="dialer: outbound voice campaigns.", no_args_is_help=True)
tenant_app = typer.Typer(help="Tenants and their API keys.", no_args_is_help=True)
callflow_app = typer.Typer(help="A tenant's call flows.", no_args_is_help=True)
cli_app = typer.Typer(help="A tenant's caller IDs (CLIs).", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(callflow_app, name="callflow")
app.add_typer(cli_app, name="cli")

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


@app.command()
def serve(
    database: DatabaseOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8080,
) -> None:
    """Migrate the store, then serve the APIs."""
    import uvicorn

    settings = Settings.from_env(database, host=host, port=port)
    container = build(settings, parallel=True)
    try:
        container.warm_up()
        typer.echo(
            f"dialer serving on http://{host}:{port} (docs at /docs), store {settings.database_url}"
        )
        uvicorn.run(container.app(), host=host, port=port, log_level="info")
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
    database: DatabaseOpt = None,
) -> None:
    """Create a tenant; prints its id and API key (shown only this once)."""
    with _container(database) as c:
        tenant, key = c.tenants.create(name, region, timezone)
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


def main() -> None:
    app()
