"""`openvpp serve`, `openvpp db upgrade` and `openvpp keys create`: run the service, migrate its store, make
API keys (issue: the service; seed 001 §2.1 network-to-VPP API)."""

from __future__ import annotations

import os

import typer

from openvpp.cli.common import app, console, err_console, print_json

db_app = typer.Typer(help="The service's store: migrations.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of the service.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")

DB_OPTION = typer.Option(
    None,
    "--db",
    help="Database URL: sqlite:///path.db (default ./openvpp-data/openvpp.db) or postgresql://...",
)


@app.command("serve")
def serve(
    db: str | None = DB_OPTION,
    broker: str | None = typer.Option(
        None, "--broker", help="MQTT broker, mqtt://127.0.0.1:1883 (default: in-process)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="API worker processes (PostgreSQL for > 1)."
    ),
    dask: str | None = typer.Option(
        None, "--dask", help="Dask scheduler address for heavy jobs, tcp://host:8786."
    ),
    migrate: bool = typer.Option(True, "--migrate/--no-migrate", help="Upgrade the store before serving."),
) -> None:
    """Run the HTTP service (/v1 API, OpenADR 3.1 VTN, OpenAPI at /docs) with uvicorn."""
    import uvicorn

    from openvpp.errors import ValidationError
    from openvpp.platform.settings import ServiceSettings
    from openvpp.platform.store.db import is_postgres, upgrade

    settings = ServiceSettings.build(db_url=db, broker_url=broker, host=host, port=port, dask_address=dask)
    if workers > 1 and not is_postgres(settings.db_url):
        raise ValidationError(f"--workers {workers} needs a PostgreSQL --db; SQLite serves one worker")
    if migrate:
        upgrade(settings.db_url, schema=settings.db_schema)
    for field, value in settings.model_dump().items():
        if value is not None:
            os.environ[f"OPENVPP_{field.upper()}"] = str(value)
    err_console.print(
        f"OpenVPP service on http://{host}:{port} (store {settings.db_url.split('@')[-1]}, "
        f"{workers} worker(s)); OpenAPI at /docs"
    )
    uvicorn.run(
        "openvpp.platform.api.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_keep_alive=30,
    )


@db_app.command("upgrade")
def db_upgrade(db: str | None = DB_OPTION) -> None:
    """Create or migrate the store's tables to the newest revision."""
    from openvpp.platform.settings import ServiceSettings
    from openvpp.platform.store.db import upgrade

    settings = ServiceSettings.build(db_url=db)
    upgrade(settings.db_url, schema=settings.db_schema)
    console.print(f"store at {settings.db_url.split('@')[-1]} is up to date")


@keys_app.command("create")
def keys_create(
    tenant: str = typer.Option(..., "--tenant", help="Tenant name (created if new)."),
    role: str = typer.Option(..., "--role", help="dso or aggregator."),
    scope: list[str] = typer.Option(
        None, "--scope", help="Scope (repeat); default: every scope of the role."
    ),
    label: str | None = typer.Option(None, "--label", help="Free text kept with the key."),
    db: str | None = DB_OPTION,
    json_out: bool = typer.Option(False, "--json", help="Print the key and its grants as JSON."),
) -> None:
    """Make an API key and print it once (only its SHA-256 is stored)."""
    from openvpp.platform.settings import ServiceSettings
    from openvpp.platform.store.db import make_engine, session_factory
    from openvpp.platform.store.keys import create_key

    settings = ServiceSettings.build(db_url=db)
    engine = make_engine(settings.db_url, schema=settings.db_schema)
    try:
        with session_factory(engine)() as session:
            made = create_key(session, tenant, role, list(scope) if scope else None, label)
            session.commit()
    finally:
        engine.dispose()
    rec = made.record
    if json_out:
        print_json(
            {
                "key": made.key,
                "key_id": rec.key_id,
                "tenant": rec.tenant_name,
                "role": rec.role,
                "scopes": sorted(rec.scopes),
            }
        )
        return
    console.print(
        f"tenant {rec.tenant_name} ({rec.role}), key id {rec.key_id}, scopes {' '.join(sorted(rec.scopes))}"
    )
    console.print("API key (shown once, store it now):")
    typer.echo(made.key)
