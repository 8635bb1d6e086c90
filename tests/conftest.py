"""Tiers by folder: unit (starts nothing), integration (real Redis, database, worker processes),
faults (crashes and freezes real processes), e2e (the whole local stack, as a user runs it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import figures

pytest_plugins = ["harness.fixtures"]  # fixtures start their real part only when asked for
TIERS = ("unit", "integration", "faults", "e2e")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("VAR_DIR", str(Path(config.rootpath) / "var" / "test"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test carries its tier's marker (`-m integration`, `-m "not faults"`)."""
    for item in items:
        tier = next((part for part in item.path.parts if part in TIERS), None)
        if tier is not None and tier != "unit":
            item.add_marker(tier)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures the fault suite measured in this run."""
    measured = figures.load()
    shown = [name for name in figures.RECORDED if name in measured]
    if shown:
        terminalreporter.section("fault figures")
        for name in shown:
            terminalreporter.write_line(f"{name}: {measured[name]['figure']}")
