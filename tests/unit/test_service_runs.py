"""One run of a periodic service (services/background/base.py) on a fake store and clock."""

from __future__ import annotations

from harness.fakes import FakeServiceStore
from services.background.base import BackgroundService, run_once
from services.background.lifecycle import Policy
from services.errors import PermanentError, TransientError

POLICY = Policy(interval_s=60, max_failures=3, retry_delay_s=10, cooldown_s=300)


class Scripted(BackgroundService):
    """Each run takes the next outcome: a number of items, or an exception to raise."""

    def __init__(self, *outcomes: int | Exception) -> None:
        super().__init__("scripted", policy=POLICY)
        self.outcomes = list(outcomes)
        self.hooks: list[str] = []

    def configure(self) -> None:
        self.hooks.append("configure")

    def update(self) -> int:
        self.hooks.append("update")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def cleanup(self) -> None:
        self.hooks.append("cleanup")


def test_a_run_configures_updates_and_cleans_up_and_is_counted() -> None:
    service, store = Scripted(7), FakeServiceStore()
    report = run_once(service, store, clock=lambda: 1000.0)
    assert (report.ran, report.ok, report.items) == (True, True, 7)
    assert service.hooks == ["configure", "update", "cleanup"]
    assert store.runs == [("scripted", True, 7)]


def test_a_failure_is_cleaned_up_after_and_the_next_tick_within_the_delay_is_skipped() -> None:
    service, store = Scripted(TransientError("HTTP 503"), 3), FakeServiceStore()
    failed = run_once(service, store, clock=lambda: 1000.0)
    skipped = run_once(service, store, clock=lambda: 1005.0)
    retried = run_once(service, store, clock=lambda: 1010.0)
    assert failed.error == "TransientError: HTTP 503" and service.hooks[-1] == "cleanup"
    assert not skipped.ran and skipped.skipped == "retrying in 5s after: TransientError: HTTP 503"
    assert retried.ok and store.status("scripted").failures == 0


def test_the_budget_pauses_it_and_the_cool_down_resumes_it() -> None:
    service = Scripted(*[TransientError("timeout")] * 3, 1)
    store = FakeServiceStore()
    for now in (1000.0, 1010.0, 1030.0):
        run_once(service, store, clock=lambda now=now: now)
    assert (run_once(service, store, clock=lambda: 1100.0).skipped or "").startswith("paused for")
    assert run_once(service, store, clock=lambda: 1330.0).ok


def test_a_permanent_error_stops_it_until_an_operator_resumes_it() -> None:
    service, store = Scripted(PermanentError("API key rejected")), FakeServiceStore()
    run_once(service, store, clock=lambda: 1000.0)
    later = run_once(service, store, clock=lambda: 10.0**9)
    assert later.skipped == "paused until resumed: PermanentError: API key rejected"
    assert service.hooks.count("update") == 1
