"""A circuit breaker's state: one Redis hash changed only by compare-and-set Lua calls.

The hash `greenhouse:breaker:<name>` holds `state` (closed, open, half_open), `gen` (bumped by
every transition), `failures` and `opened_ms`, all on Redis's clock. A call is admitted with a
ticket naming the generation it was admitted in; its outcome counts only in that generation, so
a late answer from before a transition changes nothing. Half-open trials hold permits: keys set
with NX and a TTL to a token only their holder knows, deleted by every transition.

`LocalState` is the same machine in one process, for while Redis is unreachable.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import redis

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

# KEYS: the hash, then one key per trial permit. ARGV: reset (ms), token, permit ttl (ms).
# Returns {verdict, gen, n}: closed (n = failures), trial (n = permit slot), refused (n = wait ms).
_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'state', 'gen', 'failures', 'opened_ms')
local state, gen = h[1] or 'closed', tonumber(h[2] or '0')
if state == 'closed' then return {'closed', gen, tonumber(h[3] or '0')} end
if state == 'open' then
  local wait = tonumber(h[4] or '0') + tonumber(ARGV[1]) - now
  if wait > 0 then return {'refused', gen, wait} end
  gen = gen + 1
  redis.call('HSET', KEYS[1], 'state', 'half_open', 'gen', gen)
end
for slot = 2, #KEYS do
  if redis.call('SET', KEYS[slot], ARGV[2], 'NX', 'PX', ARGV[3]) then
    return {'trial', gen, slot - 1}
  end
end
return {'refused', gen, 0}
"""

# KEYS: as for _ADMIT. ARGV: gen, ok (1/0), permit slot (0: a closed-state call), token, fail_max.
# Returns {state before, state after, gen after}.
_RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'state', 'gen', 'failures')
local state, gen = h[1] or 'closed', tonumber(h[2] or '0')
local function move(to)
  gen = gen + 1
  redis.call('HSET', KEYS[1], 'state', to, 'gen', gen, 'failures', 0, 'opened_ms', now)
  for slot = 2, #KEYS do redis.call('DEL', KEYS[slot]) end
  return {state, to, gen}
end
local slot = tonumber(ARGV[3])
if slot > 0 then
  if redis.call('GET', KEYS[slot + 1]) ~= ARGV[4] then return {state, state, gen} end
  if ARGV[2] == '1' then return move('closed') end
  return move('open')
end
if state ~= 'closed' or gen ~= tonumber(ARGV[1]) then return {state, state, gen} end
if ARGV[2] == '1' then
  if tonumber(h[3] or '0') > 0 then redis.call('HSET', KEYS[1], 'failures', 0) end
  return {state, state, gen}
end
if redis.call('HINCRBY', KEYS[1], 'failures', 1) >= tonumber(ARGV[5]) then return move('open') end
return {state, state, gen}
"""


@dataclass(frozen=True, kw_only=True)
class Limits:
    """What a breaker tolerates: failures in a row, how long it stays open, how many trials."""

    fail_max: int
    reset_timeout_s: float
    half_open_max_calls: int = 1
    trial_timeout_s: float = 30.0  # a trial's permit lapses after this (its holder died)


@dataclass(frozen=True)
class Ticket:
    """An admitted call: its generation, and its trial permit (slot 0: a closed-state call)."""

    gen: int
    slot: int = 0
    token: str = ""
    local: bool = False  # admitted by the in-process state (Redis was unreachable)


@dataclass(frozen=True)
class Refusal:
    """Not admitted: the circuit is open (or its trials are taken); try again in `wait_s`."""

    wait_s: float


@dataclass(frozen=True)
class Transition:
    """What recording an outcome did to the state."""

    before: str
    after: str


class SharedState:
    """The breaker's state in Redis, shared by every process."""

    def __init__(self, name: str, client: redis.Redis, limits: Limits) -> None:
        self.key = f"greenhouse:breaker:{name}"
        trials = range(limits.half_open_max_calls)
        self._keys = [self.key] + [f"{self.key}:trial:{n}" for n in trials]
        self._redis = client
        self._fail_max = limits.fail_max
        self._reset_ms = int(limits.reset_timeout_s * 1000)
        self._trial_ms = int(limits.trial_timeout_s * 1000)
        self._admit = client.register_script(_ADMIT)
        self._record = client.register_script(_RECORD)

    def admit(self) -> Ticket | Refusal:
        token = uuid.uuid4().hex
        verdict, gen, n = self._admit(keys=self._keys, args=[self._reset_ms, token, self._trial_ms])
        verdict = verdict.decode() if isinstance(verdict, bytes) else verdict
        if verdict == CLOSED:
            return Ticket(int(gen))
        if verdict == "trial":
            return Ticket(int(gen), slot=int(n), token=token)
        return Refusal(int(n) / 1000)

    def record(self, ticket: Ticket, *, ok: bool) -> Transition:
        args: list[int | str] = [ticket.gen, int(ok), ticket.slot, ticket.token, self._fail_max]
        before, after, _gen = self._record(keys=self._keys, args=args)
        return Transition(_text(before), _text(after))

    def snapshot(self) -> tuple[str, int]:
        """(state, failures) as Redis has them now."""
        state, failures = self._redis.hmget(self.key, ["state", "failures"])
        return (_text(state) if state else CLOSED), int(failures or 0)


class LocalState:
    """The same state machine in this process alone (monotonic clock), under a short lock."""

    def __init__(self, limits: Limits) -> None:
        self._lock = threading.Lock()
        self._fail_max = limits.fail_max
        self._reset_s = limits.reset_timeout_s
        self._max_trials = limits.half_open_max_calls
        self.state, self.gen, self.failures = CLOSED, 0, 0
        self._opened_at = 0.0
        self._trials: set[int] = set()

    def admit(self) -> Ticket | Refusal:
        with self._lock:
            if self.state == CLOSED:
                return Ticket(self.gen, local=True)
            if self.state == OPEN:
                wait_s = self._opened_at + self._reset_s - time.monotonic()
                if wait_s > 0:
                    return Refusal(wait_s)
                self.state, self.gen = HALF_OPEN, self.gen + 1
            free = [slot for slot in range(1, self._max_trials + 1) if slot not in self._trials]
            if not free:
                return Refusal(0.0)
            self._trials.add(free[0])
            return Ticket(self.gen, slot=free[0], local=True)

    def record(self, ticket: Ticket, *, ok: bool) -> Transition:
        with self._lock:
            before = self.state
            if ticket.slot:
                if ticket.gen != self.gen or ticket.slot not in self._trials:
                    return Transition(before, before)
                return self._move(CLOSED if ok else OPEN)
            if before != CLOSED or ticket.gen != self.gen:
                return Transition(before, before)
            self.failures = 0 if ok else self.failures + 1
            if self.failures >= self._fail_max:
                return self._move(OPEN)
            return Transition(before, before)

    def _move(self, to: str) -> Transition:
        before = self.state
        self.state, self.gen, self.failures = to, self.gen + 1, 0
        self._opened_at = time.monotonic()
        self._trials.clear()
        return Transition(before, to)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
