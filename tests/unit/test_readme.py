"""The README's configuration table is the settings object, row for row."""

import re
from pathlib import Path

from services.settings import documented

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
ROW = re.compile(r"^\| `([A-Z0-9_]+)` \| (.+?) \| (.+?) \|$", re.MULTILINE)


def test_every_setting_is_in_the_readme_table_with_its_default() -> None:
    table = {name: default for name, default, _doc in ROW.findall(README)}
    expected = {
        name: "(unset)" if default is None else f"`{default}`" for name, default, _ in documented()
    }
    assert table == expected
