"""Signal receivers for what operators watch: each worker's /metrics endpoint, task durations,
and log lines (JSON on request; never a secret)."""

from __future__ import annotations

import logging
import time
from typing import Any
from wsgiref.simple_server import WSGIServer

from celery import current_task
from celery.signals import (
    after_setup_logger,
    after_setup_task_logger,
    celeryd_init,
    task_postrun,
    task_prerun,
    worker_ready,
    worker_shutdown,
)

from services import logs, metrics
from services.settings import load
from tasks import metrics_http

log = logging.getLogger(__name__)
_endpoint: dict[str, Any] = {}  # the worker's metrics directory and server, in its main process


@celeryd_init.connect
def choose_metrics_directory(**_: Any) -> None:
    """Before any pool child forks or prometheus-client is imported: where metrics go."""
    settings = load()
    if settings.metrics_port:
        problem = metrics_http.refusal(settings)
        if problem:
            raise SystemExit(f"greenhouse: refusing to start the worker:\n  - {problem}")
        _endpoint["directory"] = metrics_http.choose_directory()


@worker_ready.connect
def serve_metrics(sender: Any, **_: Any) -> None:
    if "directory" in _endpoint:
        broker_url = str(sender.app.conf.broker_url)
        server = metrics_http.serve(load(), broker_url=broker_url, directory=_endpoint["directory"])
        _endpoint["server"] = server


@worker_shutdown.connect
def stop_metrics(**_: Any) -> None:
    server: WSGIServer | None = _endpoint.pop("server", None)
    if server is not None:
        metrics_http.stop(server, _endpoint.pop("directory"))


@task_prerun.connect
def _task_started(task: Any, **_: Any) -> None:
    # On the task's own request (one per running task, on every pool): gone with it.
    task.request.greenhouse_started = time.perf_counter()


@task_postrun.connect
def _task_ended(task: Any, state: str | None = None, **_: Any) -> None:
    started = getattr(task.request, "greenhouse_started", None)  # postrun comes before the pop
    if started is not None:
        outcome = (state or "unknown").lower()
        metrics.task_ran(task.name, outcome, time.perf_counter() - started)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _safe_log_lines(logger: logging.Logger, **_: Any) -> None:
    """Every handler Celery sets up redacts secrets; LOG_FORMAT=json makes lines JSON."""
    settings = load()
    formatter = logs.JsonFormatter(_task_context) if settings.log_format == "json" else None
    logs.install(logger.handlers, secrets=settings.secrets, formatter=formatter)


def _task_context() -> dict[str, Any]:
    """The running task's id and name, and the caller's request id (identification), if any."""
    task = current_task
    request = getattr(task, "request", None) if task else None
    if request is None or not request.id:
        return {}
    kwargs = request.kwargs if isinstance(request.kwargs, dict) else {}
    return {"task_id": request.id, "task_name": task.name, "request_id": kwargs.get("request_id")}
