"""The report's figures, checked against counts made here straight from the database."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from html import unescape

import pytest

from server.report.build import build_report
from server.storage.db import Database
from server.storage.event_store import UnknownEvent
from tests.support.eventgen import HOSTILE_COMMENT, RARE_SIZE, StoredMeeting


async def report(meeting: StoredMeeting, **kw: object) -> str:
    db = Database(meeting.url)
    try:
        return await build_report(db, meeting.gen.slug, **kw)  # type: ignore[arg-type]
    finally:
        await db.dispose()


def sql(meeting: StoredMeeting, query: str, *args: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(meeting.path) as con:
        return list(con.execute(query, args))


def section(html: str, ident: str) -> str:
    start = html.index(f'id="{ident}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def poll_article(html: str, key: str) -> str:
    start = html.index(f'id="poll-{key}"')
    return html[start : html.index("</article>", start)]


async def test_report_has_every_section_and_a_snapshot_time(meeting: StoredMeeting) -> None:
    html = await report(meeting)
    assert html.startswith("<!doctype html>")
    for ident in (
        "summary",
        "themes",
        "polls",
        "demographics",
        "sites",
        "appendix-groups",
        "curation",
        "methods",
    ):
        assert f'id="{ident}"' in html
    # Local to the event (Europe/London: UTC+0 in November), in words, not ISO.
    stamp = re.search(
        r'Report as of <time datetime="(\d{4}-\d\d-\d\dT[\d:]+)\+00:00">'
        r"(\w+day, \w+ \d+, \d{4}, \d+:\d\d\s[AP]M)</time>",
        html,
    )
    assert stamp, "no plain local time"
    assert "Europe/London" in html[: html.index('id="themes"')]
    for (text,) in sql(meeting, "select text from question"):
        assert str(text) in section(html, "themes")
    assert "all-MiniLM-L6-v2" in section(html, "methods")


async def test_poll_counts_match_the_stored_votes(meeting: StoredMeeting) -> None:
    html = await report(meeting)
    for key in ("warmup", "top-priorities"):
        rows = sql(
            meeting,
            "select v.choice from vote v join poll p on p.id = v.poll_id where p.key = ?",
            key,
        )
        counts = Counter(k for (c,) in rows for k in json.loads(str(c)))
        art = poll_article(html, key)
        assert f"{len(rows)} voters" in art
        for option_key, label in sql(
            meeting,
            "select o.key, o.label from polloption o join poll p"
            " on p.id = o.poll_id where p.key = ?",
            key,
        ):
            # Each option's bar group in the chart prints its voters first.
            pattern = rf"<g><title>{re.escape(str(label))}</title>.*?>(\d+) · \d+%</text>"
            found = re.search(pattern, art, re.S)
            assert found, label
            assert int(found.group(1)) == counts[str(option_key)]
        assert art.count("<svg") == 1
        ess = re.search(r"effective sample (\d+) of (\d+)", art)
        if ess:  # shown when weighting changes the picture
            assert 0 < int(ess.group(1)) <= int(ess.group(2)) == len(rows)


async def test_representativeness_matches_an_independent_computation(
    meeting: StoredMeeting,
) -> None:
    html = await report(meeting)
    answers = Counter(
        str(k)
        for (k,) in sql(
            meeting,
            "select a.option_key from demographicanswer a join demographicquestion q "
            "on q.id = a.question_id where q.key = 'age' and a.option_key != 'prefer_not'",
        )
    )
    census = {
        str(k): float(str(v))
        for k, v in sql(
            meeting,
            "select o.key, o.census_share from demographicoption o join demographicquestion"
            " q on q.id = o.question_id where q.key = 'age'",
        )
    }
    n = sum(answers.values())
    tvd = 0.5 * sum(abs(answers[k] / n - census[k] / sum(census.values())) for k in census)
    demo = section(html, "demographics")
    shown = re.search(r"How old are you\? — (\d+)% alike the census", demo)
    assert shown and int(shown.group(1)) == round(100 * (1 - tvd))


async def test_sites_section_counts_comments_and_unknown_sites(meeting: StoredMeeting) -> None:
    html = await report(meeting)
    sites = section(html, "sites")
    (unknown,) = sql(meeting, "select count(*) from participant where site_id is null")[0]
    assert f"<strong>{unknown}</strong>" in sites
    for name, n in sql(
        meeting,
        "select s.name, count(*) from comment c join event_table t on "
        "t.id = c.table_id join site s on s.id = t.site_id group by s.name",
    ):
        row = re.search(rf'<th scope="row">{name}</th>(.*?)</tr>', sites, re.S)
        assert row
        cells = [int(x) for x in re.findall(r"<td>(\d+)</td>", row.group(1))]
        assert sum(cells[2:]) == n  # tables, participants, then comments per question


async def test_hostile_comment_text_is_shown_as_text(meeting: StoredMeeting) -> None:
    html = await report(meeting)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert HOSTILE_COMMENT in unescape(html)
    assert "<i>" not in section(html, "curation")  # curation JSON is escaped too


async def test_a_group_of_three_never_shows_its_count(meeting: StoredMeeting) -> None:
    html = await report(meeting)
    assert RARE_SIZE == 3
    for match in re.finditer(r'<th scope="row">Other</th>(.*?)</tr>', html, re.S):
        assert "suppressed" in match.group(1)
        assert f"<td>{RARE_SIZE}</td>" not in match.group(1)
    demo = section(html, "demographics")
    tenure = demo[demo.index("Do you rent or own your home?") :]
    assert re.search(r'<th scope="row">Other</th><td>suppressed</td><td>suppressed</td>', tenure)
    # With a smaller threshold, the same group is shown: the rule is doing the hiding.
    loose = await report(meeting, small_cell=2)
    tenure = section(loose, "demographics")
    tenure = tenure[tenure.index("Do you rent or own your home?") :]
    assert re.search(rf'<th scope="row">Other</th><td>{RARE_SIZE}</td>', tenure)


async def test_themes_show_publication_state_quotes_and_discards(meeting: StoredMeeting) -> None:
    html = await report(meeting)
    themes = section(html, "themes")
    q0 = themes[: themes.index('id="q-priorities-change"')]
    q1 = themes[themes.index('id="q-priorities-change"') :]
    assert "unreviewed" not in q0 and "published no themes" not in q0
    assert "The theme team published no themes for this question" in q1
    assert "Theme 0 of question 1" not in q1  # the machine's grouping is in the appendix
    appendix = section(html, "appendix-themes")
    assert "Theme 0 of question 1" in appendix and "Unreviewed" in appendix
    assert "Theme 0 of question 0" not in appendix
    (size,) = sql(
        meeting,
        "select count(*) from thememembership m join theme t on t.id = "
        "m.theme_id where t.key = 't0-0'",
    )[0]
    assert f'Theme 0 of question 0 <span class="count">{size} comments · ' in q0
    assert q0.count("<blockquote>") == 4 * 2
    methods = section(html, "methods")
    n_discarded = len(meeting.gen.discarded)
    assert f"{n_discarded} comments were set aside" in methods
    assert "off topic" in methods and "duplicate" in methods


async def test_unknown_event_lists_the_events_there_are(meeting: StoredMeeting) -> None:
    db = Database(meeting.url)
    try:
        with pytest.raises(UnknownEvent, match="riverton-budget"):
            await build_report(db, "no-such-event")
    finally:
        await db.dispose()
