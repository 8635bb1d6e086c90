"""Each provider's daily quota as the real APIs report it: PlantNet's body count and RateLimit
headers (IETF draft-08, reset at 00:00 UTC), Plant.id's usage_info. Callers hold the lock.

Without a `daily_quota` knob nothing is refused and no limit is stated: PlantNet's body counts
down from 500 as before (no headers), and Plant.id's usage_info reports no limit."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from localkit.sandbox import formats

DAY_S = 86400
PARTITION = base64.b64encode(b"sandbox:identify").decode()  # PlantNet's `pk`: account & type


class DailyQuota:
    """Answers spent per provider today (UTC) and since the last reset."""

    def __init__(self, providers: Iterable[str], *, clock: Callable[[], float] = time.time):
        self._providers = tuple(providers)
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self._day = self._today()
        self._spent = dict.fromkeys(self._providers, 0)
        self._total = dict.fromkeys(self._providers, 0)

    def spend(self, provider: str, quota: int | None) -> int | None:
        """Count one answer; what is left afterwards (None: no limit)."""
        self._roll()
        self._spent[provider] += 1
        self._total[provider] += 1
        return self.remaining(provider, quota)

    def remaining(self, provider: str, quota: int | None) -> int | None:
        self._roll()
        limit = self.limit(provider, quota)
        return None if limit is None else max(0, limit - self._spent[provider])

    def exhausted(self, provider: str, quota: int | None) -> bool:
        """Only an explicit `daily_quota` refuses calls."""
        return quota is not None and self.remaining(provider, quota) == 0

    @staticmethod
    def limit(provider: str, quota: int | None) -> int | None:
        if quota is not None:
            return quota
        return formats.PLANTNET_QUOTA if provider == "plantnet" else None

    def reset_in_s(self) -> int:
        return DAY_S - int(self._clock()) % DAY_S

    def headers(self, provider: str, quota: int | None) -> dict[str, str]:
        """PlantNet's RateLimit headers under a `daily_quota` knob (without one, the legacy
        count of 500 is no limit anybody should keep to); Plant.id documents none."""
        remaining = self.remaining(provider, quota)
        if provider != "plantnet" or quota is None or remaining is None:
            return {}
        return {
            "RateLimit-Policy": f'"dailyQuota";q={quota};w={DAY_S};pk=:{PARTITION}:',
            "RateLimit": f'"dailyQuota";r={remaining};t={self.reset_in_s()};pk=:{PARTITION}:',
        }

    def refusal(self, provider: str, quota: int | None) -> dict[str, Any]:
        """The body of the 429 each provider answers once its quota is spent."""
        if provider == "plantnet":
            return formats.plantnet_error(HTTPStatus.TOO_MANY_REQUESTS, "Daily quota exceeded")[1]
        return {"error": f"The specified api key reached its day credit limit ({quota})."}

    def usage_info(self, provider: str, quota: int | None) -> dict[str, Any]:
        """Plant.id's `GET /v3/usage_info` answer (only a daily limit is imitated)."""
        self._roll()
        remaining = self.remaining(provider, quota)
        spent, total = self._spent[provider], self._total[provider]
        nothing_left = remaining == 0
        return {
            "active": True,
            "credit_limits": {"day": quota, "week": None, "month": None, "total": None},
            "used": {"day": spent, "week": total, "month": total, "total": total},
            "can_use_credits": {
                "value": not nothing_left,
                "reason": "Day credit limit reached." if nothing_left else None,
            },
            "remaining": {"day": remaining, "week": None, "month": None, "total": None},
        }

    def _today(self) -> int:
        return int(self._clock()) // DAY_S

    def _roll(self) -> None:
        if self._today() != self._day:  # past 00:00 UTC: a new day's quota
            self._day = self._today()
            self._spent = dict.fromkeys(self._providers, 0)
