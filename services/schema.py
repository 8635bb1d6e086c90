"""JSON Schema checks whose error messages name the field and never echo large values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jsonschema

from services.errors import ValidationError

_VERSION = {"const": 1, "description": "Payload version; 1 when omitted."}


def object_schema(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A task's keyword arguments: these properties (and `version`), nothing else."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://greenhouse.invalid/schemas/{name}.json",
        "title": f"{name} keyword arguments",
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": {"version": _VERSION, **properties},
    }


def validating(
    schemas: Mapping[str, dict[str, Any]],
) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    """validated(task_name, payload): the payload when it matches the task's schema;
    ValidationError naming the problem if not."""
    validators = {name: jsonschema.Draft202012Validator(s) for name, s in schemas.items()}

    def validated(task_name: str, payload: dict[str, Any]) -> dict[str, Any]:
        check(validators[task_name], payload)
        return payload

    return validated


def check(validator: jsonschema.protocols.Validator, payload: Any) -> None:
    """Raise ValidationError describing the first problem (in field order), if any."""
    # A named field's own problem first, then whole-payload ones (missing or unknown fields).
    errors = sorted(
        validator.iter_errors(payload),
        key=lambda e: (not e.absolute_path, [str(p) for p in e.absolute_path]),
    )
    if errors:
        raise ValidationError(_describe(errors[0]))


def _describe(error: jsonschema.ValidationError) -> str:
    """A reason naming the field, never echoing the (possibly huge) value itself."""
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    where, value, rule = path.lstrip(".") or "payload", error.instance, error.validator_value
    reasons = {
        "type": lambda: f"must be {_types(rule)}, got {_json_type(value)}",
        "maxItems": lambda: f"{len(value)} given, at most {rule}",
        "minItems": lambda: f"at least {rule} needed",
        "enum": lambda: f"{str(value)[:40]!r} is not one of {', '.join(map(str, rule))}",
        "minimum": lambda: f"{value} is below the minimum {rule}",
        "maximum": lambda: f"{value} is above the maximum {rule}",
        "maxLength": lambda: error.schema.get("x-too-long", f"over {rule} characters"),
        "minLength": lambda: "must not be empty",
        "const": lambda: f"must be {rule}",
        "pattern": lambda: error.schema.get("x-pattern", "has characters that are not allowed"),
    }
    if error.validator == "dependentRequired":  # fields that come together: the schema says so
        return str(error.schema.get("x-dependent", f"{where}: {error.message[:200]}"))
    if error.validator in reasons:
        return f"{where}: {reasons[str(error.validator)]()}"
    return f"{where}: {error.message[:200]}"  # required, additionalProperties: names only


def _types(rule: object) -> str:
    return " or ".join(rule) if isinstance(rule, list) else str(rule)


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return names.get(type(value), "object" if isinstance(value, dict) else "null")
