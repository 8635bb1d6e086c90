"""What a plant-identification provider answers, and how its HTTP failures are classified."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass

import httpx

from services.errors import PermanentError, TransientError, classify_http, parse_retry_after
from services.identification.payload import IdentifyRequest

# httpx logs every request URL at INFO, and PlantNet's URL carries the API key.
logging.getLogger("httpx").setLevel(logging.WARNING)


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
    def identify(self, request: IdentifyRequest) -> ProviderAnswer:
        """Ask the API; raise TransientError or PermanentError (never with a secret inside)."""


def http_client(*, connect_timeout_s: float, read_timeout_s: float) -> httpx.Client:
    """One pooled client per provider per process."""
    timeout = httpx.Timeout(read_timeout_s, connect=connect_timeout_s)
    return httpx.Client(timeout=timeout, limits=httpx.Limits(max_connections=32))


def send(provider: str, client: httpx.Client, request: httpx.Request) -> httpx.Response:
    """Send; map transport failures to TransientError with messages free of URLs and keys."""
    try:
        return client.send(request)
    except httpx.TimeoutException as exc:
        raise TransientError(f"{provider}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        raise TransientError(f"{provider}: connection failed ({type(exc).__name__})") from None


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
