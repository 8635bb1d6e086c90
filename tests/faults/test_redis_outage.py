"""Redis unreachable for 60 s (frozen with SIGSTOP: connections hang, as behind a dead network)
under `greenhouse up` with a backlog: worker, beat, Flower and the CLI survive without a tight
loop or a log flood, and drain the backlog by themselves afterwards (real processes)."""

import signal
import time
import uuid
from pathlib import Path

import httpx

from harness import figures
from harness.batches import wait_until_settled
from harness.client import client_app, states
from harness.observe import eventually, fresh_machine_env, greenhouse_up, processes_with
from harness.servers import FaultyRedis
from services.health import Heartbeat

OUTAGE_S = 60
BACKLOG = 300


def _cpu_s(marker: bytes) -> float:
    """CPU seconds used so far by every process carrying `marker` in its environment."""
    total = 0
    for proc in processes_with(marker):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / 100


def _log_lines(log_dir: Path) -> int:
    return sum(len(path.read_bytes().splitlines()) for path in log_dir.glob("*.log"))


def _beat_age_s(url: str) -> float:
    import redis

    age = Heartbeat(redis.Redis.from_url(url, socket_timeout=5)).age_s("beat")
    return float("inf") if age is None else age


def test_a_minute_without_redis_is_survived_and_the_backlog_drains_afterwards(
    faulty_redis: FaultyRedis, database_url: str, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    env = fresh_machine_env(tmp_path, marker) | {
        "REDIS_URL": faulty_redis.url,
        "DATABASE_URL": database_url,
        "FLOWER_BASIC_AUTH": "ops:outage",
    }
    up = greenhouse_up(env, tmp_path)
    log_dir = Path(env["VAR_DIR"]) / "log"
    try:
        eventually(lambda: _beat_age_s(faulty_redis.url) < 60, timeout_s=120, what="beat")
        client = client_app(faulty_redis.url)
        backlog = [
            client.send_task("diagnostic.sleep", [0.1], queue="default") for _ in range(BACKLOG)
        ]
        time.sleep(3)
        waiting = BACKLOG - states(backlog)["SUCCESS"]

        faulty_redis.freeze()
        cpu_before, lines_before = _cpu_s(marker.encode()), _log_lines(log_dir)
        time.sleep(OUTAGE_S)
        cpu_s, lines = _cpu_s(marker.encode()) - cpu_before, _log_lines(log_dir) - lines_before
        assert up.poll() is None, "greenhouse up (or one of its children) exited"
        faulty_redis.thaw()
        thawed_at = time.time()

        counts, drained_at = wait_until_settled(backlog, timeout_s=180)
        assert counts == {"SUCCESS": BACKLOG}, dict(counts)
        # Beat schedules again: a heartbeat newer than the outage went through a worker.
        eventually(
            lambda: _beat_age_s(faulty_redis.url) < time.time() - thawed_at + 1,
            timeout_s=90,
            what="a heartbeat after the outage",
        )
        flower = httpx.get(
            f"http://127.0.0.1:{env['FLOWER_PORT']}/api/workers", auth=("ops", "outage"), timeout=10
        )
        assert flower.status_code == 200
        assert up.poll() is None
    finally:
        faulty_redis.thaw()
        up.send_signal(signal.SIGINT)
        output = up.communicate(timeout=120)[0]
    assert "stopped every process" in output, output[-3000:]
    assert cpu_s < 0.2 * OUTAGE_S, f"{cpu_s:.1f} CPU seconds in {OUTAGE_S} s: a tight loop"
    assert lines < 200, f"{lines} log lines in {OUTAGE_S} s"
    figures.record(
        "redis unreachable",
        guarantee="Redis unreachable for 60 s: worker, beat, Flower and `greenhouse up` survive "
        "(no exit, no tight loop, no log flood) and drain the backlog by themselves",
        figure=f"{OUTAGE_S} s frozen with {waiting} of {BACKLOG} tasks waiting: no process "
        f"exited, {cpu_s:.1f} CPU s and {lines} log lines in all during the outage; backlog "
        f"drained {drained_at - thawed_at:.1f} s after Redis returned; beat scheduling again",
        outage_s=OUTAGE_S,
        cpu_s=round(cpu_s, 1),
        log_lines=lines,
        drained_after_s=round(drained_at - thawed_at, 1),
    )
