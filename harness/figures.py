"""Figures the fault suite measures, kept for the terminal summary and docs/RELIABILITY.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIGURES = Path(__file__).resolve().parents[1] / "var" / "faults" / "figures.json"
RECORDED: list[str] = []  # faults measured by this test run, in order


def load() -> dict[str, dict[str, Any]]:
    return json.loads(FIGURES.read_text()) if FIGURES.exists() else {}


def record(fault: str, *, guarantee: str, figure: str, **measured: Any) -> None:
    """Keep the last run's figure for `fault` (one line an operator can read) and its data."""
    figures = load()
    figures[fault] = {"guarantee": guarantee, "figure": figure, "measured": measured}
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    RECORDED.append(fault)
