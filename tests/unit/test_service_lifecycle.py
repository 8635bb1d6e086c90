"""A periodic service's lifecycle decisions (pure)."""

from services.background.lifecycle import (
    Policy,
    Retry,
    Status,
    Stop,
    after_failure,
    after_success,
    resumed_if_due,
    skip_reason,
)

POLICY = Policy(
    interval_s=60, max_failures=3, retry_delay_s=10, max_retry_delay_s=25, cooldown_s=300
)


def _fail(status: Status, now: float, decision: Retry | Stop | None = None) -> Status:
    decision = decision or Retry(POLICY.retry_delay(status.failures + 1))
    return after_failure(status, "HTTP 503", decision, POLICY, now)


def test_the_retry_delay_doubles_from_the_first_failure_up_to_its_cap() -> None:
    assert [POLICY.retry_delay(n) for n in (1, 2, 3, 4)] == [10, 20, 25, 25]


def test_a_failure_holds_runs_back_for_its_delay_then_lets_them_through() -> None:
    status = _fail(Status(), now=1000)
    assert skip_reason(status, 1005) == "retrying in 5s after: HTTP 503"
    assert skip_reason(status, 1010) is None


def test_the_failure_budget_pauses_it_with_the_reason_until_the_cool_down_ends() -> None:
    status = Status()
    for now in (1000, 1010, 1030):
        status = _fail(status, now)
    assert status.paused and "3 failures in a row; last: HTTP 503" in (status.paused_reason or "")
    assert (skip_reason(status, 1100) or "").startswith("paused for 230s more")
    resumed = resumed_if_due(status, 1330)
    assert resumed == Status() and skip_reason(resumed, 1330) is None


def test_a_stopped_service_stays_stopped_whatever_the_time() -> None:
    status = _fail(Status(), now=1000, decision=Stop("authentication failed: check the API key"))
    assert resumed_if_due(status, 10**9) == status
    assert (
        skip_reason(status, 10**9)
        == "paused until resumed: authentication failed: check the API key"
    )


def test_a_success_clears_the_count_so_the_budget_is_for_failures_in_a_row() -> None:
    status = after_success(_fail(_fail(Status(), now=1000), now=1010))
    status = _fail(_fail(status, now=1100), now=1200)
    assert not status.paused and status.failures == 2
