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
from redbeat.schedulers import ensure_conf, get_redis

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
    """beat_schedule.py's entries with each service's stored interval and `enabled`."""
    live = dict(schedule)
    for config in configs:
        name = f"service:{config.name}"
        if name in live:
            live[name] = service_entry(
                config.name, interval_s=config.policy.interval_s, enabled=config.enabled
            )
    return live


def unstored(app: Celery, schedule: dict[str, dict[str, Any]]) -> list[str]:
    """The entries of `schedule` beat has never stored (a first deployment, a new service)."""
    ensure_conf(app)
    client: redis.Redis = get_redis(app)
    return [
        name
        for name in schedule
        if not client.exists(RedBeatSchedulerEntry.generate_key(app, name))
    ]


def due_now(app: Celery, names: list[str]) -> None:
    """Make the entries `names` due at the next tick (RedBeat makes a new one wait an interval)."""
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    for name in names:
        key = RedBeatSchedulerEntry.generate_key(app, name)
        RedBeatSchedulerEntry.from_key(key, app=app).reschedule(last_run_at=long_ago)


def reschedule(app: Celery, config: ServiceConfig) -> bool:
    """Give the running beat `config`'s interval and `enabled` from its next tick on; False
    when beat has not stored the entry yet (it applies the stored settings when it starts)."""
    ensure_conf(app)
    key = RedBeatSchedulerEntry.generate_key(app, f"service:{config.name}")
    try:
        entry = RedBeatSchedulerEntry.from_key(key, app=app)
    except KeyError:
        return False
    definition = service_entry(
        config.name, interval_s=config.policy.interval_s, enabled=config.enabled
    )
    updated = RedBeatSchedulerEntry(name=entry.name, app=app, **definition)
    updated.last_run_at = entry.last_run_at  # the next run is due one new interval after it
    updated.save()
    return True
