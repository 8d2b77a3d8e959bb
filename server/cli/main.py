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
from typing import Annotated

import typer
from rich.console import Console

from server.cli.followup import followup_app
from server.cli.options import DbOpt, LinksJsonOpt, PublicUrlOpt
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
app.command()(protocol)

console = Console(stderr=True, emoji=False)  # "file.toml:100:" is a line number, not :100:



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
) -> None:
    """Run the server (and, with --demo, a whole simulated meeting)."""
    if demo:
        # Deferred: start-up time (see the module docstring).
        from server.cli.demo import run_demo

        run_demo(_settings(host=host, port=port, hub_url=hub, embedder=embedder), db)
        return
    # Deferred: start-up time (see the module docstring).
    import uvicorn

    s = _settings(db_url=db, hub_url=hub, host=host, port=port, event_file=event, embedder=embedder)
    if workers == 1:
        # Deferred: start-up time (see the module docstring).
        from server.web.app import create_app
        from server.web.asgi import uvicorn_options

        uvicorn.run(create_app(s), **uvicorn_options(s))
        return
    _serve_many(s, workers)


def _serve_many(s: Settings, workers: int) -> None:
    """N uvicorn processes on one port plus one theming worker, all configured
    through the environment they inherit."""
    # Deferred: start-up time (see the module docstring).
    import uvicorn

    # Deferred: start-up time (see the module docstring).
    from server.storage.migrate import upgrade
    from server.web.asgi import uvicorn_options

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
        uvicorn.run("server.web.asgi:app", factory=True, workers=workers, **uvicorn_options(s))
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
    """Rehearse the voting load: join phones, open a poll, vote, and report ack and
    display latencies with sent/acked/duplicate/lost counts. Use on a rehearsal event."""
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
) -> None:
    """Theme comments for servers running as several processes (one of these per event)."""
    # Deferred: start-up time (see the module docstring).
    from server.themes.service import run_theming_service

    s = _settings(db_url=db, hub_url=hub, embedder=embedder)
    asyncio.run(run_theming_service(s))


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


@app.command()
def report(
    event: Annotated[str, typer.Argument(help="Event slug (or numeric id).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the HTML report.")] = Path(
        "report.html"
    ),
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Also print it to this PDF (needs Chromium).")
    ] = None,
    small_cell: Annotated[
        int, typer.Option(help="Suppress any group of fewer than this many people.")
    ] = 10,
    lang: Annotated[
        str | None, typer.Option(help="One of the event's languages (default: its first).")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Write the same-day report (one printable HTML file) from the data as of now."""
    # Deferred: start-up time (see the module docstring).
    from server.report.build import ReportError, build_report, report_pdf
    from server.storage.db import Database
    from server.storage.event_store import UnknownEvent

    s = _settings(db_url=db)

    async def go() -> None:
        database = Database(s.db_url)
        try:
            html = await build_report(database, event, small_cell=small_cell, lang=lang)
        finally:
            await database.dispose()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
        console.print(f"[green]report written[/] to {out}")
        if pdf is not None:
            await report_pdf(out, pdf)
            console.print(f"[green]PDF written[/] to {pdf}")

    try:
        asyncio.run(go())
    except (UnknownEvent, ReportError, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@app.command()
def export(
    event: Annotated[str, typer.Argument(help="Event slug (or numeric id).")],
    out: Annotated[Path, typer.Option("--out", help="Directory to write the files into.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv or json (event.json is always JSON).")
    ] = "csv",
    small_cell: Annotated[
        int, typer.Option(help="Blank a ballot's demographic if fewer share it than this.")
    ] = 10,
    db: DbOpt = None,
) -> None:
    """Export comments, themes, polls, anonymous ballots and the curation log (docs/exports.md)."""
    # Deferred: start-up time (see the module docstring).
    from server.report.export import export_event
    from server.storage.db import Database
    from server.storage.event_store import UnknownEvent

    if fmt not in ("csv", "json"):
        console.print(f"[red]--format must be csv or json, not {fmt!r}[/]")
        raise typer.Exit(2)
    s = _settings(db_url=db)

    async def go() -> list[Path]:
        database = Database(s.db_url)
        try:
            return await export_event(database, event, out, fmt, small_cell=small_cell)
        finally:
            await database.dispose()

    try:
        paths = asyncio.run(go())
    except (UnknownEvent, ValueError) as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    for path in paths:
        console.print(f"wrote {path}")


if __name__ == "__main__":
    app()

