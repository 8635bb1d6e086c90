"""Recovery's queries on a real database (SQLite, and PostgreSQL when reachable): which letters
it may replay, and a claim that exactly one of many racing runs wins."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services import db
from services.delivery.deadletters import DeadLetter
from services.delivery.recoverable import RecoverableLetters

NOW = datetime.now(UTC)
DAY = timedelta(days=1)


@pytest.fixture
def letters(any_database_url: str) -> Iterator[RecoverableLetters]:
    """The table of a migrated database of each kind."""
    engine = db.make_engine(any_database_url)
    yield RecoverableLetters(db.session_factory(engine))
    engine.dispose()


def _letter(task_id: str, **overrides: object) -> DeadLetter:
    values: dict = {
        "task_id": task_id,
        "task_name": "identification.identify",
        "args": [],
        "kwargs": {"request_id": task_id},
        "queue": "identification",
        "priority": 5,
        "error_type": "TransientError",
        "error_message": "no provider answered",
        "attempts": 6,
        "failed_at": NOW,
        "cause": "upstream",
        "upstreams": ("plant_id", "plantnet"),
    }
    return DeadLetter(**(values | overrides))


def _waiting(letters: RecoverableLetters, *, after_id: int = 0, limit: int = 50) -> list[str]:
    found = letters.awaiting_recovery(since=NOW - DAY, after_id=after_id, limit=limit)
    return [letter.task_id for letter in found]


def test_only_recent_upstream_failures_never_replayed_nor_replays_are_awaiting(
    letters: RecoverableLetters,
) -> None:
    first = letters.record(_letter("upstream-1"))
    letters.record(_letter("upstream-2"))
    letters.record(_letter("bad-photo", cause="permanent", upstreams=()))
    letters.record(_letter("database-down", cause="transient", upstreams=()))
    letters.record(_letter("before-causes", cause=None, upstreams=()))
    letters.record(_letter("too-old", failed_at=NOW - DAY - timedelta(hours=1)))
    letters.record(_letter("a-replay", replay_of=first))
    by_hand = letters.record(_letter("replayed-by-hand"))
    letters.mark_replayed(by_hand, replay_task_id="operator")
    claimed = letters.record(_letter("claimed"))
    assert letters.claim(claimed)

    assert _waiting(letters) == ["upstream-1", "upstream-2"]
    assert _waiting(letters, limit=1) == ["upstream-1"]
    assert _waiting(letters, after_id=first) == ["upstream-2"]


def test_of_many_racing_claims_on_a_letter_exactly_one_wins(letters: RecoverableLetters) -> None:
    letter_id = letters.record(_letter("raced"))
    start, wins = threading.Barrier(8), list[bool]()

    def race() -> None:
        start.wait()
        wins.append(letters.claim(letter_id))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
    claimed = letters.get(letter_id)
    assert claimed is not None and claimed.auto_replayed_at is not None


def test_a_released_claim_can_be_taken_again_but_not_once_replayed(
    letters: RecoverableLetters,
) -> None:
    letter_id = letters.record(_letter("released"))
    assert letters.claim(letter_id) and not letters.claim(letter_id)
    letters.release(letter_id)
    assert _waiting(letters) == ["released"] and letters.claim(letter_id)
    letters.mark_replayed(letter_id, replay_task_id="new")
    letters.release(letter_id)  # too late: the replay went
    replayed = letters.get(letter_id)
    assert replayed is not None and replayed.auto_replayed_at is not None
    assert _waiting(letters) == [] and not letters.claim(letter_id)
