"""Worker bootsteps: the lease renewer runs in every worker on a leased Redis broker."""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps

from services.delivery.lease import LeaseRenewer
from services.delivery.transport import LeasedChannel, LeasedSentinelChannel

log = logging.getLogger(__name__)


class LeaseStep(bootsteps.StartStopStep):
    """Renews the lease of every message this worker holds, from its first connection to its
    shutdown: reconnects do not stop it (running tasks stay held across them)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self.renewer: LeaseRenewer | None = None

    def start(self, parent: Any) -> None:
        channel = parent.connection.default_channel
        if self.renewer is not None or not isinstance(
            channel, LeasedChannel | LeasedSentinelChannel
        ):
            return
        interval_s = float(parent.app.conf.greenhouse_lease_renew_interval_s)
        self.renewer = LeaseRenewer(
            channel.lease_client(), key=channel.unacked_index_key, interval_s=interval_s
        ).start()
        log.info(
            "leased delivery: renewing held messages every %gs (lease %gs)",
            interval_s,
            channel.visibility_timeout,
        )

    def stop(self, parent: Any) -> None:
        """A reconnect: keep renewing (tasks still running are held)."""

    def shutdown(self, parent: Any) -> None:
        if self.renewer is not None:
            self.renewer.stop()
            self.renewer = None
