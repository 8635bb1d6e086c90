"""What a plant-identification provider answers, and how its HTTP failures are classified."""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from services.errors import PermanentError, TransientError, classify_http, parse_retry_after
from services.identification.http import PerThreadClient
from services.identification.payload import IdentifyRequest

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


def raise_for_status(provider: str, response: httpx.Response) -> None:
    """429/5xx → TransientError (429 with Retry-After as the minimum delay); 4xx → permanent."""
    status = response.status_code
    if status < 400:
        return
    retry_after = response.headers.get("Retry-After")
    verdict = classify_http(status, retry_after)
    detail = _detail(response)
    if verdict.transient:
        raise TransientError(
            f"{provider}: HTTP {status}{detail}", min_delay_s=parse_retry_after(retry_after)
        )
    hint = " (check the API key)" if status in (401, 403) else ""
    raise PermanentError(f"{provider} rejected the request: HTTP {status}{detail}{hint}")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    message = body.get("message") or body.get("error") if isinstance(body, dict) else None
    return f" {str(message)[:200]!r}" if message else ""
