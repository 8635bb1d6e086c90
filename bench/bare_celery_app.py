"""Stock Celery apps for the platform-cost benchmark: nothing of Greenhouse's configuration.

`bare` is Celery's defaults (prefork, acks early, prefetch 4, events off, JSON); `safe` adds only
the safety settings Greenhouse keeps (acks late, prefetch 1, priority steps; its worker runs with
-E). Both read the broker and result backend from Celery's own CELERY_BROKER_URL and
CELERY_RESULT_BACKEND, so every Celery variant stores a result.
"""

from celery import Celery

PRIORITY_STEPS = 10  # as Greenhouse's celeryconfig: one step per priority

bare = Celery("bare")
safe = Celery("safe")
safe.conf.update(
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_transport_options={
        "queue_order_strategy": "priority",
        "priority_steps": list(range(PRIORITY_STEPS)),
    },
)


def noop() -> None:
    """Does nothing: what is measured is the platform around it."""


bare.task(name="bench.bare_noop")(noop)
safe.task(name="bench.bare_noop")(noop)
