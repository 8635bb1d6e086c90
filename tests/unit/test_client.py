"""The client's pure parts: priorities on each broker, what Flower is shown of the arguments,
arguments refused before sending, results built as typed objects."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from greenhouse_client import Greenhouse, InvalidArguments, native_priority, results
from greenhouse_client.client import RESULTS, summary

from tests.unit.test_client_validation import VALID_RESULTS

NOWHERE = "redis://127.0.0.1:9/0"  # nothing listens: a send would fail with BrokerUnavailable


def test_priorities_are_inverted_for_redis_and_kept_for_rabbitmq() -> None:
    assert [native_priority(p, redis=True) for p in (0, 5, 9)] == [9, 4, 0]
    assert [native_priority(p, redis=False) for p in (0, 5, 9)] == [0, 5, 9]


@pytest.mark.parametrize("priority", [-1, 10, True, 4.5, "9"])
def test_a_priority_outside_zero_to_nine_is_refused(priority: object) -> None:
    with pytest.raises(InvalidArguments, match="priority"):
        native_priority(priority, redis=True)  # type: ignore[arg-type]


def test_flower_is_shown_sizes_and_digests_never_a_photo() -> None:
    photo = "iVBORw0KGgo" * 100_000
    shown = summary({"images": [photo], "organs": ["leaf"], "request_id": "r-1"})
    assert photo[:100] not in shown
    assert '"<1,100,000 chars, sha256 ' in shown and '"leaf"' in shown and '"r-1"' in shown


def test_the_client_and_the_workers_show_arguments_alike() -> None:
    from services.delivery import reprs

    value = {"images": ["x" * 500, "short"], "nested": [{"k": "y" * 70}], "n": 3, "t": (1, "z")}
    assert summary(value) == reprs.summary(value)
    assert reprs.safe(summary(value)) and not reprs.safe(json.dumps(value))


def test_arguments_that_break_the_schema_are_refused_before_anything_is_sent() -> None:
    with Greenhouse(NOWHERE) as greenhouse:
        with pytest.raises(InvalidArguments, match=r"images: at least 1 needed"):
            greenhouse.identify(images=[])
        with pytest.raises(InvalidArguments, match="give both or neither"):
            greenhouse.identify(images=[b"\x89PNG"], latitude=1.0)
        with pytest.raises(InvalidArguments, match=r"forum_id: 0 is below the minimum 1"):
            greenhouse.forum_detail(forum_id=0)
        with pytest.raises(InvalidArguments, match="not a public Greenhouse task"):
            greenhouse.send("statistics.everything", {})


@pytest.mark.parametrize("task", sorted(VALID_RESULTS))
def test_every_result_is_built_as_its_typed_object(task: str) -> None:
    built = results.build(RESULTS[task], VALID_RESULTS[task])
    assert isinstance(built, RESULTS[task])


def test_nested_results_are_typed_all_the_way_down() -> None:
    answer = results.build(results.Identification, VALID_RESULTS["identification.identify"])
    assert answer.suggestions[0].common_names == ["Daisy"]
    assert answer.sources["plant_id"].latency_ms == 3.5
    overview = results.build(results.ForumOverview, VALID_RESULTS["statistics.forum_overview"])
    assert overview.latest_member is not None
    assert overview.latest_member.joined_at == datetime(2026, 12, 1, 10, tzinfo=UTC)
