"""Beat follows operators' service settings live: real `celery beat`, real Redis, the real CLI.
No worker runs, so every message beat sends stays queued and is counted."""

from __future__ import annotations

import time

import redis

from harness import ticks
from harness.observe import eventually, greenhouse
from harness.workers import Workers
from services.background import registry
from services.background.config import ConfigStore
from tasks.app import app
from tasks.beat_entries import claim, reschedule

WARMER = "service:stats-warmer"
FAST_BEAT = {"BEAT_LOCK_TIMEOUT_S": "4", "BEAT_MAX_LOOP_INTERVAL_S": "0.5"}


def _warmer_sends(client: redis.Redis) -> list[ticks.Sent]:
    return ticks.of(WARMER, ticks.sent(client))


def test_services_set_changes_the_interval_and_enabled_of_a_running_beat(
    workers: Workers, redis_client: redis.Redis, database_url: str
) -> None:
    ConfigStore(redis_client).set(registry.default_config("stats-warmer"), {"interval_s": 3600})
    workers.start_beat(env=FAST_BEAT)  # applies the stored interval when it starts
    eventually(lambda: len(_warmer_sends(redis_client)) == 1, what="a new service's first run")
    eventually(lambda: redis_client.exists("greenhouse:heartbeat:scheduler"), what="beat ticking")

    greenhouse("services", "set", "stats-warmer", "interval_s=1", database_url=database_url)
    eventually(lambda: len(_warmer_sends(redis_client)) >= 6, what="a tick a second")
    after = _warmer_sends(redis_client)[1:]
    assert min(ticks.gaps_s(after)) > 0.5  # one send per second, never two at once
    assert len({m.tick for m in after}) == len(after)

    greenhouse("services", "set", "stats-warmer", "enabled=false", database_url=database_url)
    stopped = len(_warmer_sends(redis_client))
    time.sleep(3)  # three intervals: a tick already loaded may still go, then none
    assert len(_warmer_sends(redis_client)) <= stopped + 1


def test_a_tick_is_sent_once_even_when_two_beats_loaded_the_entry(
    redis_client: redis.Redis,
) -> None:
    config = ConfigStore(redis_client).load(registry.default_config("stats-warmer"))
    entry = app.conf.beat_schedule[WARMER]  # store the entry as beat would
    from redbeat import RedBeatSchedulerEntry

    RedBeatSchedulerEntry(name=WARMER, app=app, **entry).save()
    assert reschedule(app, config)
    key = RedBeatSchedulerEntry.generate_key(app, WARMER)
    first, second = (RedBeatSchedulerEntry.from_key(key, app=app) for _ in range(2))
    assert claim(redis_client, first)
    assert not claim(redis_client, second)  # the same tick, loaded by another beat
    next(first)  # the sender moves the entry on: the next tick is a new one
    assert claim(redis_client, RedBeatSchedulerEntry.from_key(key, app=app))
    assert not claim(redis_client, second)  # a stale copy never sends an older tick


def test_beat_refuses_a_lock_that_would_lapse_between_its_renewals(workers: Workers) -> None:
    beat = workers.start_beat(env={"BEAT_LOCK_TIMEOUT_S": "4", "BEAT_MAX_LOOP_INTERVAL_S": "5"})
    assert beat.process.wait(timeout=60) != 0
    assert "must be at least twice BEAT_MAX_LOOP_INTERVAL_S" in beat.log_path.read_text()
