"""JSON Schemas of the statistics.* task arguments, and their validation."""

from __future__ import annotations

from typing import Any

from services.schema import object_schema, validating

_ID = {"type": "integer", "minimum": 1}


SCHEMAS: dict[str, dict[str, Any]] = {
    "statistics.forum_overview": object_schema("statistics.forum_overview", {}, []),
    "statistics.forum_detail": object_schema(
        "statistics.forum_detail", {"forum_id": _ID}, ["forum_id"]
    ),
    "statistics.user_summary": object_schema(
        "statistics.user_summary", {"user_id": _ID}, ["user_id"]
    ),
    "statistics.identification_summary": object_schema(
        "statistics.identification_summary",
        {"days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 7}},
        [],
    ),
    "statistics.invalidate": object_schema(
        "statistics.invalidate",
        {
            "scope": {
                "type": "string",
                "pattern": r"^(all|overview|identification|forum:[1-9][0-9]*|user:[1-9][0-9]*)$",
                "description": "all, overview, identification, forum:<id> or user:<id>",
            }
        },
        ["scope"],
    ),
}
validated = validating(SCHEMAS)
