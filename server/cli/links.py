"""Helpers behind the CLI: loading events and printing where to go."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import segno
from rich.console import Console

from server.event.loader import IssuedTokens
from server.settings import Settings


def lan_address() -> str:
    """This machine's address on its local network (the one phones on the venue
    wifi reach), or 127.0.0.1 when it has none. Connecting a UDP socket sends
    nothing; it only asks the OS which interface would be used."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))
            address = str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"
    return address if not address.startswith("0.") else "127.0.0.1"


def print_links(console: Console, base_url: str, tokens: IssuedTokens, *, qr: bool = True) -> None:
    """Every page's URL, once (the database keeps only token hashes). One URL per
    line, never wrapped, so it can be copied or clicked from any terminal."""
    rows = [("phones (participants)", f"{base_url}/join   (code {tokens.code})")]
    rows.append(("big screen", f"{base_url}/screen?token={tokens.display}"))
    if len(tokens.languages) > 1:  # docs/accessibility.md, "Languages"
        rows.append(
            (
                f"big screen, {'/'.join(tokens.languages)} in turn",
                f"{base_url}/screen?token={tokens.display}&alternate=20",
            )
        )
        for lang in tokens.languages[1:]:
            rows.append((f"phones in {lang!r}", f"{base_url}/join?lang={lang}"))
    for key, token in tokens.site_displays.items():
        rows.append((f"screen at {key}", f"{base_url}/screen?token={token}"))
    rows.append(("producer", f"{base_url}/producer?token={tokens.producer}"))
    rows.append(("theme team", f"{base_url}/team?token={tokens.team}"))
    for number, token in sorted(tokens.tables.items())[:3]:
        rows.append((f"table {number} (browser)", f"{base_url}/t/{token}"))
    console.print("[bold]townhall — where to go[/]")
    width = max(len(who) for who, _ in rows)
    for who, url in rows:
        console.print(f"  {who:<{width}}  [link={url}]{url}[/link]", soft_wrap=True)
    if len(tokens.tables) > 3:
        console.print(f"  … and {len(tokens.tables) - 3} more table links in the links file")
    if qr:
        console.print(f"Phones: scan to join {base_url}/j/{tokens.code}")
        segno.make(f"{base_url}/j/{tokens.code}", error="l").terminal(compact=True)


def write_links_file(path: Path, base_url: str, tokens: IssuedTokens) -> None:
    lines = [
        f"phones: {base_url}/join (code {tokens.code})",
        f"screen: {base_url}/screen?token={tokens.display}",
        *(
            [
                f"screen taking turns in {'/'.join(tokens.languages)}: "
                f"{base_url}/screen?token={tokens.display}&alternate=20"
            ]
            if len(tokens.languages) > 1
            else []
        ),
        *(
            f"screen at {key} (its own figures; phones join at "
            f"{base_url}/j/{tokens.code}?site={key}): {base_url}/screen?token={tok}"
            for key, tok in tokens.site_displays.items()
        ),
        f"producer: {base_url}/producer?token={tokens.producer}",
        f"team: {base_url}/team?token={tokens.team}",
    ]
    lines += [
        f"table {n}: {base_url}/t/{tok}   "
        f"(terminal: townhall table --server {base_url} --token {tok})"
        for n, tok in sorted(tokens.tables.items())
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)


def links_document(base_url: str, tokens: IssuedTokens) -> dict[str, Any]:
    """Every role's link as data (``event load --links-json``): one entry per token
    with its page and its websocket, plus how phones join. docs/protocol.md,
    "The links file", describes it field by field."""
    ws_base = "ws" + base_url.removeprefix("http")  # http→ws, https→wss

    def entry(
        role: str,
        path: str,
        page: str,
        token: str,
        table: int | None = None,
        site: str | None = None,
    ) -> dict[str, Any]:
        return {
            "role": role,
            "table": table,
            "site": site,
            "token": token,
            "page": page,
            "websocket": f"{ws_base}/ws/{path}?token={token}",
        }

    links = [
        entry("display", "display", f"{base_url}/screen?token={tokens.display}", tokens.display),
        *(
            entry("display", "display", f"{base_url}/screen?token={tok}", tok, site=key)
            for key, tok in tokens.site_displays.items()
        ),
        entry(
            "producer", "producer", f"{base_url}/producer?token={tokens.producer}", tokens.producer
        ),
        entry("team", "team", f"{base_url}/team?token={tokens.team}", tokens.team),
        *(
            entry("table", "table", f"{base_url}/t/{tok}", tok, table=n)
            for n, tok in sorted(tokens.tables.items())
        ),
    ]
    return {
        "format": "townhall-links/1",
        "base_url": base_url,
        "event_id": tokens.event_id,
        "languages": tokens.languages,
        "phones": {
            "code": tokens.code,
            "page": f"{base_url}/join",
            "qr": f"{base_url}/j/{tokens.code}",
            "join_api": f"{base_url}/api/join",
            "websocket": f"{ws_base}/ws/phone?token=",
            "sites": {
                key: f"{base_url}/j/{tokens.code}?site={key}" for key in tokens.site_displays
            },
        },
        "links": links,
    }


def write_links_json(path: Path, base_url: str, tokens: IssuedTokens) -> None:
    path.write_text(json.dumps(links_document(base_url, tokens), indent=2) + "\n", "utf-8")
    path.chmod(0o600)  # tokens: as private as the text file


def write_links_files(
    console: Console, s: Settings, tokens: IssuedTokens, text: Path, as_json: Path | None
) -> None:
    """``event load``'s files: the text one always, the JSON one when asked."""
    write_links_file(text, s.base_url, tokens)
    console.print(f"all links written to {text}")
    if as_json is not None:
        write_links_json(as_json, s.base_url, tokens)
        console.print(f"links as JSON written to {as_json}")
    if not s.public_url:
        console.print(
            f"[yellow]note[/]: the links point at {s.base_url}; give --public-url with the "
            "address phones and laptops will use"
        )
