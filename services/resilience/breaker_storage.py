"""Breaker state in Redis, shared by every process, closing the gaps of pybreaker's own storage.

pybreaker's CircuitRedisStorage (1.4) calls Redis in its constructor (a worker started while Redis
is down crashes), reads "closed" and stops counting when Redis is unreachable, does two round trips
per closed-state call, keeps `opened_at` in whole seconds, and lets every process through in
half-open. This storage reads one snapshot per call (MGET), writes only on change, keeps
`opened_at` as a float, remembers "open until T" locally (a fast-fail costs no round trip), hands
out half-open trial permits atomically, counts in memory while Redis is unreachable, and once a
failure is on record counts each call as a failure before it starts (a failure budget).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pybreaker
import redis

log = logging.getLogger(__name__)

# KEYS: failure counter. ARGV: fail_max. The count after taking a slot, or 0 when none is left.
_TAKE_SLOT = """
local n = redis.call('INCR', KEYS[1])
if n > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return n
"""

# KEYS: trial counter. ARGV: max trials, permit ttl (ms). 1 = permit granted.
_ACQUIRE_TRIAL = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return 1
"""


class SharedBreakerStorage(pybreaker.CircuitBreakerStorage):
    """pybreaker storage under `greenhouse:breaker:<name>:*`, in-process while Redis is down."""

    def __init__(
        self,
        name: str,
        client: redis.Redis,
        *,
        reset_timeout_s: float,
        half_open_max_calls: int = 1,
        trial_timeout_s: float = 30.0,
        redis_retry_s: float = 5.0,
    ) -> None:
        super().__init__("greenhouse-redis")
        if client.get_connection_kwargs().get("decode_responses"):
            raise ValueError("breaker storage needs a Redis client that does not decode responses")
        self._redis = client
        self._prefix = f"greenhouse:breaker:{name}"
        self._reset_timeout_s = reset_timeout_s
        self._max_trials = half_open_max_calls
        self._trial_ttl_ms = int(trial_timeout_s * 1000)
        self._redis_retry_s = redis_retry_s
        self._acquire = client.register_script(_ACQUIRE_TRIAL)
        self._take_slot = client.register_script(_TAKE_SLOT)
        self._counted_ahead = threading.local()  # this thread's call was counted when it began
        self._memory = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
        self._degraded_until = 0.0
        self._open_until = 0.0  # known locally: no round trip needed before then
        self._failures = 0  # from the last snapshot
        self._opened_at: float | None = None
        self._holds_trial = False
        self._snapshot_keys = [self.key("state"), self.key("failures"), self.key("opened_at")]
        self._last_snapshot: tuple[object, ...] = ()

    def key(self, part: str) -> str:
        return f"{self._prefix}:{part}"

    # --- degraded mode ---
    @property
    def degraded(self) -> bool:
        return time.monotonic() < self._degraded_until

    def _degrade(self, exc: Exception) -> None:
        if not self.degraded:
            log.warning(
                "breaker %s: Redis unreachable (%s); counting in this process for %.0fs",
                self._prefix,
                type(exc).__name__,
                self._redis_retry_s,
            )
        self._degraded_until = time.monotonic() + self._redis_retry_s

    # --- state ---
    @property
    def state(self) -> str:
        if time.time() < self._open_until:
            return pybreaker.STATE_OPEN
        if self.degraded:
            return self._memory.state
        try:
            snapshot = tuple(self._redis.mget(self._snapshot_keys))
        except redis.RedisError as exc:
            self._degrade(exc)
            return self._memory.state
        if self._degraded_until:
            self._degraded_until = 0.0
            log.warning("breaker %s: Redis reachable again; state is shared again", self._prefix)
        raw_state, failures, opened_at = snapshot
        state = raw_state.decode() if isinstance(raw_state, bytes) else pybreaker.STATE_CLOSED
        self._failures = int(failures or 0)
        self._opened_at = float(opened_at) if opened_at else None
        if snapshot != self._last_snapshot:  # the common case, nothing changed, costs nothing
            self._last_snapshot = snapshot
            self._mirror(state)
        if state == pybreaker.STATE_OPEN and self._opened_at is not None:
            self._open_until = self._opened_at + self._reset_timeout_s
        if state == pybreaker.STATE_HALF_OPEN and not self._holds_trial:
            # Someone else's trial is running: for us the circuit is still open.
            return pybreaker.STATE_OPEN
        return state

    @state.setter
    def state(self, state: str) -> None:
        self._memory.state = state
        if state != pybreaker.STATE_OPEN:
            self._open_until = 0.0
        if state != pybreaker.STATE_HALF_OPEN and self._holds_trial:
            self._holds_trial = False
            self._write(lambda client: client.delete(self.key("trials")))
        self._write(lambda client: client.set(self.key("state"), state))

    def _mirror(self, state: str) -> None:
        # Keep the in-process copy current, so degraded mode starts from what Redis last said.
        self._memory.state = state
        self._memory._fail_counter = self._failures
        if self._opened_at is not None:
            self._memory.opened_at = datetime.fromtimestamp(self._opened_at, UTC)

    # --- failures and successes ---
    def take_budget_slot(self, fail_max: int) -> bool:
        """Before a closed-state call: False when the failure budget is spent.

        With no failure on record this is free and always True. Once one is on record, the call
        counts as a failure from the moment it starts (success resets the count), so the calls
        in flight across every process can never add up to more than `fail_max` failures.
        """
        self._counted_ahead.value = False
        if self.degraded or self._failures == 0:
            return True
        try:
            taken = int(self._take_slot(keys=[self.key("failures")], args=[fail_max]))
        except redis.RedisError as exc:
            self._degrade(exc)
            return True
        if not taken:
            return False
        self._failures, self._counted_ahead.value = taken, True
        return True

    def increment_counter(self) -> None:
        self._memory.increment_counter()
        if getattr(self._counted_ahead, "value", False):  # counted when it began
            self._counted_ahead.value = False
            return
        if self.degraded:
            return
        try:
            self._failures = int(self._redis.incr(self.key("failures")))
        except redis.RedisError as exc:
            self._degrade(exc)

    def reset_counter(self) -> None:
        self._memory.reset_counter()
        self._counted_ahead.value = False
        if self._failures:  # a success on a clean counter writes nothing
            self._failures = 0
            self._write(lambda client: client.set(self.key("failures"), 0))

    @property
    def counter(self) -> int:
        return self._memory.counter if self.degraded else self._failures

    # Success counting happens in this process: the trial permit already bounds half-open.
    def increment_success_counter(self) -> None:
        self._memory.increment_success_counter()

    def reset_success_counter(self) -> None:
        self._memory.reset_success_counter()

    @property
    def success_counter(self) -> int:
        return self._memory.success_counter

    @property
    def opened_at(self) -> datetime | None:
        if self.degraded:
            return self._memory.opened_at
        return None if self._opened_at is None else datetime.fromtimestamp(self._opened_at, UTC)

    @opened_at.setter
    def opened_at(self, moment: datetime) -> None:
        self._memory.opened_at = moment
        self._opened_at = moment.timestamp()
        self._open_until = self._opened_at + self._reset_timeout_s
        self._write(lambda client: client.set(self.key("opened_at"), repr(self._opened_at)))

    def remaining_open_s(self) -> float:
        """Seconds until a trial call may be attempted (0 when it may now)."""
        opened = self.opened_at
        if opened is None:
            return 0.0
        return max(0.0, opened.timestamp() + self._reset_timeout_s - time.time())

    # --- half-open trials ---
    def try_acquire_trial(self) -> bool:
        """One of at most `half_open_max_calls` permits across every process, or False."""
        if self.degraded:
            self._holds_trial = True
            return True
        try:
            args = [self._max_trials, self._trial_ttl_ms]
            granted = bool(self._acquire(keys=[self.key("trials")], args=args))
        except redis.RedisError as exc:
            self._degrade(exc)
            granted = True
        self._holds_trial = granted
        return granted

    def _write(self, command: Callable[[redis.Redis], object]) -> None:
        if self.degraded:
            return
        try:
            command(self._redis)
        except redis.RedisError as exc:
            self._degrade(exc)
