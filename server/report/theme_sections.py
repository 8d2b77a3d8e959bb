"""The report's "What the tables said": the theme team's published themes, with their
quotes and the tables behind them; the machine's unpublished groupings set apart for
the appendix, marked as unreviewed."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from server.report.words import Words
from server.storage.event_store import EventData
from server.storage.models import Comment, Theme


@dataclass
class Quote:
    text: str
    where: str  # "Table 6 · Civic Hall"


@dataclass
class ThemeRow:
    key: str
    label: str
    question_key: str
    size: int
    quotes: list[Quote]
    tables: int  # how many tables raised it
    table_list: str  # "1–4, 6, 9"
    sites: list[tuple[str, int]]


@dataclass
class QuestionThemes:
    key: str
    text: str
    round: str
    comments: int
    unthemed: int
    discarded: int
    published: list[ThemeRow] = field(default_factory=list)
    unreviewed: list[ThemeRow] = field(default_factory=list)


def runs(numbers: list[int]) -> str:
    """1, 2, 3, 4, 6, 8, 9 -> "1–4, 6, 8–9"."""
    out: list[str] = []
    nums = sorted(set(numbers))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}–{nums[j]}")
        i = j + 1
    return ", ".join(out)


def _quotes(theme: Theme, members: list[Comment], by_id: dict[int, Comment]) -> list[Comment]:
    """The theme team's pinned quotes first, then the machine's, then any member."""
    chosen = [int(c) for c in json.loads(theme.quotes or "[]") if str(c).isdigit()]
    seen: dict[int, Comment] = {}
    for c in [*(by_id[i] for i in chosen if i in by_id), *members]:
        if c.id is not None and c.text.strip() not in {q.text.strip() for q in seen.values()}:
            seen[c.id] = c
    return list(seen.values())


def theme_sections(data: EventData, w: Words, quotes: int = 2) -> list[QuestionThemes]:
    """Per question, in agenda order: published themes and unreviewed ones, largest first."""
    _ = w.gettext
    by_id = {c.id: c for c in data.comments if c.id is not None}
    rounds = {r.id: w.text(r.title) for r in data.rounds}

    def where(c: Comment) -> tuple[int, str, str]:
        t = data.tables.get(c.table_id)
        site = data.sites.get(t.site_id) if t else None
        name = _("Table {n}", n=t.number) if t else _("a table")
        return (t.number if t else 0, name, w.text(site.name) if site else "")

    out = []
    for q in data.questions:
        comments = [c for c in data.comments if c.question_id == q.id]
        themes = [t for t in data.themes if t.question_id == q.id]
        themed = {c for t in themes for c in data.members.get(t.id or 0, [])}
        discarded = data.discarded.get(q.id or 0, {})
        section = QuestionThemes(
            key=q.key,
            text=w.text(q.text),
            round=rounds.get(q.round_id, ""),
            comments=len(comments),
            unthemed=sum(1 for c in comments if c.id not in themed and c.id not in discarded),
            discarded=len(discarded),
        )
        for t in themes:
            members = [by_id[c] for c in data.members.get(t.id or 0, []) if c in by_id]
            if not members:
                continue
            places = [where(c) for c in members]
            shown = _quotes(t, members, by_id)[: quotes if t.published else 1]
            row = ThemeRow(
                key=t.key,
                label=t.label,
                question_key=q.key,
                size=len(members),
                quotes=[Quote(c.text, " · ".join(x for x in where(c)[1:] if x)) for c in shown],
                tables=len({n for n, _, _ in places}),
                table_list=runs([n for n, _, _ in places]),
                sites=sorted(Counter(s for _, _, s in places if s).items()),
            )
            (section.published if t.published else section.unreviewed).append(row)
        for rows in (section.published, section.unreviewed):
            rows.sort(key=lambda r: (-r.size, r.label))
        out.append(section)
    return out
