"""The client's schema check (no dependency) gives jsonschema's verdict on every published schema,
for generated arguments and results around a valid example."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from greenhouse_client.validation import first_problem
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.contract import RESULTS, SCHEMAS

PNG = "iVBORw0KGgo="
STAMP = "2026-12-01T10:00:00+00:00"
VALID_ARGUMENTS: dict[str, dict[str, Any]] = {
    "identification.identify": {
        "images": [PNG],
        "organs": ["leaf"],
        "latitude": 48.85,
        "longitude": 2.35,
        "request_id": "r-1",
    },
    "statistics.forum_overview": {},
    "statistics.forum_detail": {"forum_id": 3},
    "statistics.user_summary": {"user_id": 7, "version": 1},
    "statistics.identification_summary": {"days": 30},
    "statistics.invalidate": {"scope": "forum:12"},
    "services.run": {"name": "stats-warmer"},
    "moderation.score_post": {"post_id": 12},
    "moderation.review_queue": {"limit": 20, "offset": 40},
    "moderation.decide": {"post_id": 12, "decision": "not_spam"},
}
_SUGGESTION = {
    "name": "Bellis perennis",
    "probability": 0.9,
    "family": "Asteraceae",
    "genus": None,
    "common_names": ["Daisy"],
    "gbif_id": 3117424,
    "providers": ["plant_id"],
    "agreed": False,
}
VALID_RESULTS: dict[str, dict[str, Any]] = {
    "identification.identify": {
        "image_sha256": "a" * 64,
        "is_plant": True,
        "suggestions": [_SUGGESTION],
        "sources": {"plant_id": {"status": "ok", "latency_ms": 3.5, "reason": None}},
        "cached": False,
        "version": 1,
        "request_id": None,
    },
    "statistics.forum_overview": {
        "active_users": 3,
        "approved_topics": 4,
        "approved_posts": 9,
        "pending_review": 2,
        "spam": 1,
        "latest_member": {"id": 1, "username": "ann", "joined_at": STAMP},
        "online_users": 0,
        "computed_at": STAMP,
        "cached": True,
    },
    "statistics.forum_detail": {
        "forum_id": 1,
        "name": "Roses",
        "topics": 2,
        "posts": 5,
        "posts_last_7_days": 1,
        "trending": False,
        "online_users": 0,
        "computed_at": STAMP,
        "cached": False,
    },
    "statistics.user_summary": {
        "user_id": 1,
        "username": "ann",
        "posts": 2,
        "topics": 1,
        "first_activity": STAMP,
        "last_activity": None,
        "computed_at": STAMP,
        "cached": False,
    },
    "statistics.identification_summary": {
        "days": 7,
        "per_day": {"2026-12-01": 4},
        "provider_success": {"plantnet": {"ok": 3, "attempted": 4, "ratio": 0.75}},
        "top_species": [{"name": "Bellis perennis", "count": 2}],
        "total": 4,
        "cache_hit_ratio": None,
        "computed_at": STAMP,
        "cached": False,
    },
    "statistics.invalidate": {
        "scope": "all",
        "invalidated": ["greenhouse:v1:stats:overview"],
        "count": 1,
        "computed_at": STAMP,
        "cached": False,
    },
    "moderation.score_post": {
        "post_id": 12,
        "score": 0.7,
        "reasons": ["spam word 'casino'"],
        "duplicate_of": None,
        "review_status": "pending",
        "cached": False,
    },
    "moderation.review_queue": {
        "items": [
            {
                "post_id": 12,
                "author_id": 3,
                "username": "ann",
                "excerpt": "Visit my casino",
                "spam_score": 0.7,
                "reasons": ["spam word 'casino'"],
                "duplicate_of": 4,
                "approved": True,
                "created_at": STAMP,
                "priority": 0.95,
            }
        ],
        "limit": 50,
        "offset": 0,
    },
    "moderation.decide": {"post_id": 12, "decision": "reject", "review_status": "rejected"},
    "services.run": {
        "service": "retention",
        "ran": True,
        "ok": True,
        "items": 3,
        "duration_s": 0.5,
        "skipped": None,
        "error": None,
    },
}
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 400)
    | st.floats(-1, 100, allow_nan=False)
    | st.sampled_from(["", "leaf", "all", "forum:0", "user:5", "a" * 64, "x\n", STAMP]),
    lambda inner: st.lists(inner, max_size=6) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place inside `value` a generated value may go."""
    places = [path] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            places += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            places += _paths(item, (*path, index))
    return places


@st.composite
def variants(draw: st.DrawFn, example: dict[str, Any]) -> Any:
    """`example` with one place replaced by anything, removed, or given an extra field."""
    value = copy.deepcopy(example)
    places = _paths(value)
    action = draw(st.sampled_from(["replace", "remove", "add"] if places else ["add"]))
    if action == "add":
        value[draw(st.sampled_from(["extra", "version", "days", "images"]))] = draw(JSON)
        return value
    *parent_path, last = draw(st.sampled_from(places))
    parent = value
    for step in parent_path:
        parent = parent[step]
    if action == "remove":
        del parent[last]
    else:
        parent[last] = draw(JSON)
    return value


def _cases() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    cases = [(SCHEMAS[name], example) for name, example in VALID_ARGUMENTS.items()]
    return cases + [(RESULTS[name], example) for name, example in VALID_RESULTS.items()]


@pytest.mark.parametrize(("schema", "example"), _cases(), ids=lambda c: c.get("$id", "")[-45:])
def test_the_client_check_agrees_with_jsonschema(
    schema: dict[str, Any], example: dict[str, Any]
) -> None:
    assert first_problem(schema, example) is None  # the example itself is valid
    validator = jsonschema.Draft202012Validator(schema)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(variants(example))
    def agrees(value: Any) -> None:
        assert (first_problem(schema, value) is None) == validator.is_valid(value), value

    agrees()


def test_a_problem_names_its_field_and_never_echoes_a_long_value() -> None:
    schema = SCHEMAS["identification.identify"]
    problem = first_problem(schema, {"images": ["x" * 20_000_000]})
    assert problem == "images[0]: over the 10 MB limit"
    assert first_problem(schema, {"images": [PNG], "latitude": 1.0}) == (
        "latitude, longitude: give both or neither"
    )
