"""What Flower, events and logs are shown of a task's arguments: small values as they are, long
strings (photos) as a size and a digest, never the value. The client (greenhouse_client.client)
summarises the same way; a unit test holds the two together."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

SHOWN_CHARS = 64  # longer strings are shown as a size and a digest
MAX_CHARS = 1024
_LONG_RUN = re.compile(rf"[A-Za-z0-9+/=_-]{{{SHOWN_CHARS + 1},}}")


def summary(value: Any, *, digest: bool = True) -> str:
    """`value` as JSON text with every long string replaced by `<N chars, sha256 …>`."""

    def shown(item: Any) -> Any:
        if isinstance(item, str) and len(item) > SHOWN_CHARS:
            if not digest:
                return f"<{len(item):,} chars>"
            return f"<{len(item):,} chars, sha256 {hashlib.sha256(item.encode()).hexdigest()[:16]}>"
        if isinstance(item, list | tuple):
            return [shown(part) for part in item]
        if isinstance(item, dict):
            return {key: shown(part) for key, part in item.items()}
        return item

    return json.dumps(shown(value), default=str)[:MAX_CHARS]


def safe(shown: str) -> bool:
    """True when a publisher's own repr shows no long run of base64 (a photo, a key)."""
    return len(shown) <= MAX_CHARS and not _LONG_RUN.search(shown)
