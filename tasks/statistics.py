"""statistics.* tasks: validate, ask the statistics service, return a JSON-ready dict."""

from __future__ import annotations

from typing import Any

from services.statistics.payloads import validated
from services.statistics.service import StatisticsService
from tasks import runtime
from tasks.app import app


def _stats() -> StatisticsService:
    return runtime.container().statistics


@app.task(name="statistics.forum_overview")
def forum_overview(**payload: Any) -> dict[str, Any]:
    """Active users, approved topics and posts, users online, the latest member."""
    validated("statistics.forum_overview", payload)
    return _stats().forum_overview().to_dict()


@app.task(name="statistics.forum_detail")
def forum_detail(forum_id: Any = None, **payload: Any) -> dict[str, Any]:
    """One forum's topics, posts, posts this week, users online in it, and whether it trends."""
    args = validated("statistics.forum_detail", runtime.given(forum_id=forum_id, **payload))
    return _stats().forum_detail(args["forum_id"]).to_dict()


@app.task(name="statistics.user_summary")
def user_summary(user_id: Any = None, **payload: Any) -> dict[str, Any]:
    """One user's posts, topics started, first and last activity."""
    args = validated("statistics.user_summary", runtime.given(user_id=user_id, **payload))
    return _stats().user_summary(args["user_id"]).to_dict()


@app.task(name="statistics.identification_summary")
def identification_summary(days: Any = 7, **payload: Any) -> dict[str, Any]:
    """Identifications per day, per-provider success, top species, cache-hit ratio."""
    args = validated("statistics.identification_summary", runtime.given(days=days, **payload))
    return _stats().identification_summary(args["days"]).to_dict()


@app.task(name="statistics.invalidate")
def invalidate(scope: Any = None, **payload: Any) -> dict[str, Any]:
    """Drop the cached statistics of a scope; says which keys went."""
    args = validated("statistics.invalidate", runtime.given(scope=scope, **payload))
    return _stats().invalidate(args["scope"]).to_dict()
