"""What a worker or beat does first when REDIS_URL is unset: run on the local kit's embedded
Redis, starting it unless another process has (it stops when the starting process exits)."""

from __future__ import annotations

from services.settings import load


def start_local_redis_if_unconfigured() -> None:
    settings = load()
    if settings.redis_url:
        return
    from localkit.redis_server import ensure_embedded_redis

    ensure_embedded_redis(settings)
