"""Dramatiq on Redis with its defaults, and a no-op actor (`dramatiq bench.dramatiq_app`).

Dramatiq stores no result unless a results middleware is added; none is, so its figures carry
no result write or read (every Celery variant beside it stores one).
"""

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from services.settings import Settings

QUEUE = "default"  # Dramatiq's default queue name
# The broker's Redis: REDIS_URL, read through the one settings object.
broker = RedisBroker(url=Settings.from_env().redis_url)
dramatiq.set_broker(broker)


@dramatiq.actor(queue_name=QUEUE)
def noop() -> None:
    """Does nothing: what is measured is the platform around it."""
