"""``townhall serve --demo``: the example event with a simulated room
(server/cli/simulation.py), kept in ``demo-data/`` so a restart carries on with the same
meeting and the same links (``--fresh`` starts over). Server logs go to a file, the
terminal ends with the table of links, and the links use the machine's LAN address
so a real phone on the same network can join."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from sqlmodel import select

from server.cli.links import lan_address, print_links, write_links_file
from server.cli.simulation import AUTOPILOT, EVENT_FILE, PHONES, SAMPLE, Simulation
from server.event.eventfile import load_event_file
from server.event.loader import IssuedTokens, load_event
from server.settings import Settings
from server.storage.db import Database
from server.storage.migrate import upgrade
from server.storage.models import Event
from server.storage.tokens import authenticate, issue
from server.web.app import create_app
from server.web.asgi import uvicorn_options
from server.web.logging_setup import file_log_config, install_redaction

__all__ = ["EVENT_FILE", "SAMPLE", "Simulation", "run_demo"]

DATA = Path("demo-data")


class DemoState:
    """What a restarted demo needs: the links (tokens are stored only as hashes, so
    they are kept here, private like links.txt) and whether a person took over."""

    def __init__(self, data: Path) -> None:
        self.path = data / "state.json"
        self.db = data / "demo.db"
        self.tokens: dict[str, Any] = {}
        self.autopilot = True

    def load(self) -> bool:
        if not self.path.exists() or not self.db.exists():
            return False
        saved = json.loads(self.path.read_text(encoding="utf-8"))
        self.tokens, self.autopilot = saved["tokens"], saved["autopilot"]
        return True

    def save(self) -> None:
        body = json.dumps({"tokens": self.tokens, "autopilot": self.autopilot}, indent=1)
        self.path.write_text(body, encoding="utf-8")
        self.path.chmod(0o600)

    def forget(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            self.db.with_name(self.db.name + suffix).unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


def run_demo(
    settings: Settings,
    db_url: str | None = None,
    *,
    fresh: bool = False,
    autopilot: bool = True,
    access_log: Path | None = None,
    data: Path = DATA,
) -> None:
    data.mkdir(exist_ok=True)
    state = DemoState(data)
    if fresh or db_url is not None:
        state.forget()
    update: dict[str, Any] = {"db_url": db_url or f"sqlite+aiosqlite:///{state.db}"}
    if settings.host in ("0.0.0.0", "") and not settings.public_url:
        # Listening on every interface: phones on the LAN use this machine's address.
        update["public_url"] = f"http://{lan_address()}:{settings.port}"
    settings = settings.model_copy(update=update)
    log_file = access_log or data / "server.log"
    install_redaction()  # before the first log line: URLs carry tokens
    logging.captureWarnings(True)  # library warnings go to the log file, not the terminal
    asyncio.run(_main(settings, data, state, autopilot, log_file))


async def _prepare(settings: Settings, state: DemoState) -> tuple[bool, dict[str, Any]]:
    """The demo meeting, resumed if demo-data/ holds it with working links, else
    loaded afresh. Returns (resumed, tokens)."""
    await asyncio.to_thread(upgrade, settings.db_url)
    db = Database(settings.db_url)
    try:
        if state.load() and await _still_valid(db, state.tokens):
            return True, state.tokens
        spec = load_event_file(EVENT_FILE)
        async with db.session() as s:
            if (await s.exec(select(Event).where(Event.slug == spec.slug))).first() is not None:
                raise SystemExit(  # a --db that already has the event but no saved links
                    f"{settings.db_url} already holds the demo event but its links are lost; "
                    "run serve --demo --fresh (or without --db) to start over"
                )
        issued = await load_event(db, spec)
        async with db.session() as s:
            pilot = await issue(s, issued.event_id, "producer", label=AUTOPILOT)
            await s.commit()
        state.tokens = _tokens_dict(issued) | {"autopilot": pilot, "phones": {}}
        state.autopilot = True
        state.save()
        return False, state.tokens
    finally:
        await db.dispose()


async def _still_valid(db: Database, tokens: dict[str, Any]) -> bool:
    try:
        async with db.session() as s:
            await authenticate(s, tokens["producer"], "producer")
    except Exception:
        return False
    return True


def _tokens_dict(t: IssuedTokens) -> dict[str, Any]:
    return {
        "event_id": t.event_id,
        "code": t.code,
        "producer": t.producer,
        "team": t.team,
        "display": t.display,
        "tables": {str(k): v for k, v in t.tables.items()},
        "site_displays": t.site_displays,
        "languages": t.languages,
    }


def issued_tokens(tokens: dict[str, Any]) -> IssuedTokens:
    return IssuedTokens(
        event_id=tokens["event_id"],
        code=tokens["code"],
        producer=tokens["producer"],
        team=tokens["team"],
        display=tokens["display"],
        tables={int(k): v for k, v in tokens["tables"].items()},
        site_displays=tokens["site_displays"],
        languages=tokens["languages"],
    )


async def _main(
    settings: Settings, data: Path, state: DemoState, autopilot: bool, log_file: Path
) -> None:
    console = Console()
    resumed, tokens = await _prepare(settings, state)
    options = uvicorn_options(settings) | {
        "log_config": file_log_config(log_file, settings.log_level)
    }
    options["access_log"] = True  # into the file only (file_log_config), tokens redacted
    server = uvicorn.Server(uvicorn.Config(create_app(settings), **options))  # type: ignore[arg-type]
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            return
        await asyncio.sleep(0.05)
    local = f"http://127.0.0.1:{settings.port}"  # the simulation stays on this machine

    async def step_aside() -> None:
        state.autopilot = False
        state.save()
        console.print(
            "[yellow]A person acted in the producer console: the autopilot stepped aside.[/]"
        )

    pilot = autopilot and state.autopilot
    spec = load_event_file(EVENT_FILE)
    sim = Simulation(
        local,
        issued_tokens(tokens),
        pace=settings.demo_pace,
        sites=[(site.key, site.tables) for site in spec.sites],
        autopilot=pilot,
        autopilot_token=tokens["autopilot"],
        phones=tokens["phones"],
        on_step_aside=step_aside,
        on_phone_joined=state.save,
    )
    tasks = [asyncio.create_task(c) for c in sim.coroutines()]
    _print_start(console, settings, data, tokens, resumed, pilot, autopilot, log_file)
    try:
        await serving
    finally:
        for t in tasks:
            t.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)
        console.print(
            "Demo stopped. [bold]make demo[/] carries on with this meeting; "
            "[bold]townhall serve --demo --fresh[/] starts over."
        )


def _print_start(
    console: Console,
    settings: Settings,
    data: Path,
    tokens: dict[str, Any],
    resumed: bool,
    pilot: bool,
    asked: bool,
    log_file: Path,
) -> None:
    """Everything the person starting the demo needs, ending with the links."""
    base = settings.base_url
    issued = issued_tokens(tokens)
    write_links_file(data / "links.txt", base, issued)
    how = (
        "Resumed the demo meeting from demo-data/ (--fresh starts over)"
        if resumed
        else ("Started a new demo meeting in demo-data/")
    )
    console.print(
        f"[bold green]{how}[/]: {len(issued.tables)} simulated tables and {PHONES} phones."
    )
    if pilot:
        console.print(
            "A simulated producer (autopilot) runs the agenda until you act in the "
            "producer console."
        )
    elif asked:
        console.print("Autopilot: off (a person took the controls in this meeting).")
    console.print(
        f"Server log: {log_file}. Report: the producer console's link, or "
        "townhall report riverton-budget --out report.html"
    )
    print_links(console, base, issued)
    console.print(f"All links in {data / 'links.txt'}. Ctrl+C stops.")
