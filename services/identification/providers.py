"""What a plant-identification provider answers, and how its HTTP failures are classified."""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import httpx

from services.errors import PermanentError, TransientError, classify_http, parse_retry_after
from services.identification import allowance
from services.identification.http import PerThreadClient
from services.identification.payload import IdentifyRequest
from services.resilience.ratelimit import Throttled

CHUNK_BYTES = 64 * 1024  # an upload's pieces: the deadline is checked between them


@dataclass(frozen=True, kw_only=True)
class Suggestion:
    """One species a provider proposes."""

    name: str
    probability: float
    family: str | None = None
    genus: str | None = None
    common_names: tuple[str, ...] = ()
    gbif_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ProviderAnswer:
    """A provider's whole answer; `suggestions` ordered by probability."""

    provider: str
    is_plant: bool
    suggestions: tuple[Suggestion, ...] = ()
    remaining_requests: int | None = None
    daily_limit: int | None = None  # what the provider said its quota is, when it said


class RateLimited(Throttled):
    """The provider answered 429: pause it for every process (`retry_after_s`, 0 if unsaid)."""

    def __init__(self, provider: str, message: str, *, retry_after_s: float) -> None:
        super().__init__(message, provider=provider, reason="upstream", min_delay_s=retry_after_s)
        self.retry_after_s = retry_after_s


class Provider(ABC):
    """A plant-identification API."""

    name: str

    @abstractmethod
    def identify(self, request: IdentifyRequest, *, deadline: float) -> ProviderAnswer:
        """Ask the API, answered by `deadline` (time.monotonic()); raise TransientError or
        PermanentError (never with a secret inside)."""


def http_client(*, connect_timeout_s: float, read_timeout_s: float) -> httpx.Client:
    """One client per provider per process, sending from a client per thread (http.py), each
    connection kept alive for reuse."""
    # httpx logs every request URL at INFO, and PlantNet's URL carries the API key.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
    return PerThreadClient(timeout=timeout, limits=limits)


def send(
    provider: str, client: httpx.Client, request: httpx.Request, *, deadline: float
) -> httpx.Response:
    """Send and read the whole answer by `deadline` (time.monotonic()), or TransientError.

    httpx's timeouts bound each read and write, not the call: a slow upload or an answer that
    trickles in never trips them. So the body goes out in pieces and the answer comes in in
    pieces, the clock checked between them, and before each phase (upload, waiting for the
    answer, reading it) its timeout is cut to the time left; httpcore reads those timeouts from
    the request as each phase begins. Messages never carry the URL (PlantNet's has the key).
    """
    timeout = request.extensions["timeout"]

    def time_left() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TransientError(f"{provider}: no answer within the deadline")
        return left

    for phase in ("connect", "pool", "write", "read"):
        timeout[phase] = min(timeout.get(phase) or math.inf, time_left())
    body = request.read()

    def upload() -> Iterator[bytes]:
        for start in range(0, len(body), CHUNK_BYTES):
            timeout["write"] = min(timeout["write"], time_left())
            yield body[start : start + CHUNK_BYTES]
        timeout["read"] = time_left()  # the wait for the answer's first bytes

    streamed = httpx.Request(
        request.method,
        request.url,
        headers=request.headers,
        content=upload(),
        extensions=request.extensions,
    )
    try:
        response = client.send(streamed, stream=True)
        try:
            timeout["read"] = time_left()
            content = b"".join(_pieces(response, time_left))
        finally:
            response.close()
        # Decoded here (gzip and the like), so a garbled body is a failed call, not a bug.
        return httpx.Response(
            response.status_code, headers=response.headers, content=content, request=streamed
        )
    except httpx.TimeoutException as exc:
        raise TransientError(f"{provider}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise TransientError(f"{provider}: connection failed ({type(exc).__name__})") from None
    except httpx.DecodingError:
        raise TransientError(f"{provider}: answer could not be decoded") from None


def _pieces(response: httpx.Response, time_left: Callable[[], float]) -> Iterator[bytes]:
    for piece in response.iter_raw():
        time_left()
        yield piece


def json_body(provider: str, response: httpx.Response) -> Any:
    """The answer's JSON; a body that is not JSON (a maintenance page) is transient."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "unknown type")
        raise TransientError(f"{provider}: answer is not JSON ({kind[:40]})") from None


def with_allowance(answer: ProviderAnswer, headers: httpx.Headers) -> ProviderAnswer:
    """The answer with what its quota headers say is left (the body's own count first)."""
    left = allowance.from_headers(headers)
    if left is None:
        return answer
    remaining = answer.remaining_requests
    return replace(
        answer,
        remaining_requests=left.remaining if remaining is None else remaining,
        daily_limit=left.limit,
    )


def raise_for_status(provider: str, response: httpx.Response) -> None:
    """429 → RateLimited; 5xx → TransientError; other 4xx → permanent."""
    status = response.status_code
    if status < 400:
        return
    retry_after = response.headers.get("Retry-After")
    verdict = classify_http(status, retry_after)
    detail = _detail(response)
    if status == 429:
        wait_s = retry_after_s(response.headers)
        raise RateLimited(provider, f"{provider}: HTTP 429{detail}", retry_after_s=wait_s)
    if verdict.transient:
        raise TransientError(
            f"{provider}: HTTP {status}{detail}", min_delay_s=parse_retry_after(retry_after)
        )
    hint = " (check the API key)" if status in (401, 403) else ""
    raise PermanentError(f"{provider} rejected the request: HTTP {status}{detail}{hint}")


def retry_after_s(headers: httpx.Headers) -> float:
    """Retry-After; else, when the quota headers say nothing is left, the time to their reset."""
    stated = parse_retry_after(headers.get("Retry-After"))
    if stated > 0:
        return stated
    left = allowance.from_headers(headers)
    if left is not None and left.remaining == 0 and left.reset_s is not None:
        return left.reset_s
    return 0.0


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") or body.get("error") if isinstance(body, dict) else None
    return f" {str(message)[:200]!r}" if message else ""
