"""The JSON Schema keywords Greenhouse's published schemas use, checked without a dependency.

The workers validate with `jsonschema` (Draft 2020-12); this checks the same schemas for the
keywords they contain (type, const, enum, minimum, maximum, minLength, maxLength, pattern,
required, properties, additionalProperties, items, minItems, maxItems, dependentRequired), and a
test holds the two to the same verdict on generated payloads. Messages name the field and never
echo a large value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


@dataclass(frozen=True)
class Problem:
    """One way a value breaks its schema: where, and why (in words)."""

    path: Path
    reason: str
    whole: bool = False  # a reason about the whole payload that names its fields itself

    def __str__(self) -> str:
        if self.whole:
            return self.reason
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path)
        return f"{where.lstrip('.') or 'payload'}: {self.reason}"


def problems(schema: dict[str, Any], value: Any, path: Path = ()) -> Iterator[Problem]:
    """Every problem of `value` against `schema`, a field's own before the whole object's."""
    types = schema.get("type")
    if types is not None:
        wanted = types if isinstance(types, list) else [types]
        if not any(_TYPES[name](value) for name in wanted):
            yield Problem(path, f"must be {' or '.join(wanted)}, got {_json_type(value)}")
            return
    yield from _scalar(schema, value, path)
    if isinstance(value, list):
        yield from _array(schema, value, path)
    if isinstance(value, dict):
        yield from _object(schema, value, path)


def first_problem(schema: dict[str, Any], value: Any) -> str | None:
    """The problem a caller is told about (a named field's first), or None when valid."""
    found = sorted(problems(schema, value), key=lambda p: (not p.path, [str(x) for x in p.path]))
    return str(found[0]) if found else None


def _scalar(schema: dict[str, Any], value: Any, path: Path) -> Iterator[Problem]:
    if "const" in schema and not _equal(value, schema["const"]):
        yield Problem(path, f"must be {schema['const']}")
    if "enum" in schema and not any(_equal(value, option) for option in schema["enum"]):
        options = ", ".join(map(str, schema["enum"]))
        yield Problem(path, f"{str(value)[:40]!r} is not one of {options}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            yield Problem(path, f"{value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            yield Problem(path, f"{value} is above the maximum {schema['maximum']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            yield Problem(path, "must not be empty")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            yield Problem(path, schema.get("x-too-long", f"over {schema['maxLength']} characters"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            yield Problem(path, schema.get("x-pattern", "has characters that are not allowed"))


def _array(schema: dict[str, Any], value: list[Any], path: Path) -> Iterator[Problem]:
    if "minItems" in schema and len(value) < schema["minItems"]:
        yield Problem(path, f"at least {schema['minItems']} needed")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        yield Problem(path, f"{len(value)} given, at most {schema['maxItems']}")
    if "items" in schema:
        for index, item in enumerate(value):
            yield from problems(schema["items"], item, (*path, index))


def _object(schema: dict[str, Any], value: dict[str, Any], path: Path) -> Iterator[Problem]:
    properties = schema.get("properties", {})
    for name, item in value.items():
        if name in properties:
            yield from problems(properties[name], item, (*path, name))
        elif schema.get("additionalProperties") is False:
            yield Problem(path, f"unexpected field {name!r}")
        elif isinstance(schema.get("additionalProperties"), dict):
            yield from problems(schema["additionalProperties"], item, (*path, name))
    for name in schema.get("required", ()):
        if name not in value:
            yield Problem(path, f"{name!r} is a required property")
    for name, together in schema.get("dependentRequired", {}).items():
        if name in value and any(other not in value for other in together):
            reason = schema.get("x-dependent", f"{name} needs {', '.join(together)}")
            yield Problem(path, reason, whole="x-dependent" in schema)


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, and 1 is 1.0.
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _json_type(value: object) -> str:
    names = {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}
    return names.get(type(value), "object" if isinstance(value, dict) else "null")
