"""Error classes every task understands, and the classifier that maps any exception to them."""

from __future__ import annotations

import email.utils
import socket
import time
from dataclasses import dataclass

import httpx
import kombu.exceptions
import redis
import sqlalchemy.exc
from celery.exceptions import SoftTimeLimitExceeded


class GreenhouseError(Exception):
    """Base of the errors Greenhouse raises on purpose."""


class PermanentError(GreenhouseError):
    """Retrying cannot help (bad input, a request the upstream refuses): fail at once."""


class ValidationError(PermanentError):
    """The payload is invalid; the message says which field and why."""


class ContractError(ValidationError):
    """The arguments do not fit the task: positional where keywords are expected, and so on."""


class TransientError(GreenhouseError):
    """May succeed later; `min_delay_s` is the soonest a retry makes sense."""

    def __init__(self, message: str, *, min_delay_s: float = 0.0) -> None:
        super().__init__(message)
        self.min_delay_s = min_delay_s


@dataclass(frozen=True)
class Verdict:
    """How a failure is handled: retried (with a floor on the delay) or failed at once."""

    transient: bool
    min_delay_s: float = 0.0


PERMANENT = Verdict(transient=False)
TRANSIENT = Verdict(transient=True)

_TRANSIENT_TYPES: tuple[type[BaseException], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    kombu.exceptions.OperationalError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection free in time
    httpx.TransportError,
    httpx.DecodingError,  # a body cut or garbled on the way
    ConnectionError,
    TimeoutError,
    socket.timeout,
    SoftTimeLimitExceeded,
)
# Transient, but retrying at once would only meet the same state: the soonest worth trying.
_SLOW_TO_CLEAR: tuple[tuple[type[BaseException], float], ...] = (
    (redis.exceptions.OutOfMemoryError, 5.0),  # at maxmemory under noeviction, until freed
    (redis.exceptions.ReadOnlyError, 2.0),  # a replica during failover, until promoted
)
READ_ONLY_SQLSTATE = "25006"  # PostgreSQL: a read-only transaction (a standby, a failover)


def classify(exc: BaseException) -> Verdict:
    """Transient (retry with backoff) or permanent (fail now, dead-letter); unknown = permanent."""
    if isinstance(exc, TransientError):
        return Verdict(transient=True, min_delay_s=exc.min_delay_s)
    if isinstance(exc, PermanentError):
        return PERMANENT
    if isinstance(exc, httpx.HTTPStatusError):
        return classify_http(exc.response.status_code, exc.response.headers.get("Retry-After"))
    for kind, min_delay_s in _SLOW_TO_CLEAR:
        if isinstance(exc, kind):
            return Verdict(transient=True, min_delay_s=min_delay_s)
    read_only = getattr(getattr(exc, "orig", None), "sqlstate", None) == READ_ONLY_SQLSTATE
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and read_only:
        return Verdict(transient=True, min_delay_s=5.0)
    if isinstance(exc, _TRANSIENT_TYPES):
        return TRANSIENT
    # An unexpected exception is a bug until shown otherwise: retrying would repeat it.
    return PERMANENT


def classify_http(status: int, retry_after: str | None = None) -> Verdict:
    """429 and 5xx are transient (429 honours Retry-After); other 4xx are permanent."""
    if status == 429:
        return Verdict(transient=True, min_delay_s=parse_retry_after(retry_after))
    if status >= 500:
        return TRANSIENT
    return PERMANENT


def parse_retry_after(value: str | None, *, now: float | None = None) -> float:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); 0 when absent or bad."""
    if not value:
        return 0.0
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
