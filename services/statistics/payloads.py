"""JSON Schemas of the statistics.* task arguments, and their validation."""

from __future__ import annotations

from typing import Any

import jsonschema

from services.schema import check

_ID = {"type": "integer", "minimum": 1}
_VERSION = {"const": 1, "description": "Payload version; 1 when omitted."}


def object_schema(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://greenhouse.invalid/schemas/{name}.json",
        "title": f"{name} keyword arguments",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {"version": _VERSION, **properties},
    }


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
_VALIDATORS = {name: jsonschema.Draft202012Validator(schema) for name, schema in SCHEMAS.items()}


def validated(task_name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload when it matches the task's schema; ValidationError naming the problem if not."""
    check(_VALIDATORS[task_name], payload)
    return payload
