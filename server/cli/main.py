"""The one ``townhall`` command.

Each command imports what it runs inside its own function: ``townhall --help``
and a table laptop's ``townhall table`` would otherwise pay the whole server's
start-up time (over a second) before doing anything."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from server.cli.documents import export, report
from server.cli.followup import followup_app
from server.cli.options import (
    AccessLogOpt,
    AutopilotOpt,
    DbOpt,
    FreshOpt,
    LinksJsonOpt,
    PublicUrlOpt,
    ThemingInProcessOpt,
    console,
)
from server.cli.protocol import protocol
from server.settings import Settings

app = typer.Typer(
    help="townhall: run a large deliberative town meeting live.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
event_app = typer.Typer(help="Events: load an event file, check one.", no_args_is_help=True)
themes_app = typer.Typer(help="Theming of comments outside a live meeting.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(event_app, name="event")
app.add_typer(themes_app, name="themes")
app.add_typer(followup_app, name="followup")
app.command()(report)
app.command()(export)
app.command()(protocol)



def _settings(**overrides: object) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


@db_app.command("upgrade")
def db_upgrade(db: DbOpt = None) -> None:
    """Create or upgrade the database schema to the latest version."""
    # Deferred: start-up time (see the module docstring).
    from server.storage.migrate import upgrade

    s = _settings(db_url=db)
    upgrade(s.db_url)
    console.print(f"[green]database is up to date[/] ({s.db_url})")


@event_app.command("check")
def event_check(file: Annotated[Path, typer.Argument(help="Event TOML file.")]) -> None:
    """Validate an event file; errors point at the line to fix."""
    # Deferred: start-up time (see the module docstring).
    from server.event.eventfile import EventFileError, load_event_file

    try:
        spec = load_event_file(file)
    except EventFileError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(
        f"[green]ok[/]: {spec.title} — {len(spec.sites)} sites, {spec.table_count} tables, "
        f"{len(spec.rounds)} rounds, {len(spec.polls)} polls, "
        f"{len(spec.demographics)} demographic questions"
    )
    for lang, missing in spec.untranslated().items():
        if missing:
            console.print(
                f"[yellow]note[/]: {missing} texts have no {lang!r} version; "
                f"{lang!r} phones and screens show them in {spec.languages[0]!r}"
            )
        else:
            console.print(f"languages: every text is given in {lang!r} too")


@event_app.command("load")
def event_load(
    file: Annotated[Path, typer.Argument(help="Event TOML file.")],
    db: DbOpt = None,
    links: Annotated[
        Path, typer.Option(help="Where to write every role's link (kept private, mode 600).")
    ] = Path("links.txt"),
    links_json: LinksJsonOpt = None,
    public_url: PublicUrlOpt = None,
) -> None:
    """Load an event into the database and print the links for every role (shown once)."""
    # Deferred: start-up time (see the module docstring).
    from server.cli.links import print_links, write_links_files
    from server.event.eventfile import EventFileError, load_event_file
    from server.event.loader import load_event
    from server.storage.db import Database
    from server.storage.event_store import EventExists
    from server.storage.migrate import upgrade

    s = _settings(db_url=db, public_url=public_url)
    try:
        spec = load_event_file(file)
    except EventFileError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    upgrade(s.db_url)

    async def go() -> None:
        database = Database(s.db_url)
        try:
            tokens = await load_event(database, spec)
        finally:
            await database.dispose()
        print_links(Console(), s.base_url, tokens)
        write_links_files(console, s, tokens, links, links_json)

    try:
        asyncio.run(go())
    except EventExists as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="Run the example event with simulated tables and phones.")
    ] = False,
    event: Annotated[
        Path | None, typer.Option(help="Load this event file on start if not loaded.")
    ] = None,
    db: DbOpt = None,
    hub: Annotated[
        str | None, typer.Option(help="Hub URL: memory:// or redis://host:port.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    embedder: Annotated[str | None, typer.Option(help="minilm (default) or hashing.")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Server processes sharing the port. More than 1 needs --hub redis://… and "
            "starts one separate theming worker.",
        ),
    ] = 1,
    public_url: PublicUrlOpt = None,
    access_log: AccessLogOpt = None,
    fresh: FreshOpt = False,
    autopilot: AutopilotOpt = True,
    theming_in_process: ThemingInProcessOpt = False,
) -> None:
    """Run the server (and, with --demo, a whole simulated meeting)."""
    if demo:
        # Deferred: start-up time (see the module docstring).
        from server.cli.demo import run_demo

        # The demo listens on every interface so a phone on the same network can join.
        demo_settings = _settings(
            host=host or "0.0.0.0",
            port=port,
            hub_url=hub,
            embedder=embedder,
            public_url=public_url,
            tune_gc=True,
        )
        run_demo(demo_settings, db, fresh=fresh, autopilot=autopilot, access_log=access_log)
        return
    s = _settings(
        db_url=db,
        hub_url=hub,
        host=host,
        port=port,
        event_file=event,
        embedder=embedder,
        public_url=public_url,
        tune_gc=True,  # a server process of its own (server/web/collector.py)
        theming_process=False if theming_in_process else None,
    )
    _serve(s, workers, access_log)


def _serve(s: Settings, workers: int, access_log: Path | None) -> None:
    # Deferred: start-up time (see the module docstring).
    import uvicorn

    # Deferred too: start-up time.
    from server.web.asgi import uvicorn_options
    from server.web.logging_setup import file_log_config, install_redaction

    options = uvicorn_options(s)
    if access_log is not None:
        install_redaction()
        options |= {"log_config": file_log_config(access_log, s.log_level), "access_log": True}
    if workers == 1 and s.theming and s.theming_process and s.hub_url.startswith("memory"):
        # Deferred: start-up time (see the module docstring).
        from server.cli.theming_process import serve_with_theming_process

        serve_with_theming_process(s, options)
        return
    if workers == 1:
        # Deferred: start-up time (see the module docstring).
        from server.web.app import create_app

        uvicorn.run(create_app(s), **options)
        return
    _serve_many(s, workers, options)


def _serve_many(s: Settings, workers: int, options: dict[str, Any]) -> None:
    """N uvicorn processes on one port plus one theming worker, all configured
    through the environment they inherit."""
    # Deferred: start-up time (see the module docstring).
    import uvicorn

    # Deferred: start-up time (see the module docstring).
    from server.storage.migrate import upgrade

    if not s.hub_url.startswith("redis"):
        console.print("[red]--workers above 1 needs a shared hub: add --hub redis://HOST:6379[/]")
        raise typer.Exit(2)
    upgrade(s.db_url)  # once, before the workers race to do it
    if s.event_file is not None:
        asyncio.run(_load_once(s))
        s = s.model_copy(update={"event_file": None})
    env = s.as_env()
    env.pop("TOWNHALL_ALLOWED_ORIGINS", None)
    os.environ.update(env)
    theming = None
    if s.theming:
        theming = subprocess.Popen([sys.executable, "-m", "server.cli", "theming-worker"])
    os.environ["TOWNHALL_THEMING"] = "false"
    try:
        uvicorn.run("server.web.asgi:app", factory=True, workers=workers, **options)
    finally:
        if theming is not None:
            theming.terminate()
            theming.wait(10)


async def _load_once(s: Settings) -> None:
    # Deferred: start-up time (see the module docstring).
    from server.cli.links import print_links
    from server.event.loader import ensure_event_loaded
    from server.storage.db import Database

    assert s.event_file is not None
    database = Database(s.db_url)
    try:
        tokens = await ensure_event_loaded(database, s.event_file)
    finally:
        await database.dispose()
    if tokens is not None:
        print_links(Console(), s.base_url, tokens)


@app.command()
def loadtest(
    server: Annotated[str, typer.Option(help="Server base URL, e.g. http://127.0.0.1:8000")],
    code: Annotated[str, typer.Option(help="The event code phones join with.")],
    producer_token: Annotated[str, typer.Option(help="Producer token (opens the poll).")],
    display_token: Annotated[str, typer.Option(help="Display token (the watching screens).")],
    phones: Annotated[int, typer.Option(min=1, help="Phones to join and connect.")] = 500,
    votes: Annotated[int, typer.Option(min=1, help="Votes to send (one per phone at most).")] = 500,
    window: Annotated[float, typer.Option(help="Seconds over which the votes are spread.")] = 10.0,
    displays: Annotated[int, typer.Option(help="Screens watching the tally.")] = 10,
    poll: Annotated[
        str | None, typer.Option(help="Poll key to open (default: first single).")
    ] = None,
) -> None:
    """Rehearse the voting load on a rehearsal event: phones join, vote, and report.

    Joins the phones, opens a poll, sends the votes, and reports ack and display
    latencies with sent/acked/duplicate/lost counts."""
    # Deferred: start-up time (see the module docstring).
    from server.cli.loadtest import join_many, run_load

    console.print(f"joining {phones} phones…")
    tokens = join_many(server.rstrip("/"), code, phones)

    async def go() -> None:
        result = await run_load(
            server.rstrip("/"),
            producer_token=producer_token,
            display_token=display_token,
            phone_tokens=tokens,
            votes=votes,
            window=window,
            displays=displays,
            poll_key=poll,
            progress=lambda m: console.print(m),
        )
        for line in result.summary():
            Console().print(line)
        if result.lost or result.errors:
            raise typer.Exit(1)

    asyncio.run(go())


@app.command("theming-worker")
def theming_worker(
    db: DbOpt = None,
    hub: Annotated[str | None, typer.Option(help="Hub URL (redis://host:port).")] = None,
    embedder: Annotated[str | None, typer.Option(help="minilm (default) or hashing.")] = None,
    parent_pid: Annotated[
        int | None,
        typer.Option(hidden=True, help="Stop when this process (serve, which started us) ends."),
    ] = None,
) -> None:
    """Theme comments for servers running as several processes (one of these per event)."""
    # Deferred: start-up time (see the module docstring).
    from server.themes.service import run_theming_service
    from server.web.logging_setup import configure

    s = _settings(db_url=db, hub_url=hub, embedder=embedder)
    configure(s.log_level)  # its log lines, redacted, beside the web process's
    asyncio.run(run_theming_service(s, parent=parent_pid))


@themes_app.command("suggest")
def themes_suggest(
    comments: Annotated[Path, typer.Argument(help="CSV with columns id,text (others ignored).")],
    json_out: Annotated[Path, typer.Option("--json", help="Where to write the themes JSON.")],
    question: Annotated[str | None, typer.Option(help="The question (labels avoid it).")] = None,
    quiet: Annotated[bool, typer.Option(help="No progress on stderr.")] = False,
) -> None:
    """Group comments into themes without being told how many."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Deferred: start-up time (see the module docstring).
    from theming.suggest import main

    raise typer.Exit(main(comments, json_out, show_progress=not quiet, question=question))


@app.command()
def table(
    server: Annotated[str, typer.Option(help="Server base URL, e.g. http://10.0.0.5:8000")],
    token: Annotated[
        str,
        typer.Option(
            envvar="TOWNHALL_TABLE_TOKEN",
            help="This table's token (from the facilitator link; or $TOWNHALL_TABLE_TOKEN).",
        ),
    ],
    outbox: Annotated[
        Path | None, typer.Option(help="Local outbox file (default: per user).")
    ] = None,
    replay: Annotated[
        Path | None, typer.Option(help="Send the comments of this CSV (column text) and exit.")
    ] = None,
) -> None:
    """The facilitator's client: type comments; they are kept until the server has them."""
    # Deferred: start-up time (see the module docstring).
    from table_client.cli import run_table

    raise typer.Exit(run_table(server, token, outbox, replay))


if __name__ == "__main__":
    app()

