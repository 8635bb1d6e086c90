"""kombu's Redis transport with leases: what a live worker holds is never handed to another.

Three changes to kombu's Redis QoS and channel, each closing a way to run a task twice at once or
lose its acknowledgement:

- A sweep restores expired messages only once this channel has been connected for a whole lease,
  so after a Redis restart (or any reconnect) every live worker has had time to renew first.
- Closing a channel (a lost connection) requeues what it delivered except messages whose tasks are
  still running: those stay leased and are acknowledged when they finish.
- A closed channel still acknowledges, through a connection pool of its own, so a task that
  outlives a reconnect is acknowledged instead of waiting out its lease to be delivered again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from kombu import Connection
from kombu.transport import redis as kombu_redis

from services.delivery import lease

LEASED = {
    "redis": "services.delivery.transport:Transport",
    "rediss": "services.delivery.transport:Transport",
    "sentinel": "services.delivery.transport:SentinelTransport",
}


def leased_transport_for(url: str) -> str | None:
    """The leased transport for a Redis broker URL; None for any other broker."""
    return LEASED.get(url.split("://", 1)[0])


def is_leased(url: str, transport: str | None) -> bool:
    """True when a connection to `url` would use a leased transport (no network needed)."""
    cls = Connection(url, transport=transport).get_transport_cls()
    return isinstance(cls, type) and issubclass(cls, (Transport, SentinelTransport))


class LeasedQoS(kombu_redis.QoS):
    """kombu's Redis QoS whose sweeps wait a lease after a connect, and whose close spares
    running tasks."""

    channel: LeasedChannel

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        if time.monotonic() - self.channel.connected_at < self.visibility_timeout:
            return  # live holders may not have renewed since the reconnect yet
        super().restore_visible(start, num, interval)

    @contextmanager
    def pipe_or_acquire(self, pipe: Any = None, client: redis.Redis | None = None) -> Iterator[Any]:
        # Delivery (ZADD + HSET) and acknowledgement (ZREM + HDEL) without MULTI/EXEC: one round
        # trip either way, two commands fewer. Atomicity buys nothing here: a sweep restores only
        # entries whose lease lapsed, never one being written or acknowledged this instant, and a
        # client dying between the two commands loses no more than one dying before EXEC.
        if pipe is not None:
            yield pipe
            return
        with self.channel.conn_or_acquire(client) as conn:
            yield conn.pipeline(transaction=False)

    def restore_unacked(self, client: redis.Redis | None = None) -> None:
        running = lease.running_tags()
        with self.channel.conn_or_acquire(client) as conn:
            for tag in self._delivered:
                if tag not in running:
                    self.restore_by_tag(tag, client=conn)
        self._delivered.clear()


class _LeasedChannelMixin:
    """Remembers when it connected; keeps a pool of its own for acknowledgements and leases."""

    QoS = LeasedQoS
    closed: bool
    Client: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._clients: dict[int, redis.Redis] = {}  # by pool: see _create_client
        super().__init__(*args, **kwargs)
        self.connected_at = time.monotonic()
        # close() disconnects the channel's pools and forgets the connection's parameters.
        self._lasting_pool = self._get_pool()  # type: ignore[attr-defined]

    def lease_client(self) -> redis.Redis:
        """A client that outlives this channel (for the lease renewer and late acks)."""
        return self._client_over(self._lasting_pool)

    @contextmanager
    def conn_or_acquire(self, client: redis.Redis | None = None) -> Iterator[redis.Redis]:
        if client is None and self.closed:
            yield self.lease_client()
            return
        with super().conn_or_acquire(client) as conn:  # type: ignore[misc]
            yield conn

    def _create_client(self, asynchronous: bool = False) -> redis.Redis:
        # kombu builds a new client for every acknowledgement and publish; redis-py's client
        # is thread-safe and costly to build (its response-callback table), so reuse one.
        if asynchronous:
            client: redis.Redis = super()._create_client(asynchronous=True)  # type: ignore[misc]
            return client
        return self._client_over(self.pool)  # type: ignore[attr-defined]

    def _client_over(self, pool: redis.ConnectionPool) -> redis.Redis:
        cached = self._clients.get(id(pool))
        if cached is None or cached.connection_pool is not pool:
            cached = self._clients[id(pool)] = self.Client(connection_pool=pool)
        return cached


class LeasedChannel(_LeasedChannelMixin, kombu_redis.Channel):
    """A Redis channel under leases."""


class LeasedSentinelChannel(_LeasedChannelMixin, kombu_redis.SentinelChannel):
    """A Redis Sentinel channel under leases."""


class Transport(kombu_redis.Transport):
    """`redis://` and `rediss://` under leases."""

    Channel = LeasedChannel


class SentinelTransport(kombu_redis.SentinelTransport):
    """`sentinel://` under leases."""

    Channel = LeasedSentinelChannel
