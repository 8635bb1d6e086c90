"""Tests that need several OS processes sharing Redis: each a forked child reporting back."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

FORK = multiprocessing.get_context("fork")


def run_processes(target: Callable[..., None], args_per_child: list[tuple[Any, ...]]) -> list[Any]:
    """Run `target(*args, results)` in one forked process per args; what each put in `results`."""
    results = FORK.Queue()
    children = [FORK.Process(target=target, args=(*args, results)) for args in args_per_child]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)
        assert child.exitcode == 0
    return outcomes
