"""Real servers for the tests: the machine's Redis when it answers, else an embedded one."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from localkit.redis_server import EmbeddedRedis, answers

SYSTEM_REDIS = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def start_embedded_redis(*, appendonly: bool = False) -> EmbeddedRedis:
    """A private redis-server on a free port (for tests that stop or fill Redis)."""
    data_dir = Path(tempfile.mkdtemp(prefix="greenhouse-redis-"))
    return EmbeddedRedis(data_dir=data_dir, port=free_port(), appendonly=appendonly).start()


class FaultyRedis(EmbeddedRedis):
    """A private Redis that loses nothing it acknowledged (fsync always), and can be crashed
    (SIGKILL), restarted on the same data and port, or frozen (SIGSTOP) and thawed."""

    def __init__(self) -> None:
        data_dir = Path(tempfile.mkdtemp(prefix="greenhouse-faulty-redis-"))
        super().__init__(data_dir=data_dir, port=free_port(), appendfsync="always")

    def _signal(self, sig: signal.Signals) -> None:
        assert self._process is not None, "not running"
        self._process.send_signal(sig)

    def crash(self) -> None:
        self._signal(signal.SIGKILL)
        assert self._process is not None
        self._process.wait()
        self._process = None

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def stop(self, *, timeout_s: float = 10.0) -> None:
        if self._process is not None and self._process.poll() is None:
            self.thaw()  # a frozen server cannot act on SIGTERM
        super().stop(timeout_s=timeout_s)
        shutil.rmtree(self.data_dir, ignore_errors=True)


_session: tuple[str, EmbeddedRedis | None] | None = None


def use_session_redis() -> str:
    """Point REDIS_URL at the test session's Redis (started on first call), before anything
    reads the Celery configuration; stopped by stop_session_redis()."""
    global _session
    if _session is None:
        _session = session_redis()
        os.environ["REDIS_URL"] = _session[0]
    return _session[0]


def stop_session_redis() -> None:
    global _session
    if _session is not None and _session[1] is not None:
        _session[1].stop()
    _session = None


def session_redis() -> tuple[str, EmbeddedRedis | None]:
    """REDIS_URL, else the machine's Redis if it answers, else an embedded server.

    GREENHOUSE_TEST_EMBEDDED=1 skips the machine's Redis, to prove the fresh-machine path.
    """
    db = int(os.environ.get("GREENHOUSE_TEST_REDIS_DB", "15"))
    configured = os.environ.get("REDIS_URL", "").strip()
    if configured:
        return with_db(configured, db), None
    if os.environ.get("GREENHOUSE_TEST_EMBEDDED") != "1" and answers(SYSTEM_REDIS):
        return with_db(SYSTEM_REDIS, db), None
    server = start_embedded_redis()
    return with_db(server.url, db), server


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str | None]:
    """An AMQP URL on a throw-away vhost of the machine's RabbitMQ; None when there is none."""
    ctl = shutil.which("rabbitmqctl")
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
    except OSError:
        ctl = None
    if ctl is None:
        yield None
        return
    vhost = f"greenhouse-test-{uuid.uuid4().hex[:8]}"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
    try:
        subprocess.run(
            [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
            check=True,
            capture_output=True,
        )
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run([ctl, "delete_vhost", vhost], capture_output=True)
