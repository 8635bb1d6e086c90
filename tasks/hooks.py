"""Signal receivers: startup check, per-process wiring, caller priorities, dead letters (and,
in tasks/heartbeats.py, each worker's heartbeat)."""

from __future__ import annotations

import logging
import warnings
from typing import Any

import redis
from celery import Task, current_app
from celery.exceptions import CPendingDeprecationWarning
from celery.signals import (
    before_task_publish,
    celeryd_init,
    task_failure,
    task_unknown,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
)
from kombu.message import Message

from services import metrics
from services.delivery import configcheck, priority
from services.delivery.causes import cause_of
from services.delivery.deadletters import DeadLetter, now
from services.delivery.replay import replay_of
from tasks import deadlines, heartbeats, runtime  # deadlines, heartbeats: receivers connect
from tasks.startup import start_local_redis_if_unconfigured

log = logging.getLogger(__name__)


@celeryd_init.connect
def start_local_redis(**_: Any) -> None:
    """With REDIS_URL unset the worker runs on the embedded Redis, started before it connects."""
    start_local_redis_if_unconfigured()


@celeryd_init.connect
def refuse_unsafe_configuration(**_: Any) -> None:
    """The worker stops before consuming anything when its configuration is unsafe."""
    problems = configcheck.refusals(current_app.conf)
    if problems:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        # SystemExit passes through Celery's signal dispatch, which swallows Exceptions.
        raise SystemExit(f"greenhouse: refusing to start the worker:\n{lines}")


@worker_init.connect
def size_clients_for_the_pool(sender: Any, **_: Any) -> None:
    """Provider threads, HTTP and Redis connections follow the tasks a process runs at once."""
    pool = heartbeats.pool_name(sender.pool_cls)
    runtime.configure_worker(pool=pool, concurrency=int(sender.concurrency))
    if pool == "threads":  # Celery enforces time limits only in prefork and gevent
        deadlines.watch(default_limit_s=current_app.conf.task_soft_time_limit)


@worker_ready.connect
def quiet_the_cancel_on_connection_loss_warning(**_: Any) -> None:
    """Leases make not cancelling on a lost connection the safe choice; Celery would warn of its
    future default at every reconnect (installed after Celery's logging set-up, which resets
    warning filters)."""
    warnings.filterwarnings(
        "ignore", r"\s*In Celery 5\.1 we introduced", CPendingDeprecationWarning
    )


@worker_ready.connect
def move_held_dead_letters_in(**_: Any) -> None:
    """Letters held in Redis, or on this host's disk, while the table was away go in now."""
    try:
        moved = runtime.container().dead_letters.drain()
    except Exception as exc:  # the next drain (any worker start, any listing) tries again
        log.warning("could not move held dead letters into the table yet (%s)", exc)
    else:
        if moved:
            log.warning("moved %d held dead letters into the table", moved)
    finally:
        runtime.close()  # pool processes build their own clients


@worker_ready.connect
def warn_on_evicting_broker(**_: Any) -> None:
    if not _on_redis():
        return
    client = redis.Redis.from_url(str(current_app.conf.broker_url), socket_timeout=5)
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.RedisError:  # managed Redis often disables CONFIG
        return
    finally:
        client.close()
    warning = configcheck.eviction_warning(policy)
    if warning:
        log.warning("greenhouse: %s", warning)


@worker_process_init.connect
def rebuild_clients_after_fork(**_: Any) -> None:
    runtime.close()


class _OneLineBackendRetries(logging.Filter):
    """Celery logs each result-backend retry with a whole traceback; during an outage of a
    minute that is hundreds of lines saying one thing. One line each, with the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and str(record.msg).startswith("Failed operation"):
            error = record.exc_info[1]
            record.msg = f"{record.msg} ({type(error).__name__}: {error})"
            record.exc_info = record.exc_text = None
        return True


@worker_process_init.connect
def quiet_backend_retries(**_: Any) -> None:
    logging.getLogger("celery.backends.base").addFilter(_OneLineBackendRetries())


@worker_process_shutdown.connect
def close_clients(**_: Any) -> None:
    runtime.close()


@before_task_publish.connect
def publish_in_broker_priority(properties: dict[str, Any], **_: Any) -> None:
    """Callers use 0 (low) … 9 (high) on every broker; the broker gets its own scale."""
    properties["priority"] = priority.to_broker(properties.get("priority"), redis=_on_redis())


@task_failure.connect
def dead_letter_on_failure(
    sender: Task, task_id: str, exception: BaseException, args: Any, kwargs: Any, **_: Any
) -> None:
    """Every final failure lands in the dead-letter table, replayable."""
    request = sender.request
    delivery = request.delivery_info or {}
    cause = cause_of(sender.name, exception, providers=runtime.container().breakers)
    record(
        DeadLetter(
            task_id=task_id,
            task_name=sender.name,
            args=list(args or []),
            kwargs=dict(kwargs or {}),
            queue=delivery.get("routing_key"),
            priority=_caller_priority(delivery.get("priority")),
            error_type=type(exception).__name__,
            error_message=str(exception),
            attempts=(request.retries or 0) + 1,
            failed_at=now(),
            cause=cause.kind,  # what dead-letter recovery replays, and when
            upstreams=cause.upstreams,
            replay_of=replay_of(request),
        )
    )


@task_unknown.connect
def dead_letter_unknown_task(
    message: Message, exc: BaseException, name: str, id: str, **_: Any
) -> None:
    """Celery drops a message naming no registered task; keep it, so it can be replayed."""
    args, kwargs, _embed = message.decode()
    delivery = message.delivery_info or {}
    record(
        DeadLetter(
            task_id=id,
            task_name=name,
            args=list(args),
            kwargs=dict(kwargs),
            queue=delivery.get("routing_key"),
            priority=_caller_priority(message.properties.get("priority")),
            error_type="NotRegistered",
            error_message=f"no task named {name!r} is registered on this worker",
            attempts=1,
            failed_at=now(),
        )
    )


def _on_redis() -> bool:
    return priority.is_redis_url(str(current_app.conf.broker_url))


def _caller_priority(native: int | None) -> int | None:
    return priority.from_broker(native, redis=_on_redis())


def record(letter: DeadLetter) -> None:
    metrics.dead_letter(letter.task_name)
    try:
        letter_id = runtime.container().dead_letters.record(letter)
    except Exception:
        log.exception(
            "could not record dead letter for %s[%s] (arguments sha256 %s, %d bytes)",
            letter.task_name,
            letter.task_id,
            letter.arguments_digest,
            letter.arguments_bytes,
        )
        raise
    log.error(
        "%s[%s] failed for good (%s); dead letter %s, arguments sha256 %s",
        letter.task_name,
        letter.task_id,
        letter.error_type,
        letter_id if letter_id is not None else "held in Redis",
        letter.arguments_digest[:12],
    )
