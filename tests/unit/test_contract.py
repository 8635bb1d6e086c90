"""docs/schemas/ holds exactly the schemas the code validates with."""

import json
from pathlib import Path

from tasks.contract import SCHEMAS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def test_every_published_schema_is_the_one_in_use() -> None:
    published = {path.stem: json.loads(path.read_text()) for path in DOCS.glob("*.json")}
    assert published == SCHEMAS, "run `greenhouse schemas` to refresh docs/schemas/"
