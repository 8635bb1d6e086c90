"""Beat's entries as live state in Redis: each tick of an entry is claimed once (so two beats,
or one beat across a failover, never send it twice), and operators' service settings reach the
schedule without restarting beat."""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Celery
from redbeat import RedBeatSchedulerEntry
from redbeat.schedulers import ensure_conf

from beat_schedule import service_entry
from services.background.config import ServiceConfig

# KEYS: the entry's hash. ARGV: the tick (the entry's last run, epoch seconds; 0 = never run).
# A tick is claimed once, and only if it is newer than every tick claimed before it: a beat that
# loaded the entry before another one sent it (a lock that lapsed during a pause) sends nothing.
_CLAIM = """
local claimed = tonumber(redis.call('HGET', KEYS[1], 'claimed_tick') or '-1')
if tonumber(ARGV[1]) <= claimed then return 0 end
redis.call('HSET', KEYS[1], 'claimed_tick', ARGV[1])
return 1
"""
NEVER_RUN = datetime(2000, 1, 1, tzinfo=UTC)
SENDER = f"{socket.gethostname()}:{os.getpid()}"


def tick_of(entry: RedBeatSchedulerEntry) -> float:
    """The tick an entry is due for: identified by its previous run (the same for every beat)."""
    last: datetime | None = entry.last_run_at
    return last.timestamp() if last is not None else 0.0


def claim(client: redis.Redis, entry: RedBeatSchedulerEntry) -> bool:
    """True for the one beat that may send this tick of `entry`."""
    return bool(client.eval(_CLAIM, 1, entry.key, repr(tick_of(entry))))


def stamped(entry: RedBeatSchedulerEntry) -> RedBeatSchedulerEntry:
    """`entry` whose message says which tick and which beat sent it (seen in Flower, and by
    tests counting ticks)."""
    headers = dict(entry.options.get("headers") or {})
    headers["greenhouse_tick"] = {
        "entry": entry.name,
        "tick": tick_of(entry),
        "beat": SENDER,
        "sent_at": time.time(),
    }
    entry.options = {**entry.options, "headers": headers}
    return entry


def with_overrides(schedule: dict[str, dict[str, Any]], configs: list[ServiceConfig]) -> dict:
    """beat_schedule.py's entries with each service's stored interval and `enabled`, each due at
    once when beat first stores it (RedBeat keeps the stored last run of an entry it has; a new
    one would otherwise wait a whole interval)."""
    live = dict(schedule)
    for config in configs:
        if f"service:{config.name}" in live:
            live[f"service:{config.name}"] = entry_for(config)
    return {name: {**entry, "last_run_at": NEVER_RUN} for name, entry in live.items()}


def entry_for(config: ServiceConfig) -> dict[str, Any]:
    """Beat's entry for the service `config` configures."""
    return service_entry(config.name, interval_s=config.policy.interval_s, enabled=config.enabled)


def reschedule(app: Celery, config: ServiceConfig) -> bool:
    """Give the running beat `config`'s interval and `enabled` from its next tick on; False
    when beat has not stored the entry yet (it applies the stored settings when it starts)."""
    ensure_conf(app)
    key = RedBeatSchedulerEntry.generate_key(app, f"service:{config.name}")
    try:
        entry = RedBeatSchedulerEntry.from_key(key, app=app)
    except KeyError:
        return False
    updated = RedBeatSchedulerEntry(name=entry.name, app=app, **entry_for(config))
    updated.last_run_at = entry.last_run_at  # the next run is due one new interval after it
    updated.save()
    return True
