"""The leased Redis transport and the lease renewer, on a real Redis through kombu."""

import time
from collections.abc import Iterator

import pytest
import redis
from celery.worker import state
from kombu import Connection, Exchange, Queue
from kombu.message import Message

from services.delivery.lease import LeaseRenewer, renew
from services.delivery.transport import LEASED

QUEUE = Queue("leased", Exchange("leased"), routing_key="leased")


def _connect(url: str, lease_s: float = 30) -> Connection:
    return Connection(
        url, transport=LEASED["redis"], transport_options={"visibility_timeout": lease_s}
    )


def _deliver(url: str, count: int, lease_s: float = 30) -> tuple[Connection, list[Message]]:
    """Publish `count` messages and receive them all, unacknowledged, on a leased channel."""
    with Connection(url) as producer:
        for n in range(count):
            producer.Producer().publish(
                {"n": n}, exchange=QUEUE.exchange, routing_key="leased", declare=[QUEUE]
            )
    connection = _connect(url, lease_s)
    received: list[Message] = []
    consumer = connection.Consumer([QUEUE], callbacks=[lambda _body, m: received.append(m)])
    consumer.consume()
    while len(received) < count:
        connection.drain_events(timeout=5)
    return connection, received


class RunningRequest:
    """A stand-in for a request the pool runs (Celery's state holds the real ones weakly)."""

    def __init__(self, message: Message) -> None:
        self.message = message


@pytest.fixture
def running() -> Iterator[list[RunningRequest]]:
    """Requests put in Celery's own worker state as running; taken out afterwards."""
    requests: list[RunningRequest] = []
    yield requests
    for request in requests:
        state.active_requests.discard(request)


def _run(running: list[RunningRequest], message: Message) -> None:
    request = RunningRequest(message)
    running.append(request)
    state.active_requests.add(request)


def test_renewing_updates_held_tags_and_never_brings_back_an_acknowledged_one(
    redis_client: redis.Redis,
) -> None:
    redis_client.zadd("unacked_index", {"held": 1.0})
    assert renew(redis_client, "unacked_index", ["held", "acked-meanwhile"], now=99.0) == 1
    assert redis_client.zrange("unacked_index", 0, -1, withscores=True) == [("held", 99.0)]


def test_a_lost_connection_requeues_what_waits_but_not_what_runs(
    redis_url: str, redis_client: redis.Redis, running: list[RunningRequest]
) -> None:
    connection, (busy, _waiting) = _deliver(redis_url, 2)
    _run(running, busy)
    connection.collect()  # what Celery does when the connection breaks
    assert redis_client.llen("leased") == 1  # the waiting one is back in its queue
    assert redis_client.hkeys("unacked") == [busy.delivery_tag]  # the running one stays held
    busy.ack()  # the task finishes after the reconnect: the old channel still acknowledges
    assert redis_client.hlen("unacked") == 0 and redis_client.zcard("unacked_index") == 0


def test_a_sweep_waits_a_whole_lease_after_connecting_then_restores_what_lapsed(
    redis_url: str, redis_client: redis.Redis
) -> None:
    holder, (message,) = _deliver(redis_url, 1, lease_s=1)
    redis_client.zadd("unacked_index", {message.delivery_tag: time.time() - 60})  # long lapsed
    sweeper = _connect(redis_url, lease_s=1)
    qos = sweeper.default_channel.qos
    qos.restore_visible(interval=1)
    assert redis_client.llen("leased") == 0  # just connected: holders may not have renewed yet
    time.sleep(1.1)
    qos.restore_visible(interval=1)
    assert redis_client.llen("leased") == 1
    holder.release()
    sweeper.release()


def test_the_renewer_keeps_a_held_message_from_lapsing(
    redis_url: str, redis_client: redis.Redis
) -> None:
    holder, (message,) = _deliver(redis_url, 1, lease_s=1)
    renewer = LeaseRenewer(
        holder.default_channel.lease_client(),
        key="unacked_index",
        interval_s=0.2,
        held=lambda: {message.delivery_tag},
    ).start()
    try:
        sweeper = _connect(redis_url, lease_s=1)
        time.sleep(1.1)
        for _ in range(5):
            sweeper.default_channel.qos.restore_visible(interval=1)
            time.sleep(0.3)
        assert redis_client.llen("leased") == 0  # three leases later, still held
    finally:
        renewer.stop()
    time.sleep(1.1)
    sweeper.default_channel.qos.restore_visible(interval=1)
    assert redis_client.llen("leased") == 1  # no renewals: it lapses and returns
    holder.release()
    sweeper.release()
