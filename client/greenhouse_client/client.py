"""Greenhouse's public tasks as typed calls: arguments checked against the published schemas
before anything is sent, priorities 0 (low) … 9 (high) on Redis and RabbitMQ alike, results as
typed objects, failures as clear exceptions."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

import celery.exceptions
import kombu.exceptions
from celery import Celery
from celery.result import AsyncResult

from greenhouse_client import results
from greenhouse_client.errors import (
    BrokerUnavailable,
    ContractMismatch,
    InvalidArguments,
    ResultTimeout,
    TaskFailed,
)
from greenhouse_client.validation import first_problem

T = TypeVar("T")
LOWEST, DEFAULT, HIGHEST = 0, 5, 9
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+socket", "sentinel"})
QUEUES = {
    "identification": "identification",
    "statistics": "statistics",
    "services": "maintenance",
    "moderation": "statistics",
}
RESULTS: dict[str, type[Any]] = {
    "identification.identify": results.Identification,
    "statistics.forum_overview": results.ForumOverview,
    "statistics.forum_detail": results.ForumDetail,
    "statistics.user_summary": results.UserSummary,
    "statistics.identification_summary": results.IdentificationSummary,
    "statistics.invalidate": results.Invalidated,
    "services.run": results.ServiceRun,
    "moderation.score_post": results.PostScore,
    "moderation.review_queue": results.ReviewQueue,
    "moderation.decide": results.Decision,
}
_SHOWN_CHARS = 64  # longer strings are shown to Flower and logs as a size and a digest


def native_priority(priority: int, *, redis: bool) -> int:
    """The broker's own number for a caller's 0 (low) … 9 (high): kombu's Redis transport
    serves low numbers first, RabbitMQ high ones."""
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise InvalidArguments(f"priority: must be an integer 0 … 9, got {priority!r}")
    if not LOWEST <= priority <= HIGHEST:
        raise InvalidArguments(f"priority: {priority} is outside 0 (low) … 9 (high)")
    return HIGHEST - priority if redis else priority


@cache
def schema(task: str, *, result: bool = False) -> dict[str, Any]:
    """The published JSON Schema of a task's keyword arguments (or of its result)."""
    name = f"{task}.result.json" if result else f"{task}.json"
    try:
        text = resources.files("greenhouse_client").joinpath("schemas", name).read_text()
    except FileNotFoundError:
        raise InvalidArguments(f"{task!r} is not a public Greenhouse task") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def summary(value: Any) -> str:
    """What Flower and logs show of the arguments: long strings as sizes and digests (as the
    workers' services/delivery/reprs.py does)."""

    def shown(item: Any) -> Any:
        if isinstance(item, str) and len(item) > _SHOWN_CHARS:
            digest = hashlib.sha256(item.encode()).hexdigest()[:16]
            return f"<{len(item):,} chars, sha256 {digest}>"
        if isinstance(item, list | tuple):
            return [shown(part) for part in item]
        if isinstance(item, dict):
            return {key: shown(part) for key, part in item.items()}
        return item

    return json.dumps(shown(value), default=str)[:1024]


class Pending(Generic[T]):
    """A task sent: its id at once, its typed result when it is ready."""

    def __init__(self, result: AsyncResult, task: str, *, timeout_s: float) -> None:
        self._result, self._task, self._timeout_s = result, task, timeout_s

    @property
    def id(self) -> str:
        return str(self._result.id)

    def ready(self) -> bool:
        return bool(self._result.ready())

    def get(self, timeout_s: float | None = None) -> T:
        """The result as its typed object; TaskFailed, ResultTimeout or ContractMismatch when
        there is none."""
        built: T = results.build(RESULTS[self._task], self.get_json(timeout_s))
        return built

    def get_json(self, timeout_s: float | None = None) -> dict[str, Any]:
        """The result as the JSON object the worker returned, checked against its schema."""
        wait = self._timeout_s if timeout_s is None else timeout_s
        try:
            value = self._result.get(timeout=wait, propagate=False)
        except celery.exceptions.TimeoutError:
            raise ResultTimeout(self.id, wait) from None
        if self._result.failed() or isinstance(value, BaseException):
            raise TaskFailed(self.id, type(value).__name__, str(value))
        problem = first_problem(schema(self._task, result=True), value)
        if problem is not None:
            raise ContractMismatch(f"{self._task} result: {problem}")
        return dict(value)


class Greenhouse:
    """Enqueues Greenhouse tasks on the broker its workers consume, reads results from its
    result backend (REDIS_URL on the workers' side)."""

    def __init__(
        self, broker_url: str, *, result_backend: str | None = None, timeout_s: float = 60.0
    ) -> None:
        self._redis = broker_url.split("://", 1)[0] in REDIS_SCHEMES
        if result_backend is None and not self._redis:
            raise ValueError("results live on Redis: pass result_backend='redis://…'")
        self._timeout_s = timeout_s
        self.app = Celery("greenhouse-client", set_as_current=False)
        self.app.conf.update(_settings(broker_url, result_backend or broker_url, self._redis))

    def close(self) -> None:
        self.app.close()

    def __enter__(self) -> Greenhouse:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def send(self, task: str, kwargs: dict[str, Any], *, priority: int = DEFAULT) -> Pending[Any]:
        """Any public task by name: checked, sent to its queue at `priority` (0 low … 9 high)."""
        problem = first_problem(schema(task), kwargs)
        if problem is not None:
            raise InvalidArguments(f"{task}: {problem}")
        native = native_priority(priority, redis=self._redis)
        try:
            sent = self.app.send_task(
                task,
                kwargs=kwargs,
                queue=QUEUES[task.split(".", 1)[0]],
                priority=native,
                argsrepr="()",
                kwargsrepr=summary(kwargs),
            )
        except kombu.exceptions.OperationalError as exc:
            raise BrokerUnavailable(f"{task} not sent: {exc}") from exc
        return Pending(sent, task, timeout_s=self._timeout_s)

    def identify(
        self,
        *,
        images: Sequence[bytes | str],
        organs: Sequence[str] | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
        request_id: str | None = None,
        priority: int = DEFAULT,
    ) -> Pending[results.Identification]:
        """Species for 1 to 5 JPEG or PNG photos (bytes, or base64 text)."""
        given = {
            "images": [_text(image) for image in images],
            "organs": None if organs is None else list(organs),
            "latitude": latitude,
            "longitude": longitude,
            "request_id": request_id,
        }
        payload = {key: value for key, value in given.items() if value is not None}
        return self.send("identification.identify", payload, priority=priority)

    def forum_overview(self, *, priority: int = DEFAULT) -> Pending[results.ForumOverview]:
        return self.send("statistics.forum_overview", {}, priority=priority)

    def forum_detail(
        self, *, forum_id: int, priority: int = DEFAULT
    ) -> Pending[results.ForumDetail]:
        return self.send("statistics.forum_detail", {"forum_id": forum_id}, priority=priority)

    def user_summary(
        self, *, user_id: int, priority: int = DEFAULT
    ) -> Pending[results.UserSummary]:
        return self.send("statistics.user_summary", {"user_id": user_id}, priority=priority)

    def identification_summary(
        self, *, days: int = 7, priority: int = DEFAULT
    ) -> Pending[results.IdentificationSummary]:
        return self.send("statistics.identification_summary", {"days": days}, priority=priority)

    def invalidate(self, *, scope: str, priority: int = DEFAULT) -> Pending[results.Invalidated]:
        return self.send("statistics.invalidate", {"scope": scope}, priority=priority)

    def run_service(self, *, name: str, priority: int = DEFAULT) -> Pending[results.ServiceRun]:
        return self.send("services.run", {"name": name}, priority=priority)

    def score_post(self, *, post_id: int, priority: int = DEFAULT) -> Pending[results.PostScore]:
        return self.send("moderation.score_post", {"post_id": post_id}, priority=priority)

    def review_queue(
        self, *, limit: int = 50, offset: int = 0, priority: int = DEFAULT
    ) -> Pending[results.ReviewQueue]:
        kwargs = {"limit": limit, "offset": offset}
        return self.send("moderation.review_queue", kwargs, priority=priority)

    def decide(
        self, *, post_id: int, decision: str, priority: int = DEFAULT
    ) -> Pending[results.Decision]:
        """approve, reject or not_spam (which counts for the author's history)."""
        kwargs = {"post_id": post_id, "decision": decision}
        return self.send("moderation.decide", kwargs, priority=priority)


def _text(image: bytes | str) -> str:
    return image if isinstance(image, str) else base64.b64encode(image).decode()


def _settings(broker_url: str, result_backend: str, redis: bool) -> dict[str, Any]:
    """What a publisher must agree on with the workers (celeryconfig.py), and no more."""
    settings: dict[str, Any] = {
        "broker_url": broker_url,
        "result_backend": result_backend,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_queue_max_priority": HIGHEST + 1,  # declared as the workers declare them
        "task_publish_retry_policy": {"max_retries": 3, "interval_start": 0.2},
        "broker_connection_timeout": 5,
        "redis_socket_timeout": 10,
        "redis_socket_connect_timeout": 5,
    }
    if redis:  # one list per priority, as the workers poll them
        settings["broker_transport_options"] = {"priority_steps": list(range(HIGHEST + 1))}
    return settings
