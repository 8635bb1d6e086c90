"""The moderation service over a hand-written store: what waits for a moderator and why, a
poison post in a backlog, decisions checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from harness.fakes import FakeModerationStore
from services.errors import TransientError, ValidationError
from services.moderation.scoring import Rules
from services.moderation.service import ModerationService, UnknownPost, rules_from
from services.moderation.sql import PostFacts

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
RULES = Rules(patterns=(r"buy\s+now",), words=("casino",))


def _post(post_id: int, content: str, *, approved: bool = True) -> PostFacts:
    return PostFacts(
        post_id=post_id,
        content=content,
        approved=approved,
        review_status=None,
        created_at=NOW - timedelta(minutes=post_id),
        author_id=7,
        author_joined_at=NOW - timedelta(days=400),
        author_recent_posts=1,
    )


def _service(*posts: PostFacts) -> tuple[ModerationService, FakeModerationStore]:
    store = FakeModerationStore({post.post_id: post for post in posts})
    return ModerationService(store=store, cache=None, rules=lambda: RULES, clock=lambda: NOW), store


def test_spam_waits_for_a_moderator_with_its_reasons_and_an_ordinary_post_does_not() -> None:
    service, _store = _service(_post(1, "Buy now at my casino"), _post(2, "Lovely ferns"))
    spam, fine = service.score_post(1), service.score_post(2)
    assert spam.review_status == "pending" and spam.score >= RULES.threshold
    assert spam.reasons == ["says 'Buy now'", "spam word 'casino'"]
    assert (fine.review_status, fine.score, fine.reasons) == (None, 0.0, [])


def test_an_unapproved_post_and_a_duplicate_wait_whatever_their_score() -> None:
    service, _store = _service(
        _post(1, "Is this a fern?"), _post(2, "IS THIS A FERN!"), _post(3, "Hi", approved=False)
    )
    service.score_post(1)
    copy = service.score_post(2)
    assert (copy.duplicate_of, copy.review_status) == (1, "pending")
    assert copy.reasons == ["duplicate of post 1"]
    assert service.score_post(3).review_status == "pending"


def test_a_moderators_decision_is_what_scoring_the_post_again_reports() -> None:
    service, _store = _service(_post(1, "Buy now at my casino"))
    assert service.score_post(1).review_status == "pending"
    service.decide(1, "not_spam")
    assert service.score_post(1).review_status == "not_spam"


def test_a_poison_post_leaves_the_backlog_for_the_review_queue_and_the_rest_are_scored() -> None:
    service, store = _service(*(_post(n, f"post number {n}") for n in (1, 2, 4, 5)))
    store.poison.add(3)
    assert service.score_backlog(limit=10) == (4, 1)
    assert sorted(store.saved) == [1, 2, 4, 5]
    assert store.unscorable[3].startswith("could not be scored: ValueError")
    assert service.score_backlog(limit=10) == (0, 0)  # nothing left, the poison included


def test_a_transient_failure_stops_the_batch_to_be_tried_again() -> None:
    service, store = _service(_post(1, "a"), _post(2, "b"))

    def away(post_id: int, *, burst_s: float) -> PostFacts | None:
        raise TransientError("database unreachable")

    store.facts = away  # type: ignore[method-assign]
    with pytest.raises(TransientError):
        service.score_backlog(limit=10)
    assert store.unscorable == {} and store.saved == {}


def test_unknown_posts_and_unknown_decisions_are_refused() -> None:
    service, store = _service(_post(1, "a"))
    with pytest.raises(UnknownPost, match="post 99 does not exist"):
        service.score_post(99)
    with pytest.raises(UnknownPost):
        service.decide(99, "approve")
    with pytest.raises(ValidationError, match="'ban' is not one of approve, reject, not_spam"):
        service.decide(1, "ban")
    assert service.decide(1, "not_spam")["review_status"] == "not_spam"
    assert store.decisions == [(1, "not_spam")]


def test_the_live_options_become_rules_and_other_options_are_left_alone() -> None:
    rules = rules_from({"patterns": ["a+"], "words": ["x"], "threshold": 0.7, "batch_size": 9})
    assert (rules.patterns, rules.words, rules.threshold) == (("a+",), ("x",), 0.7)
