"""A pickled message (carrying code that would run on unpickling) is refused by a real worker and
never executed; the worker carries on (a real worker, the session Redis)."""

import pickle
import uuid
from pathlib import Path

import redis
from kombu import Connection, Producer

from harness import figures
from harness.observe import eventually
from harness.workers import Workers
from tasks.app import app


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        import os

        return (os.mkdir, (str(self.marker),))


def test_a_pickled_message_is_refused_not_executed(
    workers: Workers, redis_client: redis.Redis, tmp_path: Path
) -> None:
    worker = workers.start(queues="default")
    marker = tmp_path / "pwned"
    task_id = str(uuid.uuid4())
    body = pickle.dumps(([], {"label": _Exploit(marker)}, {}))
    with Connection(app.conf.broker_url) as connection:
        queue = app.amqp.queues["default"]
        Producer(connection).publish(
            body,
            exchange=queue.exchange,
            routing_key="default",
            declare=[queue],
            content_type="application/x-python-serialize",
            content_encoding="binary",
            headers={"lang": "py", "task": "tests.record", "id": task_id, "root_id": task_id},
        )

    # The worker is still healthy and processes the next (JSON) message...
    assert app.send_task("tests.record", ["after"], queue="default").get(timeout=30) == "after"
    # ...and refused the pickled one: never ran it, nor unpickled it.
    eventually(
        lambda: "ContentDisallowed" in worker.log() or "untrusted content" in worker.log(),
        what="the worker to refuse the pickled message",
    )
    assert not marker.exists()
    assert redis_client.lrange("tests:order", 0, -1) == ["after"]
    assert worker.child.process.poll() is None
    figures.record(
        "pickled message",
        guarantee="a pickled message is refused and never executed (JSON only on the wire)",
        figure="a pickle that creates a file when loaded: refused (ContentDisallowed), never "
        "unpickled, no file created; the worker ran the next JSON task",
    )
