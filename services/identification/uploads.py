"""Uploads already answered: the same bytes skip decoding (a 12-megapixel JPEG costs ~45 ms).

`greenhouse:v<N>:identification:upload:<upload key>` → the answer itself, kept as long as an
answer of its kind (full or partial). The upload key names these very bytes, organs and place,
so the answer is always for the same pictures, and a hit costs one GET: no second lookup of the
key the answer is cached under, which a colliding picture may have taken since.
"""

from __future__ import annotations

import logging
from typing import Any

import redis

from services import metrics
from services.resilience.cache import JsonCache

log = logging.getLogger(__name__)
THUMBNAILS = "thumbnails"  # cached beside an answer: which pictures it is for


class UploadIndex:
    """The cached answer for an upload seen before, in one GET; None otherwise."""

    def __init__(self, cache: JsonCache) -> None:
        self._cache = cache

    def find(self, upload_key: str) -> dict[str, Any] | None:
        try:
            data = self._cache.get(f"upload:{upload_key}")
        except redis.RedisError as exc:  # the photos are decoded and looked up as usual
            log.warning("could not look up an upload (%s)", exc)
            metrics.cache_request("uploads", "error")
            return None
        metrics.cache_request("uploads", "hit" if data else "miss")
        return dict(data) if data else None

    def remember(self, upload_key: str, *, data: dict[str, Any], ttl_s: int) -> None:
        try:
            self._cache.set(f"upload:{upload_key}", without_thumbnails(data), ttl_s=ttl_s)
        except redis.RedisError as exc:  # the next identical upload is decoded again
            log.warning("could not remember an upload (%s)", exc)


def thumbnails(data: Any) -> list[bytes]:
    return [bytes.fromhex(thumbnail) for thumbnail in (data or {}).get(THUMBNAILS, ())]


def without_thumbnails(data: dict[str, Any]) -> dict[str, Any]:
    """An answer as returned: the pictures it is for are kept only beside it in the cache."""
    return {key: value for key, value in data.items() if key != THUMBNAILS}
