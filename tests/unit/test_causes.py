"""A final failure's cause, as the dead letter records it for recovery."""

import redis
import sqlalchemy.exc

from services.delivery.causes import PERMANENT, TRANSIENT, UPSTREAM, Cause, cause_of
from services.errors import PermanentError, TransientError, ValidationError
from services.resilience.breaker import BreakerOpen

PROVIDERS = {"plantnet": object(), "plant_id": object()}  # as Container.breakers: name → guard
IDENTIFY = "identification.identify"


def test_identification_spending_its_retries_on_failing_providers_waits_for_them_all() -> None:
    error = TransientError("no provider answered: plant_id: HTTP 503; plantnet: timed out")
    assert cause_of(IDENTIFY, error, providers=PROVIDERS) == Cause(
        UPSTREAM, ("plant_id", "plantnet")
    )


def test_an_open_breaker_names_its_upstream() -> None:
    cause = cause_of("any.task", BreakerOpen("plantnet", 12.0), providers=PROVIDERS)
    assert cause == Cause(UPSTREAM, ("plantnet",))


def test_our_own_infrastructure_failing_is_transient_not_upstream() -> None:
    for error in (
        redis.ConnectionError("connection refused"),
        sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed")),
    ):
        assert cause_of(IDENTIFY, error, providers=PROVIDERS) == Cause(TRANSIENT)


def test_a_transient_error_of_a_task_that_calls_no_provider_is_not_upstream() -> None:
    error = TransientError("statistics not ready")
    assert cause_of("statistics.forum_overview", error, providers=PROVIDERS) == Cause(TRANSIENT)


def test_with_no_provider_configured_nothing_is_upstream() -> None:
    assert cause_of(IDENTIFY, TransientError("x"), providers={}) == Cause(TRANSIENT)


def test_permanent_failures_are_never_upstream() -> None:
    for error in (
        ValidationError("images[0] is not an image"),
        PermanentError("no provider could identify these images"),
        KeyError("a bug"),
    ):
        assert cause_of(IDENTIFY, error, providers=PROVIDERS) == Cause(PERMANENT)
