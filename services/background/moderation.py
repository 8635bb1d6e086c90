"""The `moderation` periodic service: scores the posts never scored, in batches, each post done
or failed on its own; its options are also the scoring rules (patterns, words, weights)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from services.background.base import BackgroundService
from services.background.config import ServiceConfig
from services.errors import ValidationError
from services.moderation.service import ModerationService, rules_from

if TYPE_CHECKING:
    from services.bootstrap import Container


class ModerationRun(BackgroundService):
    """One run scores up to `batch_size` posts of the backlog; `items` is how many it scored."""

    def __init__(self, service_id: str, *, service: ModerationService, **kwargs: Any) -> None:
        super().__init__(service_id, **kwargs)
        self._service = service
        self._last: dict[str, int] = {}

    def update(self) -> int:
        scored, failed = self._service.score_backlog(limit=int(self.options["batch_size"]))
        self._last = {"scored": scored, "failed": failed}
        return scored

    def health(self) -> dict[str, Any]:
        return dict(self._last)


def check(config: ServiceConfig) -> None:
    """Patterns must compile; weights and the threshold lie in [0, 1]."""
    rules = rules_from(config.options)
    for pattern in rules.patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            problem = f"moderation: pattern {pattern!r} does not compile: {exc}"
            raise ValidationError(problem) from None
    bounded = {k: v for k, v in config.options.items() if k.endswith("weight") or k == "threshold"}
    for key, value in bounded.items():
        if not 0 <= float(value) <= 1:
            raise ValidationError(f"moderation: {key} must lie in [0, 1], not {value}")


def build(container: Container, config: ServiceConfig) -> ModerationRun:
    return ModerationRun(
        config.name, policy=config.policy, options=config.options, service=container.moderation
    )
