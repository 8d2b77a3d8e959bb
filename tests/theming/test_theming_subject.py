"""Labels that name what the question is about (theming/subject.py): the
question's subject is found from the words its comments share with it, and a
candidate label that leaves it out is offered with it."""

from __future__ import annotations

import pytest

from theming.cache import CachedEmbedder
from theming.embed import HashingEmbedder
from theming.engine import ThemeEngine
from theming.model import Comment
from theming.naming import candidates
from theming.phrases import MAX_WORDS
from theming.subject import question_subject, subject_aliases, with_subject

HOMESCHOOLING = [
    "Homeschooling lets parents tailor lessons to their child",
    "Homeschooled children miss out on friends of their own age",
    "Parents are not teachers and cannot cover every subject",
    "Kids who are bullied at school are safer at home",
    "Homeschooling keeps children away from bullies",
    "Home schooling is not regulated, so children may fall behind",
]


def test_the_subject_is_the_question_phrase_most_comments_use() -> None:
    question = "Homeschooling should be banned (for)"
    assert question_subject(question, HOMESCHOOLING) == "Homeschooling"
    texts = [
        "capital punishment deters the worst crimes",
        "the capital punishment system kills innocent people",
        "capital crimes deserve the harshest sentence",
        "it costs more than life in prison",
    ]
    # Two words the comments use together win over one of them alone.
    assert question_subject("We should abolish capital punishment", texts) == "capital punishment"


def test_a_question_its_comments_do_not_name_has_no_subject() -> None:
    texts = ["More buses on the north side", "Fix the potholes first", "Keep the library open"]
    assert question_subject("What should change in Riverton?", texts) is None
    assert question_subject(None, texts) is None
    assert question_subject("Homeschooling should be banned", []) is None


def test_a_candidate_names_the_subject_once_and_within_eight_words() -> None:
    assert with_subject("Homeschooling", "Parents are not teachers") == (
        "Homeschooling: parents are not teachers"
    )
    # Already named (a plural or a longer word counts): kept as it is.
    assert with_subject("capital punishment", "Punishments should fit the crime") == (
        "Punishments should fit the crime"
    )
    assert with_subject("USA", "USA is a free country") == "USA is a free country"
    # An acronym keeps its capitals; too long with the subject: left out.
    assert with_subject("Homeschooling", "NASA courses are free online") == (
        "Homeschooling: NASA courses are free online"
    )
    long = "Parents cannot teach every subject well"
    assert len(long.split()) <= MAX_WORDS
    assert with_subject("Vow of celibacy", long) is None


def test_every_candidate_names_the_subject_unless_none_can() -> None:
    named = candidates(HOMESCHOOLING, "Homeschooling")
    assert named and all("homeschool" in c.lower() for c in named), named
    assert "Homeschooling: parents are not teachers" in named
    # No phrase leaves room for a long subject: the phrases as cut.
    plain = candidates(HOMESCHOOLING[2:3], "Mandatory military service for adults")
    assert plain == candidates(HOMESCHOOLING[2:3])


def test_engine_labels_name_the_question_subject() -> None:
    engine = ThemeEngine(HashingEmbedder(dim=256))
    engine.question = "Homeschooling should be banned (for)"
    engine.add([Comment(str(i), t) for i, t in enumerate(HOMESCHOOLING * 2)])
    engine.retheme()
    engine.refresh_labels()
    labels = [t.label for t in engine.themes.values()]
    assert labels and all("homeschool" in label.lower() for label in labels), labels


def test_a_condition_is_not_given_the_subject_before_its_if() -> None:
    assert with_subject("Homeschooling", "If parents feel they are best placed") is None


@pytest.mark.model
def test_another_name_the_comments_give_the_subject_counts_as_naming_it(
    minilm: CachedEmbedder,
) -> None:
    """'capital punishment' is 'the death penalty' in many comments: a phrase
    naming it needs no 'Capital punishment:' before it; related words are not
    other names."""
    texts = [
        "the death penalty deters crime",
        "the death penalty is never justified",
        "capital punishment is cruel",
        "prisons cost less than the death penalty",
        "crime falls when punishment is certain",
        "crime is caused by poverty",
    ] * 5
    aliases = subject_aliases("capital punishment", texts, minilm.encode)
    assert "death penalty" in aliases
    assert "crime" not in aliases
    assert with_subject("capital punishment", "The death penalty deters crime", aliases) == (
        "The death penalty deters crime"
    )
    assert with_subject("capital punishment", "The death penalty deters crime") == (
        "Capital punishment: the death penalty deters crime"
    )
