"""The API sandbox over HTTP, for tests that point real workers at it."""

from __future__ import annotations

import httpx

from localkit.sandbox.server import SandboxServer


class Sandbox:
    """The running sandbox and its control endpoints."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server

    def env(self, **extra: str) -> dict[str, str]:
        """Worker environment pointing both providers at this sandbox."""
        return {
            "PLANT_ID_URL": self.server.plant_id_url,
            "PLANTNET_URL": self.server.plantnet_url,
            "PROVIDER_READ_TIMEOUT_S": "2",
            "PROVIDER_DEADLINE_S": "3",
            **extra,
        }

    def configure(self, **knobs: dict[str, object]) -> None:
        httpx.post(f"{self.server.url}/__sandbox/config", json=knobs).raise_for_status()

    def calls(self) -> dict[str, int]:
        return httpx.get(f"{self.server.url}/__sandbox/calls").json()

    def failures(self) -> dict[str, int]:
        """Calls each provider answered with an injected error (500 or 429)."""
        return httpx.get(f"{self.server.url}/__sandbox/failures").json()

    def concurrency(self) -> dict[str, dict[str, int]]:
        """Per provider: calls in flight now, and the most at once since the last reset."""
        return httpx.get(f"{self.server.url}/__sandbox/concurrency").json()

    def arrivals(self) -> dict[str, list[float]]:
        """When each call arrived, per provider, on the sandbox's monotonic clock."""
        return httpx.get(f"{self.server.url}/__sandbox/timeline").json()["arrivals"]
