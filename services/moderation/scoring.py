"""A post's spam score in [0, 1] with its reasons: a pure function of the post's facts and the
rules (the `moderation` service's live configuration), covered case by case by unit tests.

Each signal that fires has a weight in [0, 1]; they combine as independent evidence,
1 - Π(1 - w), so a score only grows as signals add up and never leaves [0, 1].
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from functools import cached_property

_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@dataclass(frozen=True, kw_only=True)
class Rules:
    """What counts as spam; operators change it with `greenhouse services set moderation …`."""

    patterns: tuple[str, ...] = ()  # regular expressions, case-insensitive
    words: tuple[str, ...] = ()  # spam words, whole words, case-insensitive
    pattern_weight: float = 0.6
    word_weight: float = 0.25  # per word found, up to three
    free_links: int = 1  # links beyond this many count
    link_weight: float = 0.2  # per link beyond the free ones, up to three
    repeat_run: int = 6  # this many of one character in a row
    repeat_weight: float = 0.2
    shouting_min_letters: int = 20
    shouting_ratio: float = 0.6
    shouting_weight: float = 0.3
    new_author_s: float = 172_800.0  # two days
    new_author_weight: float = 0.2
    burst_posts: int = 5  # this many posts within burst_s, this one included
    burst_s: float = 600.0
    burst_weight: float = 0.3
    threshold: float = 0.5  # at or above: the post waits for a moderator

    @cached_property
    def compiled(self) -> tuple[re.Pattern[str], ...]:
        return tuple(re.compile(pattern, re.IGNORECASE) for pattern in self.patterns)

    @cached_property
    def digest(self) -> str:
        """Changes whenever the rules do: part of every cached score's key."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What scoring needs to know of a post and its author."""

    content: str
    author_age_s: float  # from the author's sign-up to the post
    author_recent_posts: int  # the author's posts within rules.burst_s before it, it included


@dataclass(frozen=True)
class Score:
    """The score and why."""

    value: float
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"score": self.value, "reasons": list(self.reasons)}


def score(facts: Facts, rules: Rules) -> Score:
    """Every signal that fires adds its weight and its reason."""
    signals = [
        *_patterns(facts.content, rules),
        *_words(facts.content, rules),
        *_links(facts.content, rules),
        *_repeats(facts.content, rules),
        *_shouting(facts.content, rules),
        *_author(facts, rules),
    ]
    kept = 1.0
    for weight, _reason in signals:
        kept *= 1.0 - min(1.0, max(0.0, weight))
    return Score(round(1.0 - kept, 4), tuple(reason for _weight, reason in signals))


Signal = tuple[float, str]


def _patterns(text: str, rules: Rules) -> list[Signal]:
    found = (pattern.search(text) for pattern in rules.compiled)
    return [(rules.pattern_weight, f"says {m.group()[:40]!r}") for m in found if m]


def _words(text: str, rules: Rules) -> list[Signal]:
    spam = {word.lower() for word in rules.words}
    found = sorted({w for w in (m.group().lower() for m in _WORD.finditer(text)) if w in spam})
    return [(rules.word_weight, f"spam word {word!r}") for word in found[:3]]


def _links(text: str, rules: Rules) -> list[Signal]:
    extra = len(_LINK.findall(text)) - rules.free_links
    if extra <= 0:
        return []
    weight = 1.0 - (1.0 - rules.link_weight) ** min(extra, 3)
    return [(weight, f"{extra + rules.free_links} links")]


def _repeats(text: str, rules: Rules) -> list[Signal]:
    run = re.search(rf"(.)\1{{{rules.repeat_run - 1},}}", text)
    if run is None or run.group(1).isspace():
        return []
    return [(rules.repeat_weight, f"{len(run.group())} x {run.group(1)!r} in a row")]


def _shouting(text: str, rules: Rules) -> list[Signal]:
    letters = [c for c in text if c.isalpha()]
    if len(letters) < rules.shouting_min_letters:
        return []
    ratio = sum(c.isupper() for c in letters) / len(letters)
    if ratio <= rules.shouting_ratio:
        return []
    return [(rules.shouting_weight, f"{ratio:.0%} upper case")]


def _author(facts: Facts, rules: Rules) -> list[Signal]:
    signals = []
    if facts.author_age_s < rules.new_author_s:
        signals.append(
            (rules.new_author_weight, f"author joined {facts.author_age_s / 3600:.0f} h before")
        )
    if facts.author_recent_posts >= rules.burst_posts:
        minutes = rules.burst_s / 60
        signals.append(
            (rules.burst_weight, f"{facts.author_recent_posts} posts in {minutes:g} min")
        )
    return signals
