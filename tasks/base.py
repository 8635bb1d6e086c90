"""Base task: transient failures retry with backoff, permanent ones fail at once with a reason."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.canvas import Signature
from celery.exceptions import Retry
from celery.worker.request import Request

from services.delivery import priority
from services.errors import PermanentError, classify
from tasks import runtime

log = logging.getLogger(__name__)


class GreenhouseRequest(Request):
    """Makes the request visible to task_failure receivers when the parent handles a timeout."""

    def on_timeout(self, soft: bool, timeout: float) -> None:
        self.task.request_stack.push(self._context)
        try:
            super().on_timeout(soft, timeout)
        finally:
            self.task.request_stack.pop()


class GreenhouseTask(Task):
    """Every Greenhouse task: classified errors, backoff with full jitter, caller priorities."""

    Request = GreenhouseRequest
    # Expected outcomes: logged without a traceback (the dead-letter line says it all).
    throws = (PermanentError,)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except Retry:
            raise
        except Exception as exc:
            verdict = classify(exc)
            if not verdict.transient:
                raise
            policy = runtime.container().retry_policy
            retries = self.request.retries
            countdown = policy.countdown(retries, min_delay_s=verdict.min_delay_s)
            log.warning(
                "%s[%s] transient %s (attempt %d of %d); retry in %.2fs",
                self.name,
                self.request.id,
                type(exc).__name__,
                retries + 1,
                policy.max_retries + 1,
                countdown,
            )
            raise self.retry(exc=exc, countdown=countdown, max_retries=policy.max_retries) from exc

    def signature_from_request(self, request: Any = None, *args: Any, **kwargs: Any) -> Signature:
        """Retries republish in the caller's priority scale (the publish hook maps it again)."""
        signature = super().signature_from_request(request, *args, **kwargs)
        native = signature.options.get("priority")
        if native is not None:
            on_redis = priority.is_redis_url(self.app.conf.broker_url)
            signature.options["priority"] = priority.from_broker(native, redis=on_redis)
        return signature
