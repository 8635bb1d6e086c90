"""Exact and near-duplicate fingerprints, against hand-made cases."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.moderation.fingerprints import (
    NEAR_BITS,
    bands,
    content_hash,
    distance,
    normalise,
    simhash,
)

POST = (
    "My monstera has yellow leaves since I moved it next to the south window last week. "
    "Is it too much sun, or did I overwater it when I repotted it? The soil stays damp."
)


def test_case_spacing_and_punctuation_do_not_change_the_exact_fingerprint() -> None:
    shouted = (
        "  " + POST.upper().replace(" ", "   ").replace(".", "!!!").replace("?", "?!") + " ..."
    )
    assert normalise("Hello,   WORLD!!") == "hello world"
    assert content_hash(shouted) == content_hash(POST)
    assert content_hash(POST + " Thanks") != content_hash(POST)


def test_a_small_edit_is_a_near_duplicate_and_another_post_is_not() -> None:
    edited = POST.replace("last week", "last Tuesday")
    other = "Which tomato varieties grow well on a balcony with four hours of sun in the morning?"
    assert distance(simhash(edited), simhash(POST)) <= NEAR_BITS
    assert distance(simhash(POST), simhash(POST.upper())) == 0
    assert distance(simhash(other), simhash(POST)) > 16


def test_near_duplicates_always_share_a_band() -> None:
    fingerprint = simhash(POST)
    for flips in ([0], [5, 40], [1, 17, 63], [7, 15, 23, 31, 39, 47, 55]):
        near = fingerprint
        for bit in flips:
            near ^= 1 << bit
        near = near - (1 << 64) if near >= 1 << 63 else near
        assert distance(near, fingerprint) == len(flips) <= NEAR_BITS
        assert set(bands(near)) & set(bands(fingerprint)) or not flips


@given(st.text(max_size=200))
def test_a_simhash_fits_a_signed_bigint_and_its_bands_fit_a_byte(text: str) -> None:
    value = simhash(text)
    assert -(1 << 63) <= value < 1 << 63
    assert all(0 <= band < 1 << 8 for band in bands(value)) and len(bands(value)) == 8
