"""Candidate labels cut from one comment (theming/phrases.py): whole phrases
of 3-8 words, in the comment's own words, naming what they speak of."""

from __future__ import annotations

import csv
import re

from tests.support.theming import ARGKP
from theming.phrases import _DANGLING, _UNRESOLVED, MAX_WORDS, MIN_WORDS, label_phrases


def test_it_after_we_should_stands_for_what_we_would_act_on() -> None:
    phrases = label_phrases("We should fund the bus service because it connects every district")
    assert "The bus service connects every district" in phrases
    assert not any(p.startswith(("We connects", "It ")) for p in phrases), phrases


def test_they_after_a_person_stands_for_the_plural_thing_acted_on() -> None:
    phrases = label_phrases("We should hire more crossing guards because they keep kids safe")
    assert "More crossing guards keep kids safe" in phrases
    people = label_phrases("People should vote on the budget because they pay the taxes")
    assert "People pay the taxes" in people


def test_the_thing_acted_on_is_not_guessed_after_keep_or_make() -> None:
    """'keep the pool open': "the pool open" is no subject for "it"."""
    phrases = label_phrases("We should keep the pool open because it is cheap to run")
    assert not any(p.lower().startswith("the pool open") for p in phrases), phrases


def test_a_second_reading_drops_hedges_but_not_a_just_answer() -> None:
    phrases = label_phrases("The new parking rules are really confusing")
    assert "The new parking rules are really confusing" in phrases
    assert "The new parking rules are confusing" in phrases
    fair = label_phrases("The only just answer is a public vote")
    assert "The only answer is a public vote" not in fair


def test_no_phrase_opens_on_a_pronoun_that_stands_for_nothing() -> None:
    phrases = label_phrases(
        "It could cost far too much money. This gives drivers a reason to speed. "
        "Then they would complain about noise."
    )
    assert not any(p.split()[0].lower() in _UNRESOLVED for p in phrases), phrases


def test_it_that_stands_for_nothing_is_not_given_a_subject() -> None:
    phrases = label_phrases("The pool is a good investment, and it would be a shame to close it")
    assert "The pool is a good investment" in phrases
    assert not any(p.startswith("The pool would be") for p in phrases), phrases


def test_a_cut_never_stops_on_a_word_that_needs_what_follows() -> None:
    right = label_phrases("Residents should have the right to vote on the budget")
    assert "Residents should have the right" not in right
    assert "Residents should have the right to vote" in right
    lead = label_phrases("Higher fares could lead to fewer riders on the bus")
    assert "Higher fares could lead" not in lead
    assert "Higher fares could lead to fewer riders" in lead


def test_the_point_of_a_sentence_may_start_inside_a_clause() -> None:
    assert "The buses never run on time" in label_phrases(
        "The problem is that the buses never run on time"
    )
    assert "Paid parking hurts small shops" in label_phrases(
        "Paid parking is unfair as it hurts small shops"
    )
    adverb = label_phrases("Rents downtown are so high families move away")
    assert not any(p.lower().startswith("high") for p in adverb), adverb


def test_phrases_of_the_argkp_comments_are_whole_and_in_their_own_words() -> None:
    """On 400 real comments: 3-8 words, never ending mid-phrase, never
    opening on a pronoun, every word taken from the comment itself."""
    with ARGKP.open(encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)][::9][:400]
    seen = 0
    for text in texts:
        own = {w.strip(",.;:!?\"'()").lower() for w in text.split()}
        for phrase in label_phrases(text):
            seen += 1
            words = phrase.split()
            assert MIN_WORDS <= len(words) <= MAX_WORDS, phrase
            assert words[-1].lower() not in _DANGLING, phrase
            assert words[0].lower() not in _UNRESOLVED, phrase
            foreign = [w for w in words if w.strip(",.;:!?\"'()").lower() not in own]
            assert not foreign, (phrase, text)
            assert not re.search(r"[,;:]$", phrase), phrase
    assert seen >= 600


def test_a_verb_is_not_cut_from_its_particle() -> None:
    """Seen on the team page: "Homeschooling: some kids get picked" named a
    theme about bullying."""
    phrases = label_phrases("some kids get picked on at school and homeschooling protects them")
    assert "Some kids get picked on at school" in phrases
    assert "Some kids get picked" not in phrases


def test_a_condition_is_not_offered_as_a_claim() -> None:
    """ "if the pool closed, kids would swim in the river" never says the pool
    closed: its condition keeps its "if", its consequence stands alone."""
    phrases = label_phrases("If the pool closed, kids would swim in the river")
    assert "Kids would swim in the river" in phrases
    assert "If the pool closed" in phrases
    assert not any(p.lower().startswith("the pool closed") for p in phrases), phrases
    while_open = label_phrases("The library is fine as long as the hours stay long")
    assert "The library is fine" in while_open
    assert not any("long" in p.lower() for p in while_open), while_open


def test_a_clause_that_lost_its_subject_to_the_split_gets_it_back() -> None:
    """Seen on the labels bench: "Marriage: is important for society"."""
    phrases = label_phrases("Marriage is old fashioned and is important for society")
    assert "Marriage is important for society" in phrases
    assert not any(p.split()[0].lower() in {"is", "can"} for p in phrases), phrases
    person = label_phrases("We should ban the cars downtown and can walk instead")
    assert not any(p.lower().startswith(("we can", "can ")) for p in person), person


def test_a_verb_keeps_the_to_its_object_needs() -> None:
    """Seen on the labels bench: "Celibacy allows a priest" (to focus on God)."""
    phrases = label_phrases("The new park allows local children to play in summer")
    assert "The new park allows local children" not in phrases
    assert "The new park allows local children to play" in phrases


def test_an_example_or_a_restriction_is_not_cut_from_its_point() -> None:
    """Seen on the labels bench: "Nuclear weapons: such as terrorist
    organizations", "Nuclear weapons are only safe" (if ...), "Prostitution is
    an unsafe industry that puts women" (in danger)."""
    example = label_phrases("Buses are crowded, such as the number 9 at rush hour")
    assert example == ["Buses are crowded"]
    because_of = label_phrases("Fares should fall because of the cost of living")
    assert not any(p.startswith("Of ") for p in because_of), because_of
    only = label_phrases("The bridge is only safe if trucks stay off it")
    assert not any(p.lower().startswith("the bridge is only safe") for p in only), only
    puts = label_phrases("The crossing is a hazard that puts children in danger every day")
    assert "The crossing is a hazard that puts children" not in puts
    assert "The crossing is a hazard" in puts


def test_an_aside_does_not_split_its_sentence() -> None:
    """Seen on the labels bench: "Sex selection (for non medical reasons) is
    unethical" gave only "For non medical reasons"."""
    phrases = label_phrases("Paid parking (outside the centre) hurts small shops")
    assert "Paid parking hurts small shops" in phrases
    assert not any("centre" in p for p in phrases), phrases


def test_a_verb_after_that_or_which_is_not_given_the_sentences_subject() -> None:
    """Seen on the labels bench: "Parents includes selecting the sex of their
    children", from "parents should plan their family and that includes ..."."""
    phrases = label_phrases("Residents should shape the budget and that includes the parks")
    assert not any(p.lower().startswith(("residents includes", "includes")) for p in phrases)
    assert "Residents should shape the budget" in phrases


def test_acting_keeps_what_it_is_acting_in() -> None:
    """ "not always acting | in the interest of the country" says nothing cut short."""
    phrases = label_phrases(
        "private military companies are not always acting in the interest of us"
    )
    assert not any(p.endswith("acting") for p in phrases), phrases


def test_a_choice_may_stop_before_what_is_chosen() -> None:
    phrases = label_phrases("parents should have the right to choose how to educate their children")
    assert "Parents should have the right to choose" in phrases
    # Not before any other word: "choose" still needs what follows it.
    other = label_phrases("parents should be able to choose the books in the library")
    assert not any(p.endswith("choose") for p in other), other


def test_a_contracted_pronoun_opens_no_phrase() -> None:
    """ "It's the best thing about this town" names nothing on a screen of its
    own, and "That's what ..." is not cut to "S what ..."."""
    phrases = label_phrases("The Riverwalk trail. I walk it daily and it's the best thing in town.")
    assert "The Riverwalk trail" in phrases
    assert not any(p.lower().startswith(("it's", "it’s")) for p in phrases), phrases
    assert label_phrases("That's what makes the town special") == []
    assert label_phrases("They’re the reason families stay here") == []


def test_no_cut_drops_who_a_person_is() -> None:
    phrases = label_phrases("Downtown businesses owned by people who live here")
    assert "Downtown businesses owned by people who live here" in phrases
    assert "Downtown businesses owned by people" not in phrases


def test_a_verb_keeps_its_to_after_a_longer_object() -> None:
    phrases = label_phrases("capital punishment allows for victims' families to get justice")
    assert not any(p.endswith("families") for p in phrases), phrases


def test_two_objects_of_one_verb_are_not_split_at_their_and() -> None:
    """ "allows priests | and nuns to concentrate": "The vow of celibacy allows
    priests" stops before what the verb needs."""
    phrases = label_phrases("the vow of celibacy allows priests and nuns to concentrate on others")
    assert not any(p.endswith("allows priests") for p in phrases), phrases


def test_a_subject_ends_before_a_negative_contraction() -> None:
    phrases = label_phrases("compulsory voting isn't fair because it forces people to the polls")
    assert "Compulsory voting forces people to the polls" in phrases, phrases


def test_an_object_that_points_back_at_another_sentence_names_nothing() -> None:
    """Seen on the demo's team page: a theme labelled "Protect that with safe
    streets". What "that" or "it" stands for is in the sentence before."""
    kids = label_phrases(
        "Kids can still ride their bikes to school and play outside. "
        "Protect that with safe streets."
    )
    assert "Kids can still ride their bikes to school" in kids
    assert not any(" that" in p for p in kids), kids
    pier = label_phrases("My kids fish off the old pier at Riverside Park. Keep it open and safe.")
    assert not any(p.startswith("Keep it") for p in pier), pier
    # A pronoun that stands for the sentence's own subject is still read as it, and
    # "that" or "these" before what they name stay.
    assert "Cannabis is natural" in label_phrases("Cannabis is safe and it is natural")
    assert "Programs that help families" in label_phrases("Programs that help families")
    assert "Save these trees on Elm" in label_phrases("Save these trees on Elm")


def test_a_clause_opened_by_so_keeps_its_verb() -> None:
    """The demo's team page showed "Curb ramps on every corner so people"."""
    phrases = label_phrases("Curb ramps on every corner so people in wheelchairs can get around")
    assert "Curb ramps on every corner" in phrases
    assert "Curb ramps on every corner so people" not in phrases
    assert "People in wheelchairs can get" not in phrases  # "get | around"
    phrases = label_phrases("Build more bike lanes so kids can ride to school safely")
    assert "Build more bike lanes so kids can ride" in phrases
    assert "The park is so beautiful" in label_phrases("The park is so beautiful in the spring")


def test_no_cut_after_an_adverb_or_mean_that_needs_what_follows() -> None:
    """Labels bench (ArgKP comments): "The act of flag burning is just" and
    "Subsidizing vocational education could mean" were candidates."""
    burning = label_phrases(
        "the act of flag burning is just about the most disgusting act a person can take part in."
    )
    assert not any(p.endswith(" just") for p in burning), burning
    subsidy = label_phrases(
        "subsidizing vocational education could mean that we have a steady supply of people"
        " into trades."
    )
    assert not any(p.endswith(" mean") for p in subsidy), subsidy
