"""Base task: transient failures retry with backoff, permanent ones fail at once with a reason."""

from __future__ import annotations

import contextlib
import functools
import inspect
import logging
from collections.abc import Iterator
from typing import Any, NoReturn

from celery import Task
from celery.canvas import Signature
from celery.exceptions import Reject, Retry
from celery.worker.request import Request
from celery.worker.state import task_ready

from services.delivery import priority, reprs
from services.delivery.retry import PUBLISH_PATIENCE
from services.errors import ContractError, PermanentError, classify
from tasks import runtime

log = logging.getLogger(__name__)


class GreenhouseRequest(Request):
    """Celery's request, with two gaps closed: failures the worker's parent handles (timeouts,
    lost workers, retries that cannot be published) reach task_failure receivers with the
    request's context, and a task cut off by a lost connection is left to be redelivered,
    never reported REVOKED."""

    _argsrepr: str
    _kwargsrepr: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A publisher that is not Greenhouse's (a plain send_task) may have put whole photos in
        # its reprs: events, Flower and `inspect` are shown a summary instead (sizes only here:
        # hashing megabytes would cost the consumer thread milliseconds).
        if not reprs.safe(self._argsrepr):
            self._argsrepr = reprs.summary(self.args, digest=False)
        if not reprs.safe(self._kwargsrepr):
            self._kwargsrepr = reprs.summary(self.kwargs, digest=False)

    @contextlib.contextmanager
    def _in_context(self) -> Iterator[None]:
        self.task.request_stack.push(self._context)
        try:
            yield
        finally:
            self.task.request_stack.pop()

    def on_timeout(self, soft: bool, timeout: float) -> None:
        with self._in_context():
            super().on_timeout(soft, timeout)

    def cancel(self, pool: Any, signal: Any = None, emit_retry: bool = True) -> None:
        # Celery marks the request cancelled only after storing RETRY, which fails while the
        # broker is away, and not at all before the pool reports the start; either way the
        # killed task was then announced REVOKED and its message acknowledged.
        self._already_cancelled = True
        super().cancel(pool, signal, emit_retry=False)

    def on_failure(
        self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
    ) -> Any:
        if self._already_cancelled:  # stopped by cancel(): the broker redelivers the message
            task_ready(self)
            return None
        with self._in_context():
            return super().on_failure(exc_info, send_failed_event, return_ok)


class GreenhouseTask(Task):
    """Every Greenhouse task: checked arguments, classified errors, backoff with full jitter,
    caller priorities."""

    Request = GreenhouseRequest
    # The "succeeded" log line; the whole result is in the backend. Celery's saferepr of an
    # identification's answer costs 98 µs at 200 characters and 17 µs at 80.
    resultrepr_maxsize = 80
    # Expected outcomes: logged without a traceback (the dead-letter line says it all).
    throws = (PermanentError,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._check_arguments(args, kwargs)
        try:
            return super().__call__(*args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            verdict = classify(exc)
            if not verdict.transient:
                raise
            self._retry_later(exc, verdict.min_delay_s)

    @property
    def caller_priority(self) -> int:
        """The running task's priority on the caller's scale, 0 (low) … 9 (high)."""
        native = (self.request.delivery_info or {}).get("priority")
        on_redis = priority.is_redis_url(str(self.app.conf.broker_url))
        return priority.clamp(priority.from_broker(native, redis=on_redis))

    @functools.cached_property
    def _signature(self) -> inspect.Signature:
        return inspect.signature(self.run)

    def _check_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Arguments that do not fit the task are a contract error, not a TypeError traceback."""
        try:
            self._signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ContractError(f"{self.name}: {exc} (see docs/TASKS.md)") from None

    def _retry_later(self, exc: Exception, min_delay_s: float) -> NoReturn:
        """Raise Retry with a backoff countdown (or `exc` when retries are spent)."""
        policy = runtime.container().retry_policy
        retries = self.request.retries
        countdown = policy.countdown(retries, min_delay_s=min_delay_s)
        log.warning(
            "%s[%s] transient %s (attempt %d of %d); retry in %.2fs",
            self.name,
            self.request.id,
            type(exc).__name__,
            retries + 1,
            policy.max_retries + 1,
            countdown,
        )
        try:
            raise self.retry(
                exc=exc,
                countdown=countdown,
                max_retries=policy.max_retries,
                retry_policy=PUBLISH_PATIENCE,
            ) from exc
        except Reject as rejected:  # the retry could not be published
            if not classify(rejected.reason).transient:
                raise
            # The broker stayed away: the message is still held in it, so leave it there to be
            # delivered again (at once if Redis takes it back now, else when its lease lapses).
            log.warning(
                "%s[%s] broker unreachable, retry not published (%s); message left for redelivery",
                self.name,
                self.request.id,
                type(rejected.reason).__name__,
            )
            raise Reject(rejected.reason, requeue=True) from exc

    def signature_from_request(self, request: Any = None, *args: Any, **kwargs: Any) -> Signature:
        """Retries republish in the caller's priority scale (the publish hook maps it again)."""
        signature = super().signature_from_request(request, *args, **kwargs)
        native = signature.options.get("priority")
        if native is not None:
            on_redis = priority.is_redis_url(self.app.conf.broker_url)
            signature.options["priority"] = priority.from_broker(native, redis=on_redis)
        return signature
