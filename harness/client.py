"""A Greenhouse client app on another Redis (this process's own app is on the session's)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import redis
from celery import Celery
from celery.result import AsyncResult


def client_app(redis_url: str) -> Celery:
    """The Greenhouse configuration, with broker and results on `redis_url`."""
    client = Celery("greenhouse-client", set_as_current=False)
    client.config_from_object("celeryconfig")
    client.conf.update(broker_url=redis_url, result_backend=redis_url)
    return client


def states(results: Iterable[AsyncResult]) -> Counter[str]:
    """How many results are in each state; 'UNREACHABLE' for all while Redis does not answer."""
    results = list(results)
    try:
        return Counter(result.state for result in results)
    except (redis.RedisError, OSError):
        return Counter({"UNREACHABLE": len(results)})
