"""JSON Schemas of the moderation.* task arguments, and their validation."""

from __future__ import annotations

from typing import Any

from services.moderation.sql import DECISIONS
from services.schema import object_schema, validating

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
                "enum": list(DECISIONS),
                "description": "not_spam also counts for the author's history",
            },
        },
        ["post_id", "decision"],
    ),
}
validated = validating(SCHEMAS)
