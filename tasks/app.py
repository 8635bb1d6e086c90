"""The Celery app: configuration from celeryconfig; signal hooks wire each process."""

from celery import Celery
from celery.app.amqp import AMQP

from tasks.events import EventsOnDemand
from tasks.steps import LeaseStep


class GreenhouseAMQP(AMQP):
    """Events, and so Flower, show at most 200 characters of a task's arguments."""

    argsrepr_maxsize = 200
    kwargsrepr_maxsize = 200


app = Celery("greenhouse", task_cls="tasks.base:GreenhouseTask", amqp=GreenhouseAMQP)
app.config_from_object("celeryconfig")
app.steps["consumer"].add(LeaseStep)  # renews the lease of every message a worker holds
app.steps["consumer"].add(EventsOnDemand)  # task events only while Flower asks for them

import tasks.hooks  # noqa: E402  (connects the signal receivers)
import tasks.observability  # noqa: E402,F401  (metrics and log lines: its receivers)
