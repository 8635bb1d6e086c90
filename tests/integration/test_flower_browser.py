"""Flower checked in a real headless browser (Debian's chromium, driven by Playwright) against a
real worker and `greenhouse flower`: log in, see the worker, open a finished identification and
a dead-lettered failure; anonymous visitors refused. Screenshots are kept in
test-artifacts/flower/; Flower's REST enqueue is checked with and without credentials."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from harness.observe import eventually
from harness.sandbox import Sandbox
from harness.servers import free_port
from harness.workers import Workers
from localkit.samples import sample_jpeg
from tasks.app import app

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "flower"
USER, PASSWORD = "ops", "fl0wer-browser-test"
# Without the background-networking flags Chromium dials out at start, and this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def flower(workers: Workers, sandbox: Sandbox) -> Iterator[str]:
    """A worker for every queue and Flower with basic auth; Flower's base URL."""
    port = free_port()
    workers.start_flower(port=port, env={"FLOWER_BASIC_AUTH": f"{USER}:{PASSWORD}"})
    url = f"http://127.0.0.1:{port}"
    eventually(lambda: _status(f"{url}/healthcheck") == 200, timeout_s=60, what="Flower")
    workers.start(env=sandbox.env())
    eventually(lambda: _workers_seen(url), timeout_s=60, what="Flower seeing the worker")
    # Workers send task events only once Flower has asked (every 5 s): wait until they flow.
    eventually(lambda: _events_flow(url), timeout_s=60, what="task events reaching Flower")
    yield url


def _status(url: str, auth: tuple[str, str] | None = None, **kwargs: Any) -> int:
    try:
        return httpx.request(
            kwargs.pop("method", "GET"), url, auth=auth, timeout=5, **kwargs
        ).status_code
    except httpx.TransportError:
        return 0


def _workers_seen(url: str) -> bool:
    response = httpx.get(f"{url}/api/workers?refresh=1", auth=(USER, PASSWORD), timeout=10)
    return response.status_code == 200 and bool(response.json())


def test_an_operator_sees_workers_tasks_and_failures_in_a_real_browser(flower: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    photo = base64.b64encode(sample_jpeg(21)).decode()
    ok = app.send_task(
        "identification.identify", kwargs={"images": [photo]}, queue="identification"
    )
    ok.get(timeout=60)
    failed = app.send_task(
        "statistics.user_summary", kwargs={"user_id": 987654}, queue="statistics"
    )
    with pytest.raises(Exception, match="does not exist"):
        failed.get(timeout=60)
    eventually(lambda: _task_state(flower, failed.id) == "FAILURE", what="the failure in Flower")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            anonymous = browser.new_page()  # Chromium shows no prompt headless: it fails the 401
            with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
                anonymous.goto(f"{flower}/workers")
            anonymous.screenshot(path=ARTIFACTS / "0-anonymous-refused.png")
            assert anonymous.request.get(f"{flower}/workers").status == 401
            page = browser.new_context(
                http_credentials={"username": USER, "password": PASSWORD}
            ).new_page()
            page.goto(f"{flower}/workers")
            page.get_by_text("test-", exact=False).first.wait_for(timeout=15_000)
            page.screenshot(path=ARTIFACTS / "1-workers.png", full_page=True)
            page.goto(f"{flower}/task/{ok.id}")
            page.get_by_text("SUCCESS").first.wait_for(timeout=15_000)
            content = page.content()
            assert "identification.identify" in content and photo[:64] not in content
            assert "chars, sha256" in content  # the photo as a size and a digest
            page.screenshot(path=ARTIFACTS / "2-identification.png", full_page=True)
            page.goto(f"{flower}/task/{failed.id}")
            page.get_by_text("FAILURE").first.wait_for(timeout=15_000)
            assert "user 987654 does not exist" in page.content()
            page.screenshot(path=ARTIFACTS / "3-dead-lettered-failure.png", full_page=True)
        finally:
            browser.close()
    assert len(list(ARTIFACTS.glob("*.png"))) >= 4


def _events_flow(url: str) -> bool:
    probe = app.send_task("diagnostic.ping", kwargs={"payload": {}}, queue="default")
    probe.get(timeout=30)
    time.sleep(0.5)
    return _task_state(url, probe.id) == "SUCCESS"


def _task_state(flower: str, task_id: str) -> str | None:
    response = httpx.get(f"{flower}/api/task/info/{task_id}", auth=(USER, PASSWORD), timeout=5)
    return response.json().get("state") if response.status_code == 200 else None


def test_flower_s_api_and_metrics_need_credentials_and_its_rest_enqueue_works(flower: str) -> None:
    assert _status(f"{flower}/api/workers") == 401
    assert _status(f"{flower}/metrics") == 401
    assert _status(f"{flower}/metrics", auth=(USER, PASSWORD)) == 200
    body = {"kwargs": {"days": 3}, "queue": "statistics", "priority": 7}
    apply = f"{flower}/api/task/async-apply/statistics.identification_summary"
    assert _status(apply, method="POST", json=body) == 401
    response = httpx.post(apply, json=body, auth=(USER, PASSWORD), timeout=10)
    assert response.status_code == 200, response.text
    task_id = response.json()["task-id"]
    assert app.AsyncResult(task_id).get(timeout=30)["days"] == 3
