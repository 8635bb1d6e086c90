"""Write the fault suite's last figures into docs/RELIABILITY.md (`make faults` runs this)."""

from __future__ import annotations

import re
from pathlib import Path

from harness import figures

DOC = Path(__file__).resolve().parents[2] / "docs" / "RELIABILITY.md"
BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"


def table() -> str:
    rows = ["| fault | guarantee | figure of the last run |", "|---|---|---|"]
    for fault, entry in sorted(figures.load().items()):
        rows.append(f"| {fault} | {entry['guarantee']} | {entry['figure']} |")
    return "\n".join(rows)


def main() -> None:
    text = DOC.read_text()
    block = f"{BEGIN}\n{table()}\n{END}"
    DOC.write_text(re.sub(rf"{re.escape(BEGIN)}.*?{re.escape(END)}", block, text, flags=re.S))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
