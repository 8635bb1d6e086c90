"""Queue depths on RabbitMQ (the machine's, a throw-away vhost): a passive declare's count, and
nothing for a queue no worker declared yet. Redis depths: test_health_monitor.py."""

from __future__ import annotations

import pytest
from kombu import Connection, Exchange, Queue

from harness.servers import rabbitmq_vhost
from services.delivery.depths import broker_depths


def test_rabbitmq_depths_count_waiting_messages_and_a_missing_queue_is_empty() -> None:
    with rabbitmq_vhost() as url:
        if url is None:
            pytest.skip("no RabbitMQ on this machine")
        queue = Queue(
            "statistics",
            Exchange("statistics"),
            routing_key="statistics",
            queue_arguments={"x-max-priority": 10},  # as celeryconfig declares it
        )
        # Confirmed publishes: each is in the queue before the count is read (unconfirmed, a
        # message can still be on its way when another connection counts).
        with Connection(url, transport_options={"confirm_publish": True}) as connection:
            producer = connection.Producer()
            for priority in (0, 5, 9):
                producer.publish(
                    {"n": priority},
                    exchange=queue.exchange,
                    routing_key="statistics",
                    declare=[queue],
                    priority=priority,
                )
        depths = broker_depths(url, ["statistics", "identification"], timeout_s=2)
    by_queue = {depth.queue: depth for depth in depths.queues}
    assert (by_queue["statistics"].total, by_queue["statistics"].consumers) == (3, 0)
    assert (by_queue["identification"].total, by_queue["identification"].consumers) == (0, 0)
    assert depths.unacked is None and by_queue["statistics"].by_priority is None
