"""The report shows the paired shift and the per-table synthesis check."""

from __future__ import annotations

import asyncio
import json
import uuid

from sqlalchemy import insert
from sqlmodel import select

from server.report.build import build_report
from server.storage.db import Database
from server.storage.models import (
    DemographicAnswer,
    DemographicQuestion,
    Evaluation,
    EvaluationAnswer,
    EvaluationQuestion,
    Participant,
    Poll,
    Vote,
)
from tests.support.example import load_example


async def _fill(db: Database) -> None:
    async with db.session() as s:
        polls = {p.key: p for p in (await s.exec(select(Poll))).all()}
        ages = select(DemographicQuestion).where(DemographicQuestion.key == "age")
        age = (await s.exec(ages)).one()
        qs = {q.key: q.id for q in (await s.exec(select(EvaluationQuestion))).all()}
        survey = (await s.exec(select(Evaluation))).one()
        survey.status = "closed"
        s.add(survey)
        conn = await s.connection()
        # 26 people: 12 aged 16-29 move from 2 to 4, 12 aged 45-64 and 2 aged 30-44
        # stay at 3 (30-44 is under 10: suppressed, with the next smallest group).
        people = [
            {"id": i, "event_id": polls["warmup"].event_id, "table_number": 1 + i % 4}
            for i in range(1, 27)
        ]
        await conn.execute(insert(Participant), people)
        votes, demo, evals = [], [], []
        for i in range(1, 27):
            group = "16-29" if i <= 12 else "45-64" if i <= 24 else "30-44"
            before, after = ("2", "4") if group == "16-29" else ("3", "3")
            for key, v in (("trust-before", before), ("trust-after", after)):
                votes.append(
                    {
                        "poll_id": polls[key].id,
                        "participant_id": i,
                        "choice": json.dumps([v]),
                        "seq": 1,
                        "client_id": str(uuid.uuid4()),
                    }
                )
            demo.append(
                {
                    "participant_id": i,
                    "question_id": age.id,
                    "option_key": group,
                    "client_id": str(uuid.uuid4()),
                }
            )
            # Table 2 (i % 4 == 1) finds the themes did not reflect its views.
            evals.append(
                {
                    "participant_id": i,
                    "question_id": qs["themes"],
                    "value": 1 if i % 4 == 1 else 4,
                    "client_id": str(uuid.uuid4()),
                }
            )
        await conn.execute(insert(Vote), votes)
        await conn.execute(insert(DemographicAnswer), demo)
        await conn.execute(insert(EvaluationAnswer), evals)
        await s.commit()


def test_report_shows_the_shift_by_group_and_the_flagged_table(db_url: str) -> None:
    load_example(db_url)

    async def go() -> str:
        db = Database(db_url)
        try:
            await _fill(db)
            return await build_report(db, "riverton-budget", small_cell=10)
        finally:
            await db.dispose()

    html = asyncio.run(go())
    shift = html.split('id="shift-trust"', 1)[1].split("</article>", 1)[0]
    assert "26 people answered both times" in shift
    # Mean: 12 people +2, 14 people 0 -> +24/26 = +0.92
    assert "+0.92" in shift
    # "4": before 0, after 12 of 26 = 46%, +46 pts
    assert "<td>46%</td>" in shift and "+46 pts" in shift
    # By group, in the appendix: 30-44 has 2 people, so it and the next-smallest group
    # (16-29, 12 people) are suppressed; 45-64 (12 people) is shown.
    groups = html.split('id="appendix-groups"', 1)[1].split("</section>", 1)[0]
    changes = groups.split("change among people who answered both times", 1)[1]
    by_age = changes.split("By How old are you?", 1)[1].split("</table>", 1)[0]
    assert '<tr class="suppressed"><th scope="row">30–44</th><td>suppressed</td>' in by_age
    assert '<tr class="suppressed"><th scope="row">16–29</th><td>suppressed</td>' in by_age
    assert '<th scope="row">45–64</th><td>12</td>' in by_age
    evaluation = html.split('id="evaluation"', 1)[1].split("</section>", 1)[0]
    assert "26 participants answered" in evaluation
    assert "Flagged tables:" in evaluation
    flagged = evaluation.split('class="flagged"', 1)[1].split("</tr>", 1)[0]
    assert "Table 2" in flagged and "1.00" in flagged
    minds = html.split('id="summary-minds"', 1)[1].split("</section>", 1)[0]
    assert "Did minds change?" in minds and '<a href="#shift-trust">' in minds
