"""JSON Schemas of the moderation.* task arguments, and their validation."""

from __future__ import annotations

from typing import Any

import jsonschema

from services.schema import check
from services.statistics.payloads import object_schema

_POST = {"type": "integer", "minimum": 1}
SCHEMAS: dict[str, dict[str, Any]] = {
    "moderation.score_post": object_schema(
        "moderation.score_post", {"post_id": _POST}, ["post_id"]
    ),
    "moderation.review_queue": object_schema(
        "moderation.review_queue",
        {
            "limit": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
            "offset": {"type": "integer", "minimum": 0, "default": 0},
        },
        [],
    ),
    "moderation.decide": object_schema(
        "moderation.decide",
        {
            "post_id": _POST,
            "decision": {
                "enum": ["approve", "reject", "not_spam"],
                "description": "not_spam also counts for the author's history",
            },
        },
        ["post_id", "decision"],
    ),
}
_VALIDATORS = {name: jsonschema.Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


def validated(task_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload when it matches the task's schema; ValidationError naming the problem if not."""
    check(_VALIDATORS[task_name], payload)
    return payload
