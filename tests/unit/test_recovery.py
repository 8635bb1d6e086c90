"""Dead-letter recovery's choices, on hand-written fakes: which letters go, when, how many, and
what happens to each when its replay cannot be published or recorded."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from harness.fakes import NOW, FakeBreaker, wired
from services import db
from services.background import registry
from services.background.lifecycle import Policy
from services.background.recovery import DeadLetterRecovery, build
from services.delivery.deadletters import DeadLetter
from services.settings import Settings

BOTH = ("plant_id", "plantnet")
CLOSED = {"plant_id": "closed", "plantnet": "closed"}


def _letter(
    n: int, *, upstreams: tuple[str, ...] = BOTH, age: timedelta = timedelta()
) -> DeadLetter:
    return DeadLetter(
        id=n,
        task_id=f"task-{n}",
        task_name="identification.identify",
        args=[],
        kwargs={"images": ["aGVsbG8="], "request_id": f"r-{n}"},
        queue="identification",
        priority=7,
        error_type="TransientError",
        error_message="no provider answered",
        attempts=6,
        failed_at=NOW - age,
        cause="upstream",
        upstreams=upstreams,
    )


class FakeLetters:
    """The table's recovery queries over a dict, with the claim's conditions."""

    def __init__(self, *letters: DeadLetter) -> None:
        self.rows = {letter.id or 0: letter for letter in letters}
        self.fail_marking = False
        self.claimed_elsewhere: set[int] = set()  # after this run read them, before it claims

    def awaiting_recovery(self, *, since: datetime, after_id: int, limit: int) -> list[DeadLetter]:
        waiting = [
            letter
            for n, letter in sorted(self.rows.items())
            if n > after_id
            and letter.failed_at >= since
            and letter.auto_replayed_at is None
            and letter.replayed_at is None
        ]
        return waiting[:limit]

    def claim(self, letter_id: int) -> bool:
        letter = self.rows[letter_id]
        if letter.auto_replayed_at or letter.replayed_at or letter_id in self.claimed_elsewhere:
            return False
        self.rows[letter_id] = dataclasses.replace(letter, auto_replayed_at=NOW)
        return True

    def release(self, letter_id: int) -> None:
        self.rows[letter_id] = dataclasses.replace(self.rows[letter_id], auto_replayed_at=None)

    def mark_replayed(self, letter_id: int, *, replay_task_id: str) -> None:
        if self.fail_marking:
            raise ConnectionError("database went away")
        letter = self.rows[letter_id]
        self.rows[letter_id] = dataclasses.replace(
            letter, replayed_at=NOW, replay_task_id=replay_task_id
        )


class FakePublish:
    """Publishes by appending to `sent`; raises for the letters in `failing`."""

    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []
        self.failing: set[int] = set()

    def __call__(self, letter: DeadLetter) -> str:
        if letter.id in self.failing:
            raise ConnectionError("broker unreachable")
        self.sent.append(letter)
        return f"replay-{letter.id}-{len(self.sent)}"

    @property
    def ids(self) -> list[int | None]:
        return [letter.id for letter in self.sent]


def _service(
    letters: FakeLetters,
    publish: FakePublish,
    states: dict[str, str],
    *,
    max_per_run: int = 20,
    max_age_s: float = 86_400.0,
) -> DeadLetterRecovery:
    return DeadLetterRecovery(
        "dead-letter-recovery",
        policy=Policy(interval_s=60),
        options={"max_per_run": max_per_run, "max_age_s": max_age_s},
        letters=letters,
        publish=publish,
        breaker_states=lambda: states,
        clock=lambda: NOW,
    )


@pytest.mark.parametrize("plantnet", ["open", "half_open", "unknown"])
def test_nothing_is_replayed_while_a_breaker_it_waits_for_is_not_closed(plantnet: str) -> None:
    letters, publish = FakeLetters(_letter(1)), FakePublish()
    states = {"plant_id": "closed", "plantnet": plantnet}
    service = _service(letters, publish, states)
    assert service.update() == 0
    assert publish.sent == [] and letters.rows[1].auto_replayed_at is None
    assert service.health()["waiting"] == 1

    states["plantnet"] = "closed"
    assert service.update() == 1 and publish.ids == [1]


def test_with_every_breaker_open_the_table_is_not_read() -> None:
    class Unreadable(FakeLetters):
        def awaiting_recovery(self, **_: object) -> list[DeadLetter]:
            raise AssertionError("read while nothing could go")

    opened = {"plant_id": "open", "plantnet": "open"}
    assert _service(Unreadable(_letter(1)), FakePublish(), opened).update() == 0


def test_a_letter_waits_only_for_its_own_upstreams() -> None:
    letters = FakeLetters(_letter(1, upstreams=("plantnet",)), _letter(2, upstreams=("plant_id",)))
    publish = FakePublish()
    service = _service(letters, publish, {"plant_id": "closed", "plantnet": "open"})
    assert service.update() == 1 and publish.ids == [2]
    assert service.health() == {
        "replayed": 1,
        "failed": 0,
        "taken": 0,
        "waiting": 1,
        "breakers_closed": ["plant_id"],
    }


def test_each_run_replays_at_most_max_per_run_oldest_first_and_each_letter_once() -> None:
    letters, publish = FakeLetters(*(_letter(n) for n in range(1, 6))), FakePublish()
    service = _service(letters, publish, CLOSED, max_per_run=2)
    assert [service.update() for _ in range(4)] == [2, 2, 1, 0]
    assert publish.ids == [1, 2, 3, 4, 5]
    assert all(row.replay_task_id and row.auto_replayed_at for row in letters.rows.values())


def test_the_replay_is_the_letter_itself_and_its_new_task_id_is_recorded() -> None:
    letters, publish = FakeLetters(_letter(1)), FakePublish()
    _service(letters, publish, CLOSED).update()
    (sent,) = publish.sent
    assert (sent.task_name, sent.kwargs, sent.queue, sent.priority) == (
        "identification.identify",
        {"images": ["aGVsbG8="], "request_id": "r-1"},
        "identification",
        7,
    )
    assert letters.rows[1].replay_task_id == "replay-1-1"


def test_a_letter_another_run_claimed_is_not_sent_and_does_not_count() -> None:
    letters, publish = FakeLetters(_letter(1), _letter(2), _letter(3)), FakePublish()
    letters.claimed_elsewhere.add(1)
    service = _service(letters, publish, CLOSED, max_per_run=2)
    assert service.update() == 2 and publish.ids == [2, 3]
    assert service.health()["taken"] == 1


def test_a_replay_that_cannot_be_published_gives_its_claim_back_and_the_rest_still_go() -> None:
    letters, publish = FakeLetters(_letter(1), _letter(2)), FakePublish()
    publish.failing.add(1)
    service = _service(letters, publish, CLOSED)
    assert service.update() == 1 and publish.ids == [2]
    assert service.health()["failed"] == 1 and letters.rows[1].auto_replayed_at is None

    publish.failing.clear()
    assert service.update() == 1 and publish.ids == [2, 1]


def test_failed_replays_count_against_the_run_s_budget() -> None:
    letters, publish = FakeLetters(*(_letter(n) for n in range(1, 4))), FakePublish()
    publish.failing.update({1, 2})
    assert _service(letters, publish, CLOSED, max_per_run=2).update() == 0
    assert publish.sent == [] and letters.rows[3].auto_replayed_at is None


def test_a_replay_sent_but_not_recorded_keeps_its_claim_and_is_never_sent_again() -> None:
    letters, publish = FakeLetters(_letter(1)), FakePublish()
    letters.fail_marking = True
    service = _service(letters, publish, CLOSED)
    with pytest.raises(ConnectionError):
        service.update()
    letters.fail_marking = False
    assert service.update() == 0 and publish.ids == [1]
    assert letters.rows[1].auto_replayed_at is not None


def test_letters_older_than_max_age_are_left_to_an_operator() -> None:
    letters = FakeLetters(_letter(1, age=timedelta(hours=2)), _letter(2, age=timedelta(minutes=5)))
    publish = FakePublish()
    assert _service(letters, publish, CLOSED, max_age_s=3600).update() == 1
    assert publish.ids == [2]


def test_the_registered_service_runs_on_its_declared_defaults_and_the_breakers_states(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    db.upgrade(url)
    container = wired(Settings(database_url=url))
    service = build(container, registry.default_config("dead-letter-recovery"))
    assert service.options == {"max_per_run": 20, "max_age_s": 86_400.0}
    assert service.update() == 0  # an empty table
    assert service.health()["breakers_closed"] == ["plant_id", "plantnet"]
    plant_id = container.breakers["plant_id"]
    assert isinstance(plant_id, FakeBreaker)
    plant_id.open_for(30.0)
    assert service.update() == 0 and service.health()["breakers_closed"] == ["plantnet"]
