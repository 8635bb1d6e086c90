"""Uploads already answered: the same bytes skip decoding (a 12-megapixel JPEG costs ~45 ms).

`greenhouse:v<N>:identification:upload:<upload key>` → the key the answer is cached under and
the pictures' thumbnails, kept as long as the answer. A hit is served only while that answer is
still for the same pictures (a colliding picture may have taken the key since).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis

from services.identification.images import same_pictures
from services.resilience.cache import JsonCache

log = logging.getLogger(__name__)
THUMBNAILS = "thumbnails"  # cached beside an answer: which pictures it is for


class UploadIndex:
    """Finds the cached answer for an upload seen before, in two GETs; None otherwise."""

    def __init__(self, cache: JsonCache) -> None:
        self._cache = cache

    def find(self, upload_key: str) -> dict[str, Any] | None:
        try:
            entry = self._cache.get(f"upload:{upload_key}")
            data = self._cache.get(entry["key"]) if entry else None
        except redis.RedisError as exc:  # the photos are decoded and looked up as usual
            log.warning("could not look up an upload (%s)", exc)
            return None
        if data is None or not same_pictures(thumbnails(entry), thumbnails(data)):
            return None
        return dict(data)

    def remember(self, upload_key: str, *, key: str, data: dict[str, Any], ttl_s: int) -> None:
        entry = {"key": key, THUMBNAILS: data.get(THUMBNAILS, [])}
        try:
            self._cache.client.set(
                self._cache.key(f"upload:{upload_key}"), json.dumps(entry), ex=ttl_s
            )
        except redis.RedisError as exc:  # the next identical upload is decoded again
            log.warning("could not remember an upload (%s)", exc)


def thumbnails(data: Any) -> list[bytes]:
    return [bytes.fromhex(thumbnail) for thumbnail in (data or {}).get(THUMBNAILS, ())]
