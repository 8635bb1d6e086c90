"""The health verdict from component states, the history sample, and the worker beacon (over a
hand-written store; the real one is tested in tests/integration/test_health.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
import redis

from harness.observe import eventually
from services.health import WorkerInfo
from services.health_beacon import WorkerBeacon
from services.health_checks import (
    Check,
    Probes,
    Report,
    age_verdict,
    run_checks,
    workers_verdict,
)
from services.health_sample import sample

QUEUES = ["identification", "statistics", "maintenance", "default"]


def worker(nodename: str, *queues: str) -> WorkerInfo:
    return WorkerInfo(
        nodename=nodename,
        queues=list(queues),
        pool="prefork",
        concurrency=2,
        pid=1,
        host="h",
        at=0.0,
        ttl_s=30,
    )


def test_workers_are_alive_when_every_queue_has_a_live_worker() -> None:
    live = [
        worker("id@h", "identification"),
        worker("bg@h", "statistics", "maintenance", "default"),
    ]
    check = workers_verdict(live, queues=QUEUES)
    assert check.ok
    assert check.details["queues"]["maintenance"] == ["bg@h"]
    assert check.summary == "live workers: identification 1, statistics 1, maintenance 1, default 1"


def test_a_queue_without_a_live_worker_fails_the_check_and_is_named() -> None:
    check = workers_verdict([worker("bg@h", "statistics", "maintenance", "default")], queues=QUEUES)
    assert not check.ok
    assert check.summary == "no live worker for identification"


def test_a_named_node_must_be_alive_whatever_serves_its_queues() -> None:
    live = [worker("id@other", "identification")]
    assert workers_verdict(live, queues=[], nodes=["id@other"]).ok
    check = workers_verdict(live, queues=[], nodes=["id@this"])
    assert not check.ok and check.details["missing_nodes"] == ["id@this"]


def test_no_workers_at_all_fails_every_queue() -> None:
    check = workers_verdict([], queues=QUEUES)
    assert not check.ok and check.summary.count("no live worker") == 4


@pytest.mark.parametrize(
    ("age_s", "max_age_s", "alive"),
    [
        (None, None, False),
        (None, 90.0, False),
        (5.0, None, True),
        (89.0, 90.0, True),
        (91.0, 90.0, False),
    ],
)
def test_a_heartbeat_is_alive_while_its_key_exists_and_is_young_enough(
    age_s: float | None, max_age_s: float | None, alive: bool
) -> None:
    assert age_verdict("scheduler", age_s, max_age_s=max_age_s, what="beat tick").ok is alive


def _check(component: str, ok: bool) -> Check:
    return Check(component=component, ok=ok, summary="")


def test_the_report_is_healthy_only_when_every_component_checked_is() -> None:
    assert Report(checks=(_check("redis", True), _check("workers", True)), at=0).ok
    report = Report(checks=(_check("redis", True), _check("workers", False)), at=0)
    assert not report.ok and report.failing == ["workers"]
    assert not Report(checks=(), at=0).ok  # nothing checked proves nothing


class _Probes(Probes):
    """Redis answers, the database raises (as a driver would), the rest is not asked."""

    def check_redis(self) -> Check:
        return Check(component="redis", ok=True, summary="PING")

    def check_database(self) -> Check:
        raise ConnectionRefusedError("connection to 127.0.0.1:5432 refused\n  is it running?")


def test_a_probe_that_raises_is_a_failed_check_with_its_error_on_one_line() -> None:
    probes = _Probes(redis=None, database_url="", broker_url="", queues=[])  # type: ignore[arg-type]
    report = run_checks(probes, ["redis", "database"], clock=lambda: 7.0)
    assert [check.ok for check in report.checks] == [True, False]
    assert report.checks[1].summary == (
        "ConnectionRefusedError: connection to 127.0.0.1:5432 refused is it running?"
    )
    assert report.to_dict()["failing"] == ["database"] and report.at == 7.0


def test_a_history_sample_keeps_the_verdict_depths_workers_and_load() -> None:
    broker = {"queues": {"statistics": {"total": 5, "by_priority": {"9": 5}}}, "unacked": 1}
    snapshot = {
        "at": 100.0,
        "ok": False,
        "failing": ["scheduler"],
        "checks": {
            "broker": {"details": broker},
            "workers": {"details": {"nodes": [{"nodename": "a"}, {"nodename": "b"}]}},
            "redis": {"details": {"used_memory": 2_000_000}},
            "scheduler": {"details": {}},
        },
        "breakers": {"plantnet": "open"},
        "system": {"cpu_percent": 12.5, "memory_percent": 40.0, "disk_percent": 70.0},
    }
    assert sample(snapshot) == {
        "at": 100.0,
        "ok": False,
        "failing": ["scheduler"],
        "queued": {"statistics": {"total": 5, "by_priority": {"9": 5}}},
        "unacked": 1,
        "workers": 2,
        "redis_used_memory": 2_000_000,
        "breakers": {"plantnet": "open"},
        "cpu_percent": 12.5,
        "memory_percent": 40.0,
        "disk_percent": 70.0,
    }


def test_a_sample_of_a_snapshot_whose_broker_was_away_has_no_depths() -> None:
    snapshot = {"at": 1.0, "ok": False, "failing": ["broker"], "checks": {"broker": {}}}
    assert sample(snapshot)["queued"] == {} and sample(snapshot)["workers"] == 0


def test_worker_info_read_from_another_release_keeps_what_it_knows() -> None:
    info = WorkerInfo.from_dict({"nodename": "a@h", "queues": ["default"], "new_field": 1})
    assert (info.nodename, info.queues, info.pool) == ("a@h", ["default"], "?")


@dataclass
class FakeStore:
    """Records writes and removals; fails writes while `down` is set."""

    written: list[WorkerInfo] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    down: threading.Event = field(default_factory=threading.Event)

    def write(self, info: WorkerInfo) -> None:
        if self.down.is_set():
            raise redis.ConnectionError("Redis is away")
        self.written.append(info)

    def remove(self, nodename: str) -> None:
        self.removed.append(nodename)


def test_the_beacon_writes_until_stopped_then_removes_its_key() -> None:
    store = FakeStore()
    beacon = WorkerBeacon(store, lambda: worker("a@h", "default"), interval_s=0.01).start()
    eventually(lambda: len(store.written) >= 3, timeout_s=10, what="three writes")
    assert store.removed == []
    beacon.stop(wait_s=10)
    assert not beacon.running and store.removed == ["a@h"]


def test_the_beacon_outlives_a_redis_outage_and_logs_it_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = FakeStore()
    store.down.set()
    beacon = WorkerBeacon(store, lambda: worker("a@h"), interval_s=60)
    results = [beacon.beat_once() for _ in range(3)]
    store.down.clear()
    results.append(beacon.beat_once())
    assert results == [False, False, False, True]
    warnings = [r.getMessage() for r in caplog.records if r.name == "services.health_beacon"]
    assert warnings == [
        "worker heartbeat: cannot write to Redis (Redis is away); retrying",
        "worker heartbeat: written again",
    ]
