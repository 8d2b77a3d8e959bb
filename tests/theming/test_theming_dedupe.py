from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from theming.dedupe import duplicate_leaders, same_text_key
from theming.embed import HashingEmbedder


def test_same_words_are_duplicates_whatever_the_case_and_punctuation() -> None:
    texts = ["More parks, please!", "fix potholes", "more parks please", "MORE PARKS. PLEASE"]
    leaders = duplicate_leaders(texts, HashingEmbedder(dim=64).encode(texts))
    assert leaders == [0, 1, 0, 0]


def test_near_identical_vectors_are_duplicates_but_distinct_ones_are_not() -> None:
    base = np.eye(4, dtype=np.float32)
    vectors = np.stack([base[0], base[1], base[0] * 0.99 + base[2] * 0.05])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert duplicate_leaders(["a", "b", "c"], vectors) == [0, 1, 0]


def test_same_text_key_keeps_words() -> None:
    assert same_text_key("  Hello,   World! ") == "hello world"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.sampled_from(["parks", "Parks!", "buses", "rent", "more buses"]), max_size=30))
def test_every_row_has_an_earlier_leader_that_leads_itself(texts: list[str]) -> None:
    vectors = HashingEmbedder(dim=16).encode(texts)
    leaders = duplicate_leaders(texts, vectors)
    assert len(leaders) == len(texts)
    for i, leader in enumerate(leaders):
        assert leader <= i
        assert leaders[leader] == leader
