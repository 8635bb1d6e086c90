"""The spam score, case by case: each signal alone, signals together, and the bounds."""

from __future__ import annotations

import pytest

from services.moderation.scoring import Facts, Rules, score

RULES = Rules(patterns=(r"buy\s+now", r"free\s+shipping"), words=("casino", "viagra", "crypto"))
OLD = 400 * 86_400.0  # an author who joined long ago


def _facts(content: str, *, age_s: float = OLD, recent: int = 1) -> Facts:
    return Facts(content=content, author_age_s=age_s, author_recent_posts=recent)


def test_an_ordinary_post_by_an_established_author_scores_zero() -> None:
    found = score(_facts("My monstera has yellow leaves since I moved it. Too much sun?"), RULES)
    assert (found.value, found.reasons) == (0.0, ())


@pytest.mark.parametrize(
    ("content", "reason", "value"),
    [
        ("BUY   now, limited offer", "says 'BUY   now'", 0.6),
        ("Try our casino tonight", "spam word 'casino'", 0.25),
        ("see http://a.example and www.b.example", "2 links", 0.2),
        ("Sooooooo pretty!!", "7 x 'o' in a row", 0.2),
        ("WHY ARE MY TOMATO LEAVES CURLING LIKE THIS", "100% upper case", 0.3),
    ],
)
def test_each_content_signal_alone_gives_its_weight_and_reason(
    content: str, reason: str, value: float
) -> None:
    found = score(_facts(content), RULES)
    assert found.reasons == (reason,) and found.value == pytest.approx(value)


def test_a_very_new_author_and_a_burst_of_posts_each_count() -> None:
    assert score(_facts("hello", age_s=3600), RULES).reasons == ("author joined 1 h before",)
    burst = score(_facts("hello", recent=5), RULES)
    assert burst.reasons == ("5 posts in 10 min",) and burst.value == pytest.approx(0.3)
    assert score(_facts("hello", recent=4), RULES).value == 0.0


def test_signals_add_up_as_independent_evidence_and_stay_below_one() -> None:
    spam = "BUY NOW!!!!!!! casino viagra crypto http://x.example http://y.example www.z.example"
    found = score(_facts(spam + " FREE SHIPPING", age_s=60, recent=9), RULES)
    assert 0.95 < found.value < 1.0
    assert len(found.reasons) == 9  # 2 patterns, 3 words, links, repeats, new author, burst
    weaker = score(_facts("casino"), RULES).value
    assert weaker < score(_facts("casino crypto"), RULES).value < found.value


def test_words_are_whole_words_and_case_does_not_matter() -> None:
    assert score(_facts("Casinos and cryptography are not the words"), RULES).value == 0.0
    assert score(_facts("CASINO"), RULES).reasons == ("spam word 'casino'",)


def test_a_run_of_spaces_or_a_short_text_in_capitals_is_no_signal() -> None:
    assert score(_facts("a          b"), RULES).value == 0.0
    assert score(_facts("OK THANKS"), RULES).value == 0.0  # fewer than 20 letters


def test_the_rules_digest_changes_with_the_rules_and_only_then() -> None:
    same = Rules(patterns=(r"buy\s+now", r"free\s+shipping"), words=("casino", "viagra", "crypto"))
    assert same.digest == RULES.digest
    assert Rules(patterns=RULES.patterns, words=("casino",)).digest != RULES.digest
    assert Rules(threshold=0.7).digest != Rules().digest
