"""moderation.* tasks: validate, ask the moderation service, return a JSON-ready dict."""

from __future__ import annotations

from typing import Any

from services.moderation.payloads import validated
from services.moderation.service import ModerationService
from tasks import runtime
from tasks.app import app


def _moderation() -> ModerationService:
    return runtime.container().moderation


@app.task(name="moderation.score_post")
def score_post(post_id: Any = None, **payload: Any) -> dict[str, Any]:
    """The post's spam score with its reasons; stored, and queued for review when called for."""
    args = validated("moderation.score_post", runtime.given(post_id=post_id, **payload))
    return _moderation().score_post(args["post_id"]).to_dict()


@app.task(name="moderation.review_queue")
def review_queue(limit: Any = 50, offset: Any = 0, **payload: Any) -> dict[str, Any]:
    """Posts waiting for a moderator, most urgent first."""
    args = validated(
        "moderation.review_queue", runtime.given(limit=limit, offset=offset, **payload)
    )
    items = _moderation().review_queue(limit=args["limit"], offset=args["offset"])
    return {"items": [item.to_dict() for item in items], **args}


@app.task(name="moderation.decide")
def decide(post_id: Any = None, decision: Any = None, **payload: Any) -> dict[str, Any]:
    """Approve, reject or mark not spam (which counts for the author's history)."""
    args = validated(
        "moderation.decide", runtime.given(post_id=post_id, decision=decision, **payload)
    )
    return _moderation().decide(args["post_id"], args["decision"])
