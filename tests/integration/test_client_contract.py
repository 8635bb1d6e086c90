"""The client contract: a virtual environment holding only greenhouse-client (built here from
client/) enqueues every public task against real workers and real Redis, and every result matches
its published schema."""

from __future__ import annotations

import json
import subprocess
import venv
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from harness.sandbox import Sandbox
from harness.workers import Workers
from localkit.samples import sample_jpeg
from localkit.seed import seed
from services import db
from tasks.contract import RESULTS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh environment where `pip install ./client` is all that was done."""
    home = tmp_path_factory.mktemp("client-env")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    constraints = ["-c", str(ROOT / "constraints.txt")]
    subprocess.run([*install, *constraints, str(ROOT / "client")], check=True, timeout=600)
    return python


def test_the_client_alone_installs_without_the_worker_s_dependencies(client_python: Path) -> None:
    check = "import importlib.util as u; print([m for m in ('services', 'tasks', 'sqlalchemy', "
    check += "'pybreaker', 'httpx', 'PIL', 'jsonschema') if u.find_spec(m)])"
    found = subprocess.run(
        [str(client_python), "-c", check], capture_output=True, text=True, cwd=client_python.parent
    )
    assert found.stdout.strip() == "[]", found.stderr


def test_every_public_task_answers_the_client_as_its_schema_says(
    client_python: Path, workers: Workers, sandbox: Sandbox, database_url: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    seed(db.make_engine(database_url), users=20, forums=3, topics=10, posts=60, seed=2, now=now)
    workers.start(env=sandbox.env())  # identification, statistics, maintenance, default
    photo = tmp_path / "leaf.jpg"
    photo.write_bytes(sample_jpeg(5))
    redis_url = workers.env["REDIS_URL"]
    script = str(ROOT / "harness" / "contract_calls.py")
    run = subprocess.run(
        [str(client_python), script, redis_url, redis_url, str(photo)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,  # nothing of the project's on the client's path
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout)
    assert set(report["results"]) == set(RESULTS)
    for task, result in report["results"].items():
        jsonschema.validate(result, RESULTS[task])
    assert report["types"]["identification.identify"] == "Identification"
    assert report["results"]["identification.identify"]["request_id"] == "contract-1"
    assert report["results"]["services.run"]["service"] == "retention"
    assert "forum_id: 0 is below the minimum 1" in report["errors"]["invalid"]
    assert report["errors"]["failed"] == ["NotFound", "user 999999 does not exist"]
    assert not {"services", "tasks", "sqlalchemy"} & set(report["imports"])
