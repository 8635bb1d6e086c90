"""Ten thousand generated malformed identification calls through a real worker: every one a
permanent error with a reason naming the field, dead-lettered once, never retried, never a
worker crash or a traceback, never a provider call (a real worker, the session Redis)."""

import re
import time

import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings

from harness import figures
from harness.malformed import Call, calls
from harness.observe import eventually
from harness.sandbox import Sandbox
from harness.workers import Workers
from services.db import make_engine
from tasks.app import app

COUNT = 10_000
REASON = re.compile(
    r"^(images(\[\d+\])?|organs(\[\d+\])?|latitude|longitude|latitude, longitude|request_id"
    r"|version|payload|identification\.identify): \S"
)


def generate(count: int) -> list[Call]:
    """`count` calls from the strategy (derandomized, so every run sends the same ones)."""
    found: list[Call] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(calls())
    def collect(call: Call) -> None:
        found.append(call)

    collect()
    return found


def _dead_letters(database_url: str) -> tuple[int, int, int]:
    """(letters, distinct task ids, letters with more than one attempt)."""
    engine = make_engine(database_url)
    query = sa.text(
        "SELECT COUNT(*), COUNT(DISTINCT task_id), SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END)"
        " FROM dead_letters"
    )
    try:
        with engine.connect() as connection:
            letters, distinct, retried = connection.execute(query).one()
            return int(letters), int(distinct), int(retried or 0)
    finally:
        engine.dispose()


def test_ten_thousand_malformed_payloads_fail_for_good_with_reasons_and_nothing_else(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    cases = generate(COUNT)
    assert len(cases) == COUNT
    worker = workers.start(queues="identification", concurrency=4, env=sandbox.env())
    started = time.monotonic()
    results = [
        app.send_task("identification.identify", case.args, case.kwargs, queue="identification")
        for case in cases
    ]
    eventually(
        lambda: _dead_letters(database_url)[0] >= COUNT,
        timeout_s=600,
        what="every call to be dead-lettered",
    )
    elapsed_s = time.monotonic() - started

    reasons = [result.result for result in results]  # the exceptions, rebuilt from JSON
    assert {result.state for result in results} == {"FAILURE"}
    assert {type(reason).__name__ for reason in reasons} <= {"ValidationError", "ContractError"}
    unnamed = [str(reason) for reason in reasons if not REASON.match(str(reason))]
    assert not unnamed, unnamed[:5]
    assert _dead_letters(database_url) == (COUNT, COUNT, 0)  # once each, first attempt
    log = worker.log()
    retried = re.search(r"\] transient \w+ \(attempt", log)  # GreenhouseTask's retry line
    assert "Traceback" not in log and not retried and "WorkerLostError" not in log
    assert worker.child.process.poll() is None
    assert sandbox.calls() == {"plant_id": 0, "plantnet": 0}
    kinds = len({str(reason).split(":")[0] for reason in reasons})
    figures.record(
        "malformed payloads",
        guarantee="every malformed payload is a permanent error naming the field, dead-lettered "
        "once, never retried, no worker crash, no traceback, no provider call",
        figure=f"{COUNT:,} generated malformed calls (hypothesis; {kinds} distinct fields "
        f"named): 100 % permanent errors with reasons, {COUNT:,} dead letters, 0 retries, "
        f"0 worker crashes, 0 tracebacks, 0 provider calls; {elapsed_s:.0f} s through one worker",
        count=COUNT,
        fields_named=kinds,
        seconds=round(elapsed_s),
    )
