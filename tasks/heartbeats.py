"""Signal receivers: each worker's main process keeps its heartbeat key (greenhouse:worker:
<nodename>) from the moment it consumes until it begins to shut down; `greenhouse health` and the
health monitor count live workers per queue from these keys."""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from celery.signals import worker_ready, worker_shutdown, worker_shutting_down

from services.bootstrap import redis_client
from services.health import WorkerHeartbeats, WorkerInfo
from services.health_beacon import WorkerBeacon
from services.settings import Settings, load

log = logging.getLogger(__name__)
STOP_WAIT_S = 2.0  # how long process exit waits for the thread to remove the key
_beacon: WorkerBeacon | None = None


@worker_ready.connect
def start_worker_heartbeat(sender: Any, **_: Any) -> None:
    """`sender` is the worker's consumer (first connection made: the worker consumes now)."""
    global _beacon
    if _beacon is not None:
        return
    settings = load()
    if settings.worker_heartbeat_ttl_s < 2 * settings.worker_heartbeat_interval_s:
        log.warning(
            "WORKER_HEARTBEAT_TTL_S (%s) is under twice WORKER_HEARTBEAT_INTERVAL_S (%s): one "
            "late write makes this worker look dead",
            settings.worker_heartbeat_ttl_s,
            settings.worker_heartbeat_interval_s,
        )
    # Short timeouts: a write stuck longer than an interval only delays the next one.
    timeout_s = max(1.0, min(5.0, settings.worker_heartbeat_interval_s))
    client = redis_client(settings.redis_url_or_embedded, settings, timeout_s=timeout_s)
    _beacon = WorkerBeacon(
        WorkerHeartbeats(client),
        lambda: describe(sender, settings),
        interval_s=settings.worker_heartbeat_interval_s,
    ).start()


@worker_shutting_down.connect
def stop_worker_heartbeat(**_: Any) -> None:
    """A worker shutting down takes no new task: it stops counting as live at once (runs in
    the signal handler, so it only tells the thread)."""
    if _beacon is not None:
        _beacon.stop()


@worker_shutdown.connect
def remove_worker_heartbeat(**_: Any) -> None:
    global _beacon
    if _beacon is not None:
        _beacon.stop(wait_s=STOP_WAIT_S)
        _beacon = None


def describe(consumer: Any, settings: Settings) -> WorkerInfo:
    """This worker now (queues can change at run time: `celery control add_consumer`)."""
    worker = consumer.controller
    pool_cls = getattr(worker, "pool_cls", None)
    return WorkerInfo(
        nodename=consumer.hostname,
        queues=sorted(consumer.app.amqp.queues.consume_from),
        pool=pool_name(pool_cls),
        concurrency=int(getattr(worker, "concurrency", 0) or 0),
        pid=os.getpid(),
        host=socket.gethostname(),
        at=time.time(),
        ttl_s=settings.worker_heartbeat_ttl_s,
    )


def pool_name(pool: Any) -> str:
    """prefork, threads, solo…: as WORKER_POOL and `-P` name it, from a name or a pool class."""
    name = pool if isinstance(pool, str) else getattr(pool, "__module__", str(pool))
    name = name.rsplit(".", 1)[-1]
    return {"thread": "threads", "processes": "prefork"}.get(name, name)
