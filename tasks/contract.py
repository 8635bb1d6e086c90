"""The public task contract: each task's argument and result schemas, published with the client
(client/greenhouse_client/schemas/, written by `greenhouse schemas`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.background import runner
from services.identification import payload as identification
from services.moderation import payloads as moderation
from services.moderation.sql import DECISIONS
from services.statistics import payloads as statistics

PUBLISHED = Path(__file__).resolve().parents[1] / "client" / "greenhouse_client" / "schemas"
SCHEMAS: dict[str, dict[str, Any]] = {
    "identification.identify": identification.SCHEMA,
    **statistics.SCHEMAS,
    "services.run": runner.SCHEMA,
    **moderation.SCHEMAS,
}

_INT = {"type": "integer", "minimum": 0}
_WHEN = {"type": "string", "description": "ISO 8601 with its UTC offset"}
_MAYBE_WHEN = {"type": ["string", "null"]}
_TEXT, _MAYBE_TEXT = {"type": "string"}, {"type": ["string", "null"]}
_BOOL, _RATIO = {"type": "boolean"}, {"type": ["number", "null"], "minimum": 0, "maximum": 1}
_SHARE = {"type": "number", "minimum": 0, "maximum": 1}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """Every listed field required; fields added later are allowed (clients ignore them)."""
    return {"type": "object", "required": list(properties), "properties": properties}


def _result(task: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://greenhouse.invalid/schemas/{task}.result.json",
        "title": f"{task} result",
        **_object(properties),
    }


_SOURCE = {
    "type": "object",
    "required": ["status"],
    "properties": {
        "status": {"enum": ["ok", "failed", "skipped"]},
        "latency_ms": {"type": ["number", "null"], "minimum": 0},
        "reason": _MAYBE_TEXT,
    },
}
_SUGGESTION = _object(
    {
        "name": _TEXT,
        "probability": _SHARE,
        "family": _MAYBE_TEXT,
        "genus": _MAYBE_TEXT,
        "common_names": {"type": "array", "items": _TEXT},
        "gbif_id": {"type": ["integer", "null"]},
        "providers": {"type": "array", "minItems": 1, "items": _TEXT},
        "agreed": _BOOL,
    }
)
_STATISTIC = {"computed_at": _WHEN, "cached": _BOOL}
_STATUS = {"enum": ["pending", "approved", "rejected", "not_spam", None]}
_MAYBE_POST = {"type": ["integer", "null"], "minimum": 1}
_REASONS = {"type": "array", "items": _TEXT}
_REVIEW_ITEM = _object(
    {
        "post_id": _INT,
        "author_id": _INT,
        "username": _TEXT,
        "excerpt": _TEXT,
        "spam_score": _SHARE,
        "reasons": _REASONS,
        "duplicate_of": _MAYBE_POST,
        "approved": _BOOL,
        "created_at": _WHEN,
        "priority": {"type": "number"},
    }
)
RESULTS: dict[str, dict[str, Any]] = {
    "identification.identify": _result(
        "identification.identify",
        {
            "image_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "is_plant": _BOOL,
            "suggestions": {"type": "array", "items": _SUGGESTION},
            "sources": {"type": "object", "additionalProperties": _SOURCE},
            "cached": _BOOL,
            "version": {"const": 1},
            "request_id": _MAYBE_TEXT,
        },
    ),
    "statistics.forum_overview": _result(
        "statistics.forum_overview",
        {
            "active_users": _INT,
            "approved_topics": _INT,
            "approved_posts": _INT,
            "pending_review": _INT,
            "spam": _INT,
            "latest_member": {
                "type": ["object", "null"],
                "required": ["id", "username", "joined_at"],
                "properties": {"id": _INT, "username": _TEXT, "joined_at": _WHEN},
            },
            "online_users": _INT,
            **_STATISTIC,
        },
    ),
    "statistics.forum_detail": _result(
        "statistics.forum_detail",
        {
            "forum_id": _INT,
            "name": _TEXT,
            "topics": _INT,
            "posts": _INT,
            "posts_last_7_days": _INT,
            "trending": _BOOL,
            "online_users": _INT,
            **_STATISTIC,
        },
    ),
    "statistics.user_summary": _result(
        "statistics.user_summary",
        {
            "user_id": _INT,
            "username": _TEXT,
            "posts": _INT,
            "topics": _INT,
            "first_activity": _MAYBE_WHEN,
            "last_activity": _MAYBE_WHEN,
            **_STATISTIC,
        },
    ),
    "statistics.identification_summary": _result(
        "statistics.identification_summary",
        {
            "days": _INT,
            "per_day": {"type": "object", "additionalProperties": _INT},
            "provider_success": {
                "type": "object",
                "additionalProperties": _object({"ok": _INT, "attempted": _INT, "ratio": _RATIO}),
            },
            "top_species": {"type": "array", "items": _object({"name": _TEXT, "count": _INT})},
            "total": _INT,
            "cache_hit_ratio": _RATIO,
            **_STATISTIC,
        },
    ),
    "statistics.invalidate": _result(
        "statistics.invalidate",
        {
            "scope": _TEXT,
            "invalidated": {"type": "array", "items": _TEXT},
            "count": _INT,
            **_STATISTIC,
        },
    ),
    "services.run": _result(
        "services.run",
        {
            "service": _TEXT,
            "ran": _BOOL,
            "ok": _BOOL,
            "items": _INT,
            "duration_s": {"type": "number", "minimum": 0},
            "skipped": _MAYBE_TEXT,
            "error": _MAYBE_TEXT,
        },
    ),
    "moderation.score_post": _result(
        "moderation.score_post",
        {
            "post_id": _INT,
            "score": _SHARE,
            "reasons": _REASONS,
            "duplicate_of": _MAYBE_POST,
            "review_status": _STATUS,
            "cached": _BOOL,
        },
    ),
    "moderation.review_queue": _result(
        "moderation.review_queue",
        {"items": {"type": "array", "items": _REVIEW_ITEM}, "limit": _INT, "offset": _INT},
    ),
    "moderation.decide": _result(
        "moderation.decide",
        {
            "post_id": _INT,
            "decision": {"enum": list(DECISIONS)},
            "review_status": _STATUS,
        },
    ),
}


def published() -> dict[str, dict[str, Any]]:
    """File name → schema, as `greenhouse schemas` writes them."""
    files = {f"{name}.json": schema for name, schema in SCHEMAS.items()}
    return files | {f"{name}.result.json": schema for name, schema in RESULTS.items()}


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in published().items():
        path = directory / name
        path.write_text(json.dumps(schema, indent=2) + "\n")
        written.append(path)
    return written
