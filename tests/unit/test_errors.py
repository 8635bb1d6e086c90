import httpx
import redis
from celery.exceptions import SoftTimeLimitExceeded

from services.errors import (
    PermanentError,
    TransientError,
    ValidationError,
    classify,
    classify_http,
    parse_retry_after,
)


def _status_error(status: int, retry_after: str | None = None) -> httpx.HTTPStatusError:
    headers = {"Retry-After": retry_after} if retry_after else {}
    request = httpx.Request("POST", "http://upstream/identify")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError("upstream said no", request=request, response=response)


def test_connection_errors_and_timeouts_are_transient() -> None:
    for exc in (redis.ConnectionError(), TimeoutError(), httpx.ConnectTimeout("slow")):
        assert classify(exc).transient
    assert classify(SoftTimeLimitExceeded()).transient


def test_a_transient_error_carries_its_minimum_delay() -> None:
    verdict = classify(TransientError("breaker open", min_delay_s=12.0))
    assert verdict.transient and verdict.min_delay_s == 12.0


def test_validation_and_unexpected_errors_are_permanent() -> None:
    assert not classify(ValidationError("images[0] is not base64")).transient
    assert not classify(PermanentError("rejected")).transient
    assert not classify(KeyError("bug")).transient


def test_http_429_is_transient_and_honours_retry_after() -> None:
    verdict = classify(_status_error(429, "7"))
    assert verdict.transient and verdict.min_delay_s == 7.0


def test_http_5xx_is_transient_and_other_4xx_permanent() -> None:
    assert classify(_status_error(503)).transient
    for status in (400, 401, 403, 404, 413):
        assert not classify_http(status).transient


def test_retry_after_accepts_an_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", now=40.0) == 60.0
    assert parse_retry_after("garbage") == 0.0
    assert parse_retry_after(None) == 0.0
