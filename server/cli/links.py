"""Helpers behind the CLI: loading events and printing where to go."""

from __future__ import annotations

from pathlib import Path

import segno
from rich.console import Console

from server.event.loader import IssuedTokens


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
            [f"screen taking turns in {'/'.join(tokens.languages)}: "
             f"{base_url}/screen?token={tokens.display}&alternate=20"]
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
