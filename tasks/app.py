"""The Celery app: configuration from celeryconfig; signal hooks wire each process."""

from celery import Celery

app = Celery("greenhouse", task_cls="tasks.base:GreenhouseTask")
app.config_from_object("celeryconfig")

import tasks.hooks  # noqa: E402,F401  (connects the signal receivers)
