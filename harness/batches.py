"""Batches of identifications for the fault suite, and what they left behind."""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from celery import Celery
from celery.result import AsyncResult

from harness.client import states
from localkit.samples import sample_png
from services.db import make_engine


def identify(client: Celery, count: int, *, tag: str) -> list[AsyncResult]:
    """`count` identifications of distinct photos, each with its own request id."""
    return [
        client.send_task(
            "identification.identify",
            kwargs={
                "images": [base64.b64encode(sample_png(hash((tag, n)) % 10**9)).decode()],
                "request_id": f"{tag}-{n}",
            },
            queue="identification",
        )
        for n in range(count)
    ]


def wait_until_settled(
    results: list[AsyncResult], *, timeout_s: float, tick: Callable[[], None] = lambda: None
) -> tuple[Counter[str], float]:
    """Poll until every result is final (or `timeout_s`); the states and when they settled."""
    deadline = time.monotonic() + timeout_s
    while True:
        tick()
        counts = states(results)
        if sum(counts[s] for s in ("SUCCESS", "FAILURE", "REVOKED")) == len(results):
            return counts, time.time()
        if time.monotonic() > deadline:
            return counts, time.time()
        time.sleep(0.25)


def identification_records(database_url: str) -> tuple[int, int]:
    """(rows, distinct request ids) in the identifications table."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = sa.text("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM identifications")
            rows, distinct = connection.execute(query).one()
            return int(rows), int(distinct)
    finally:
        engine.dispose()
