"""The worker's Prometheus endpoint (METRICS_PORT): what its processes counted, pool children
included, and, read at each scrape, every breaker's state and every queue's depth.

Each worker counts into a directory of its own, chosen before anything imports prometheus-client
or forks a pool child; the endpoint adds the children's files up. Off loopback it needs
METRICS_BASIC_AUTH, as Flower needs FLOWER_BASIC_AUTH.
"""

from __future__ import annotations

import base64
import hmac
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import redis

from services.bootstrap import redis_client
from services.delivery.depths import broker_depths
from services.resilience import breaker_ops
from services.resilience.breaker_state import CLOSED, HALF_OPEN, OPEN
from services.settings import LOOPBACK, Settings

log = logging.getLogger(__name__)
STATES = {CLOSED: 0, HALF_OPEN: 1, OPEN: 2}


def choose_directory() -> str:
    """A fresh directory for this worker's processes' metric files (call before any fork)."""
    directory = tempfile.mkdtemp(prefix="greenhouse-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    # prometheus-client picks file-backed values by that variable when it is imported, and the
    # `celery` command has imported it already (its Flower plugin): pick again, before any of
    # Greenhouse's metrics exists.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
    return directory


def refusal(settings: Settings) -> str | None:
    """Why the endpoint must not start as configured, or None."""
    if settings.metrics_address not in LOOPBACK and not settings.metrics_basic_auth:
        return (
            f"METRICS_ADDRESS={settings.metrics_address} is off loopback: set "
            "METRICS_BASIC_AUTH=user:password, or METRICS_ADDRESS=127.0.0.1"
        )
    return None


class ClusterCollector:
    """Gauges read from Redis and the broker when scraped: the same in every worker."""

    def __init__(
        self, client: redis.Redis, broker_url: str, queues: Sequence[str], *, timeout_s: float = 2.0
    ) -> None:
        self._redis, self._broker_url, self._queues = client, broker_url, queues
        self._timeout_s = timeout_s

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        states = GaugeMetricFamily(
            "greenhouse_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            labels=["provider"],
        )
        depth = GaugeMetricFamily(
            "greenhouse_queue_depth",
            "Messages waiting, by queue and caller priority (RabbitMQ: priority 'all')",
            labels=["queue", "priority"],
        )
        try:
            for view in breaker_ops.read(self._redis, breaker_ops.PROVIDERS):
                states.add_metric([view.name], STATES[view.state])
            found = broker_depths(self._broker_url, self._queues, timeout_s=self._timeout_s)
        except Exception as exc:  # a scrape still shows the processes' own metrics
            log.warning("metrics: breakers or queues not read (%s)", type(exc).__name__)
            return
        for queue in found.queues:
            counts = [(str(p), n) for p, n in sorted((queue.by_priority or {}).items())]
            for priority, count in counts or [("all", queue.total)]:
                depth.add_metric([queue.queue, priority], count)
        yield states
        yield depth


def serve(settings: Settings, *, broker_url: str, directory: str) -> WSGIServer:
    """Start the endpoint on a daemon thread; the caller shuts it down."""
    from prometheus_client import CollectorRegistry, make_wsgi_app, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    import celeryconfig  # the queues the workers use

    client = redis_client(settings.redis_url_or_embedded, settings, timeout_s=2.0)
    queues = [queue.name for queue in celeryconfig.task_queues]
    registry.register(ClusterCollector(client, broker_url, queues))
    app = _basic_auth(make_wsgi_app(registry), settings.metrics_basic_auth)
    server = make_server(
        settings.metrics_address, settings.metrics_port, app, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True).start()
    log.info("metrics on http://%s:%d/metrics", settings.metrics_address, server.server_port)
    return server


def stop(server: WSGIServer, directory: str) -> None:
    server.shutdown()
    server.server_close()
    shutil.rmtree(directory, ignore_errors=True)


Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _basic_auth(app: Wsgi, credentials: str | None) -> Wsgi:
    if not credentials:
        return app
    expected = "Basic " + base64.b64encode(credentials.encode()).decode()

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = environ.get("HTTP_AUTHORIZATION", "")
        if hmac.compare_digest(given.encode(), expected.encode()):
            return app(environ, start_response)
        start_response("401 Unauthorized", [("WWW-Authenticate", 'Basic realm="greenhouse"')])
        return [b"credentials required\n"]

    return guarded


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # every scrape would log a line
        pass
