"""GreenhouseTask in this process on an in-memory broker (no worker): argument checks, error
classes, the backoff countdown and the retry's caller priority."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.app.task import Context
from celery.exceptions import Retry

from harness.fakes import transient, wired
from services.delivery import priority
from services.errors import ContractError, PermanentError, TransientError
from services.settings import Settings
from tasks import runtime
from tasks.base import GreenhouseTask

app = Celery("unit", broker="memory://", task_cls="tasks.base:GreenhouseTask", set_as_current=False)
app.conf.update(task_serializer="json", accept_content=["json"], task_default_queue="default")


@app.task(name="unit.fails", bind=True)
def fails(self: Any, *, error: str, min_delay_s: float = 0.0) -> None:
    raise {
        "transient": transient(min_delay_s=min_delay_s),
        "permanent": PermanentError("no such forum"),
        "bug": KeyError("oops"),
    }[error]


@app.task(name="unit.adds")
def adds(a: int, b: int) -> int:
    return a + b


@pytest.fixture(autouse=True)
def fakes() -> Iterator[None]:
    runtime.install(
        wired(Settings(retry_base_delay_s=2, retry_max_delay_s=10, retry_max_retries=2))
    )
    yield
    runtime.close()


def _run(task: Any, retries: int = 0, priority: int | None = None, **kwargs: Any) -> Any:
    """Call the task as a worker would: with a request of its own (attempt `retries` + 1)."""
    task.push_request(
        id="task-1",
        args=(),
        kwargs=kwargs,
        retries=retries,
        called_directly=False,
        delivery_info={"routing_key": "default", "priority": priority},
    )
    try:
        return task(**kwargs)
    finally:
        task.pop_request()


def test_arguments_that_do_not_fit_are_a_contract_error_naming_the_schema() -> None:
    with pytest.raises(ContractError, match=r"unit\.adds: .*docs/TASKS\.md"):
        _run(adds, a=1, c=2)


def test_a_permanent_error_fails_at_once() -> None:
    with pytest.raises(PermanentError):
        _run(fails, error="permanent")


def test_an_unexpected_exception_is_treated_as_a_bug_not_retried() -> None:
    with pytest.raises(KeyError):
        _run(fails, error="bug")


@pytest.mark.parametrize("retries", [0, 1])
def test_a_transient_error_retries_within_the_backoff_ceiling(retries: int) -> None:
    with pytest.raises(Retry) as retried:
        _run(fails, retries=retries, error="transient")
    assert 0 <= float(retried.value.when) <= 2 * 2**retries


def test_a_minimum_delay_is_a_floor_and_the_cap_a_ceiling() -> None:
    with pytest.raises(Retry) as floored:
        _run(fails, error="transient", min_delay_s=7)
    with pytest.raises(Retry) as capped:
        _run(fails, error="transient", min_delay_s=60)
    assert (float(floored.value.when), float(capped.value.when)) == (7, 10)


def test_spent_retries_end_with_the_original_error() -> None:
    with pytest.raises(TransientError):
        _run(fails, retries=2, error="transient")


def test_a_retry_is_signed_in_the_callers_priority_scale_not_redis_native() -> None:
    on_redis = Celery("unit-redis", broker="redis://127.0.0.1:1/0", set_as_current=False)

    @on_redis.task(name="unit.noop", base=GreenhouseTask, shared=False)
    def task() -> None: ...

    native = priority.to_broker(7, redis=True)  # what a worker on Redis sees for a caller's 7
    request = Context(id="task-1", args=(), kwargs={}, delivery_info={"priority": native})
    assert task.signature_from_request(request).options["priority"] == 7  # nothing connects


def test_a_retry_is_published_with_its_countdown_and_attempt_number() -> None:
    with app.connection_for_write() as connection:
        task_queue = connection.SimpleQueue("default")
        task_queue.clear()  # retries other tests published
        with pytest.raises(Retry):
            _run(fails, error="transient", min_delay_s=3)
        message = task_queue.get(timeout=1)
        task_queue.close()
    assert message.headers["retries"] == 1
    assert message.headers["eta"] is not None
