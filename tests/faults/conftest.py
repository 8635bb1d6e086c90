"""Fault tests: real parts. The session's Redis is chosen (and started if need be)
when this folder is collected, before anything reads the Celery configuration."""

import pytest

from harness.servers import stop_session_redis, use_session_redis


def pytest_configure(config: pytest.Config) -> None:
    use_session_redis()


def pytest_unconfigure(config: pytest.Config) -> None:
    stop_session_redis()
