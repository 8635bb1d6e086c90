"""Flower as Greenhouse runs it (`greenhouse flower`; `up` and docker-compose start it so): never
listening off loopback without authentication, its API and /metrics behind the same
authentication as its pages, and a cookie secret that survives restarts."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from services.settings import LOOPBACK, Settings

# What `celery flower --conf` executes: Python, but no module, as it acts when run.
CONF = Path(__file__).with_name("flower.conf")


def refusal(settings: Settings) -> str | None:
    """Why Flower must not start as configured, or None."""
    authenticated = settings.flower_basic_auth or (
        settings.flower_auth and settings.flower_auth_provider
    )
    if settings.flower_address not in LOOPBACK and not authenticated:
        return (
            f"FLOWER_ADDRESS={settings.flower_address} is off loopback without authentication: "
            "set FLOWER_BASIC_AUTH=user:password (or FLOWER_AUTH and FLOWER_AUTH_PROVIDER for "
            "OAuth), or FLOWER_ADDRESS=127.0.0.1"
        )
    return None


def options(settings: Settings) -> dict[str, Any]:
    """Flower's options from the settings (its own FLOWER_* variables say the same)."""
    problem = refusal(settings)
    if problem:
        raise SystemExit(f"greenhouse: refusing to start Flower:\n  - {problem}")
    _guard_metrics()
    chosen: dict[str, Any] = {
        "address": settings.flower_address,
        "port": settings.flower_port,
        "cookie_secret": cookie_secret(settings),
        "purge_offline_workers": 300,  # a worker gone five minutes leaves the workers page
    }
    if settings.flower_basic_auth:
        chosen["basic_auth"] = [settings.flower_basic_auth]
    return chosen


def cookie_secret(settings: Settings) -> str:
    """FLOWER_COOKIE_SECRET, else one made once and kept (0600) under VAR_DIR."""
    if settings.flower_cookie_secret:
        return settings.flower_cookie_secret
    path = settings.var_dir / "flower-cookie-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _guard_metrics() -> None:
    """Flower serves /metrics to anyone; require what its pages require (/healthcheck stays
    open for container health checks)."""
    import tornado.web
    from flower.views import monitor

    if not getattr(monitor.Metrics.get, "greenhouse_guarded", False):
        guarded: Any = tornado.web.authenticated(monitor.Metrics.get)
        guarded.greenhouse_guarded = True
        monitor.Metrics.get = guarded
