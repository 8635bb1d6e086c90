"""The client's published schemas are exactly the ones the code validates with and returns."""

import json

from tasks.contract import PUBLISHED, published


def test_every_published_schema_is_the_one_in_use() -> None:
    files = {path.name: json.loads(path.read_text()) for path in PUBLISHED.glob("*.json")}
    assert files == published(), "run `greenhouse schemas` to refresh the client's schemas"
