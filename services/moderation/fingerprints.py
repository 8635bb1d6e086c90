"""Fingerprints of a post's text: an exact one after normalisation (case, whitespace and
punctuation do not count), and a 64-bit simhash for near-duplicates, split into eight 8-bit
bands: two texts within seven bits of each other share at least one band exactly (there are
more bands than differing bits), so one indexed query over the bands finds every candidate,
whatever the window's size. A one-word edit of a paragraph moves its simhash 5 to 7 bits."""

from __future__ import annotations

import hashlib
import re
import unicodedata

BANDS = 8
BAND_BITS = 8
NEAR_BITS = BANDS - 1  # simhashes at most this many bits apart are near-duplicates
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """Lower case, accents kept, punctuation and runs of whitespace gone."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def content_hash(text: str) -> str:
    """sha256 of the normalised text: equal for texts that differ only in case, spacing and
    punctuation."""
    return hashlib.sha256(normalise(text).encode()).hexdigest()


def simhash(text: str, *, shingle: int = 3) -> int:
    """A 64-bit simhash over the normalised text's word shingles, as a signed 64-bit integer
    (a BIGINT column)."""
    words = normalise(text).split()
    grams = [" ".join(words[i : i + shingle]) for i in range(max(1, len(words) - shingle + 1))]
    weights = [0] * 64
    for gram in grams:
        value = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    unsigned = sum(1 << bit for bit, weight in enumerate(weights) if weight > 0)
    return unsigned - (1 << 64) if unsigned >= 1 << 63 else unsigned


def bands(fingerprint: int) -> tuple[int, ...]:
    """The simhash's eight 8-bit bands."""
    unsigned = fingerprint & (1 << 64) - 1
    mask = (1 << BAND_BITS) - 1
    return tuple(unsigned >> (BAND_BITS * i) & mask for i in range(BANDS))


def distance(a: int, b: int) -> int:
    """How many bits two simhashes differ in."""
    return ((a ^ b) & (1 << 64) - 1).bit_count()
