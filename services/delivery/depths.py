"""How many messages wait in each queue. kombu's Redis transport keeps one list per priority step
(`queue`, `queue\\x06\\x161`, …), so Redis gives a count per caller priority; RabbitMQ gives a
queue's total and its consumer count (a passive declare)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kombu import Connection

from services.delivery import priority


@dataclass(frozen=True, kw_only=True)
class QueueDepth:
    """One queue's waiting messages."""

    queue: str
    total: int
    by_priority: dict[int, int] | None = None  # caller priority (0 low … 9 high); Redis only
    consumers: int | None = None  # RabbitMQ only

    def to_dict(self) -> dict[str, Any]:
        by_priority = None
        if self.by_priority is not None:  # JSON keys are strings; zeros say nothing
            by_priority = {str(p): n for p, n in sorted(self.by_priority.items()) if n}
        return {"total": self.total, "by_priority": by_priority, "consumers": self.consumers}


@dataclass(frozen=True, kw_only=True)
class BrokerDepths:
    """Every queue's depth, and (Redis) how many delivered messages are not yet acknowledged."""

    queues: list[QueueDepth]
    unacked: int | None = None


def broker_depths(url: str, queues: Sequence[str], *, timeout_s: float) -> BrokerDepths:
    """Connect to the broker at `url` (failing after `timeout_s`, no retries) and count."""
    on_redis = priority.is_redis_url(url)
    options: dict[str, Any] = {"max_retries": 0}
    if on_redis:
        steps = list(range(priority.STEPS))  # as celeryconfig configures the transport
        options |= {"priority_steps": steps, "socket_timeout": timeout_s}
        options |= {"socket_connect_timeout": timeout_s}
    with Connection(url, connect_timeout=timeout_s, transport_options=options) as connection:
        connection.ensure_connection(max_retries=0, timeout=timeout_s)
        if on_redis:
            return _redis_depths(connection, queues)
        return BrokerDepths(queues=[_amqp_depth(connection, queue) for queue in queues])


def _redis_depths(connection: Connection, queues: Sequence[str]) -> BrokerDepths:
    channel: Any = connection.channel()
    try:
        steps: list[int] = list(channel.priority_steps)
        client = channel.client
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            for step in steps:
                pipe.llen(f"{queue}{channel.sep}{step}" if step else queue)
        pipe.hlen(channel.unacked_key)
        counts = pipe.execute()
    finally:
        channel.close()
    depths = []
    for index, queue in enumerate(queues):
        row = counts[index * len(steps) : (index + 1) * len(steps)]
        # Native step → caller priority (the mapping is its own inverse; Redis serves low first).
        by_priority = {
            priority.to_broker(step, redis=True): int(n) for step, n in zip(steps, row, strict=True)
        }
        depths.append(QueueDepth(queue=queue, total=sum(row), by_priority=by_priority))
    return BrokerDepths(queues=depths, unacked=int(counts[-1]))


def _amqp_depth(connection: Connection, queue: str) -> QueueDepth:
    channel: Any = connection.channel()
    try:
        declared = channel.queue_declare(queue=queue, passive=True)
    except connection.channel_errors:  # not declared yet: no worker ever consumed it
        return QueueDepth(queue=queue, total=0, consumers=0)
    finally:
        try:
            channel.close()
        except connection.channel_errors + connection.connection_errors:
            pass  # a failed passive declare closed it already
    return QueueDepth(queue=queue, total=declared.message_count, consumers=declared.consumer_count)
