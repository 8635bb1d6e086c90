"""Run inside an environment holding only greenhouse-client: every public task through it.

`python contract_calls.py BROKER_URL RESULT_BACKEND PHOTO_PATH` prints one JSON object: each
task's raw result (checked again by the test against its schema), the typed objects' class
names, and the errors the client raised for bad calls. It imports nothing of the worker's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from greenhouse_client import Greenhouse, InvalidArguments, Pending, TaskFailed


def main(broker_url: str, result_backend: str, photo: Path) -> dict[str, Any]:
    report: dict[str, Any] = {"results": {}, "types": {}, "errors": {}}
    with Greenhouse(broker_url, result_backend=result_backend, timeout_s=60) as greenhouse:
        calls: dict[str, Pending[Any]] = {
            "identification.identify": greenhouse.identify(
                images=[photo.read_bytes()], organs=["leaf"], request_id="contract-1", priority=9
            ),
            "statistics.forum_overview": greenhouse.forum_overview(priority=0),
            "statistics.forum_detail": greenhouse.forum_detail(forum_id=1),
            "statistics.user_summary": greenhouse.user_summary(user_id=1),
            "statistics.identification_summary": greenhouse.identification_summary(days=30),
            "statistics.invalidate": greenhouse.invalidate(scope="overview"),
            "services.run": greenhouse.run_service(name="retention"),
            "moderation.score_post": greenhouse.score_post(post_id=1),
            "moderation.review_queue": greenhouse.review_queue(limit=10),
            "moderation.decide": greenhouse.decide(post_id=2, decision="not_spam"),
        }
        for task, pending in calls.items():
            report["types"][task] = type(pending.get()).__name__
            report["results"][task] = pending.get_json()  # checked by the test with jsonschema
        try:
            greenhouse.forum_detail(forum_id=0)
        except InvalidArguments as exc:
            report["errors"]["invalid"] = str(exc)
        try:
            greenhouse.user_summary(user_id=999_999).get()
        except TaskFailed as exc:
            report["errors"]["failed"] = [exc.error_type, exc.reason]
    report["imports"] = sorted({name.split(".")[0] for name in sys.modules})
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))))
