"""The Celery app: configuration from celeryconfig; signal hooks wire each process."""

from typing import Any

from celery import Celery
from celery.app.amqp import AMQP

from services.delivery import reprs
from tasks.events import EventsOnDemand
from tasks.steps import LeaseStep


class GreenhouseAMQP(AMQP):
    """Events, and so Flower, are shown the arguments with each photo as a size and a digest."""

    def as_task_v2(
        self,
        task_id: str,
        name: str,
        args: Any = None,
        kwargs: Any = None,
        *rest: Any,
        argsrepr: str | None = None,
        kwargsrepr: str | None = None,
        **options: Any,
    ) -> Any:
        return super().as_task_v2(
            task_id,
            name,
            args,
            kwargs,
            *rest,
            argsrepr=reprs.summary(list(args or ())) if argsrepr is None else argsrepr,
            kwargsrepr=reprs.summary(kwargs or {}) if kwargsrepr is None else kwargsrepr,
            **options,
        )


app = Celery("greenhouse", task_cls="tasks.base:GreenhouseTask", amqp=GreenhouseAMQP)
app.config_from_object("celeryconfig")
app.steps["consumer"].add(LeaseStep)  # renews the lease of every message a worker holds
app.steps["consumer"].add(EventsOnDemand)  # task events only while Flower asks for them

import tasks.hooks  # noqa: E402  (connects the signal receivers)
import tasks.observability  # noqa: E402,F401  (metrics and log lines: its receivers)
