"""An httpx client that sends from a client of each calling thread's own.

httpcore's pool walks every connection it holds (a poll() on each idle socket) to place each
request, so one client shared by 64 provider threads spends more CPU choosing a connection than
sending on it. A thread makes one call at a time, so a client per thread with a couple of
kept-alive connections is enough, and placing a request is O(1) again.
"""

from __future__ import annotations

import ssl
import threading
from typing import Any

import certifi
import httpx


class PerThreadClient(httpx.Client):
    """Builds requests like any httpx.Client; each thread sends through its own client."""

    def __init__(self, **options: Any) -> None:
        # One TLS context for all: each httpx.Client would load the CA bundle again.
        options.setdefault("verify", ssl.create_default_context(cafile=certifi.where()))
        super().__init__(**options)
        self._options = options
        self._local = threading.local()
        self._lock = threading.Lock()
        self._clients: list[httpx.Client] = []

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(**self._options)
            with self._lock:
                self._clients.append(client)
        return client.send(request, **kwargs)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()
        super().close()
