"""Identification: cache → single-flight → both providers at once, each behind its breaker →
merge → cache → record."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from concurrent.futures import TimeoutError as DeadlineExceeded
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from services import metrics
from services.errors import PermanentError, TransientError, classify
from services.identification.budget import QuotaBudget
from services.identification.images import same_pictures
from services.identification.merge import Identification, SourceReport, merge
from services.identification.payload import (
    JPEG_QUALITY,
    MAX_SIDE_PX,
    IdentifyRequest,
    Submission,
    prepare_all,
)
from services.identification.providers import Provider, ProviderAnswer, RateLimited
from services.identification.quota import QuotaSink
from services.identification.records import IdentificationRecord, IdentificationRecords
from services.identification.uploads import THUMBNAILS, UploadIndex, thumbnails, without_thumbnails
from services.resilience.breaker import BreakerOpen
from services.resilience.guards import Breaker, Flight
from services.resilience.ratelimit import Throttled

GRACE_S = 0.5  # past the deadline, how long to wait for a call to report that it stopped
CALL_MIN_S = 1.0  # a rate slot later than this before the deadline leaves the call no time


class IdentificationService:
    """Answers identification requests; no upstream is asked twice for the same photos."""

    def __init__(
        self,
        *,
        providers: Sequence[tuple[Provider, Breaker]],
        flight: Flight,
        records: IdentificationRecords,
        pools: Callable[[str], Executor],
        deadline_s: float,
        full_ttl_s: int,
        partial_ttl_s: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        quota: QuotaSink | None = None,
        budget: QuotaBudget | None = None,
        throttle_wait_s: float = 2.0,
        default_pause_s: float = 5.0,
        uploads: UploadIndex | None = None,
        max_side_px: int = MAX_SIDE_PX,
        jpeg_quality: int = JPEG_QUALITY,
    ) -> None:
        self._providers = providers
        self._flight = flight
        self._records = records
        self._pools = pools
        self._deadline_s = deadline_s
        self._full_ttl_s = full_ttl_s
        self._partial_ttl_s = partial_ttl_s
        self._now = clock
        self._quota = quota
        self._budget = budget
        self._throttle_wait_s = throttle_wait_s
        self._default_pause_s = default_pause_s
        self._uploads = uploads
        self._max_side_px = max_side_px
        self._quality = jpeg_quality

    def identify(
        self, request: IdentifyRequest | Submission, *, task_id: str, priority: int | None = None
    ) -> Identification:
        """Answer, then record it (once per request id, or per task id without one)."""
        started = time.perf_counter()
        result = self.answer(request, priority=priority)
        latency_ms = (time.perf_counter() - started) * 1000
        self._records.add(_record(result, task_id, latency_ms, at=self._now()))
        return result

    def answer(
        self, request: IdentifyRequest | Submission, *, priority: int | None = None
    ) -> Identification:
        """From the cache, from another process's identical request, or from the providers;
        a submission seen before is answered without decoding its photos again."""
        if isinstance(request, IdentifyRequest):
            data, cached = self._answer(request, priority)
            return _result(data, cached, request.request_id)
        seen = self._uploads.find(request.upload_key) if self._uploads else None
        if seen is not None:
            return _result(seen, True, request.request_id)
        prepared = prepare_all(request, max_side_px=self._max_side_px, jpeg_quality=self._quality)
        data, cached = self._answer(prepared, priority)
        if self._uploads is not None:
            self._uploads.remember(request.upload_key, data=data, ttl_s=self._ttl_for(data))
        return _result(data, cached, request.request_id)

    def _answer(
        self, request: IdentifyRequest, priority: int | None
    ) -> tuple[dict[str, Any], bool]:
        def ask_under(key: str) -> Callable[[], dict[str, Any]]:
            # The answer names the key it is cached under (its image_sha256).
            pictures = [thumbnail.hex() for thumbnail in request.thumbnails]
            return lambda: self._ask(request, priority, key=key).to_dict() | {THUMBNAILS: pictures}

        key = request.fingerprint
        data, cached = self._flight.get_or_compute(key, ask_under(key), ttl_s=self._ttl_for)
        if cached and not same_pictures(thumbnails(data), request.thumbnails):
            # Other pictures share the coarse fingerprint: never their answer; these very
            # photos get a key of their own.
            key = request.exact_fingerprint
            data, cached = self._flight.get_or_compute(key, ask_under(key), ttl_s=self._ttl_for)
        metrics.cache_request("identification", "hit" if cached else "miss")
        return data, cached

    def _ttl_for(self, data: dict[str, Any]) -> int:
        # A partial answer is cached briefly, so the full one replaces it soon.
        complete = all(report["status"] == "ok" for report in data["sources"].values())
        return self._full_ttl_s if complete else self._partial_ttl_s

    def _ask(self, request: IdentifyRequest, priority: int | None, *, key: str) -> Identification:
        deadline = time.monotonic() + self._deadline_s
        futures = {
            provider.name: self._pools(provider.name).submit(
                self._timed_call, provider, breaker, request, deadline, priority
            )
            for provider, breaker in self._providers
        }
        answers: dict[str, ProviderAnswer] = {}
        sources: dict[str, SourceReport] = {}
        errors: list[Exception] = []
        for name, future in futures.items():
            try:
                # Each call stops itself at the deadline; the grace lets it say so.
                left_s = max(0.0, deadline - time.monotonic()) + GRACE_S
                answers[name], latency_ms = future.result(left_s)
                sources[name] = SourceReport(status="ok", latency_ms=round(latency_ms, 1))
            except RateLimited as exc:  # asked, and it said 429 (every process now waits)
                sources[name] = SourceReport(status="failed", reason=str(exc))
                errors.append(exc)
            except (BreakerOpen, Throttled) as exc:  # not asked: its breaker, pause, rate, quota
                sources[name] = SourceReport(status="skipped", reason=str(exc))
                errors.append(exc)
            except DeadlineExceeded:
                # Still waiting for a thread: it never starts, and spends no quota.
                never_started = future.cancel()
                reason = f"{name}: no answer within {self._deadline_s:g}s" + (
                    " (its pool was busy)" if never_started else ""
                )
                sources[name] = SourceReport(status="failed", reason=reason)
                errors.append(TransientError(reason))
            except Exception as exc:
                sources[name] = SourceReport(status="failed", reason=str(exc))
                errors.append(exc)
        if not answers:
            raise _combined(errors)
        self._note_quota(answers)
        return merge(key, answers, sources)

    def _note_quota(self, answers: dict[str, ProviderAnswer]) -> None:
        # Only fresh answers carry a count (a cached one costs no quota): one write per miss.
        remaining = {
            name: count
            for name, answer in answers.items()
            if (count := answer.remaining_requests) is not None
        }
        if remaining and self._quota is not None:
            self._quota.record(remaining)
        if self._budget is not None:  # the provider's count replaces the budget's
            for name, count in remaining.items():
                self._budget.sync(name, remaining=count, limit=answers[name].daily_limit)

    def _timed_call(
        self,
        provider: Provider,
        breaker: Breaker,
        request: IdentifyRequest,
        deadline: float,
        priority: int | None,
    ) -> tuple[ProviderAnswer, float]:
        if time.monotonic() >= deadline:  # queued past the deadline: nobody waits for it any more
            raise TransientError(f"{provider.name}: its turn came after the deadline")
        budget = self._budget
        if budget is not None:  # its slot: no later than leaves the call time before the deadline
            wait_s = min(self._throttle_wait_s, deadline - time.monotonic() - CALL_MIN_S)
            budget.acquire(provider.name, priority=priority, wait_s=max(0.0, wait_s))
        started = time.perf_counter()
        try:
            answer = breaker.call(provider.identify, request, deadline=deadline)
        except BreakerOpen:
            if budget is not None:
                budget.refund(provider.name)  # admitted, never made: not a call of today's quota
            raise
        except RateLimited as exc:
            if budget is not None:
                budget.pause(provider.name, exc.retry_after_s or self._default_pause_s)
            raise
        return answer, (time.perf_counter() - started) * 1000


def _result(data: dict[str, Any], cached: bool, request_id: str | None) -> Identification:
    answer = Identification.from_dict(without_thumbnails(data))
    return replace(answer, cached=cached, request_id=request_id)


def _combined(errors: list[Exception]) -> Exception:
    """Every provider failed: transient if any may recover (no sooner than the soonest)."""
    reasons = "; ".join(str(error) for error in errors)
    verdicts = [classify(error) for error in errors]
    if not any(verdict.transient for verdict in verdicts):
        return PermanentError(f"no provider could identify these images: {reasons}")
    delay = min(verdict.min_delay_s for verdict in verdicts if verdict.transient)
    return TransientError(f"no provider answered: {reasons}", min_delay_s=delay)


def _record(
    result: Identification, task_id: str, latency_ms: float, *, at: datetime
) -> IdentificationRecord:
    key = f"request:{result.request_id}" if result.request_id else f"task:{task_id}"
    return IdentificationRecord(
        idempotency_key=key,
        request_id=result.request_id,
        image_sha256=result.image_sha256,
        top_species=result.suggestions[0].name if result.suggestions else None,
        is_plant=result.is_plant,
        plant_id_status=result.sources.get("plant_id", SourceReport(status="skipped")).status,
        plantnet_status=result.sources.get("plantnet", SourceReport(status="skipped")).status,
        cached=result.cached,
        latency_ms=round(latency_ms, 1),
        created_at=at,
    )
