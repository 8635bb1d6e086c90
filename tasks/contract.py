"""The public task contract: each task name's payload schema, written to docs/schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.background import runner
from services.identification import payload as identification
from services.statistics import payloads as statistics

SCHEMAS: dict[str, dict[str, Any]] = {
    "identification.identify": identification.SCHEMA,
    **statistics.SCHEMAS,
    "services.run": runner.SCHEMA,
}


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in SCHEMAS.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2) + "\n")
        written.append(path)
    return written
