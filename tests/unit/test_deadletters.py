import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from services import db
from services.delivery.deadletters import DeadLetter, SqlDeadLetterStore


def _letter(**overrides: object) -> DeadLetter:
    values: dict = {
        "task_id": "t-1",
        "task_name": "identification.identify",
        "args": [],
        "kwargs": {"images": ["aGVsbG8="]},
        "queue": "identification",
        "priority": 7,
        "error_type": "ValidationError",
        "error_message": "images[0] is not an image",
        "attempts": 1,
        "failed_at": datetime(2026, 1, 2, tzinfo=UTC),
    }
    return DeadLetter(**(values | overrides))


def test_a_recorded_letter_comes_back_whole_and_replay_is_marked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    db.upgrade(url)
    store = SqlDeadLetterStore(db.session_factory(db.make_engine(url)))
    letter_id = store.record(_letter())
    stored = store.get(letter_id)
    assert stored is not None
    assert stored.kwargs == {"images": ["aGVsbG8="]} and stored.failed_at.tzinfo is not None
    store.mark_replayed(letter_id, replay_task_id="t-2")
    assert store.list()[0].replay_task_id == "t-2"


def test_the_digest_identifies_arguments_without_showing_them() -> None:
    letter = _letter()
    assert letter.arguments_digest == _letter().arguments_digest
    assert letter.arguments_digest != _letter(kwargs={"images": ["b3RoZXI="]}).arguments_digest
    assert "aGVsbG8=" not in letter.arguments_digest
    assert letter.arguments_bytes == len('[[],{"images":["aGVsbG8="]}]')


def test_the_cause_and_the_replay_marks_survive_the_table_and_the_spill_format(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    db.upgrade(url)
    store = SqlDeadLetterStore(db.session_factory(db.make_engine(url)))
    letter = _letter(cause="upstream", upstreams=("plant_id", "plantnet"), replay_of=3)
    stored = store.get(store.record(letter))
    assert stored is not None
    assert (stored.cause, stored.upstreams, stored.replay_of) == (
        "upstream",
        ("plant_id", "plantnet"),
        3,
    )
    moment = datetime(2026, 1, 3, tzinfo=UTC)
    held = dataclasses.replace(letter, auto_replayed_at=moment)
    assert DeadLetter.from_json(held.to_json()) == held
    # A letter held in Redis by the previous release (no such fields) still reads back.
    old = {k: v for k, v in json.loads(_letter().to_json()).items() if k in OLD_FIELDS}
    assert DeadLetter.from_json(json.dumps(old)) == _letter()


OLD_FIELDS = {
    "task_id",
    "task_name",
    "args",
    "kwargs",
    "queue",
    "priority",
    "error_type",
    "error_message",
    "attempts",
    "failed_at",
    "id",
    "replayed_at",
    "replay_task_id",
}
