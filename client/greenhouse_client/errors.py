"""What can go wrong when an application enqueues a Greenhouse task and waits for its result."""

from __future__ import annotations


class GreenhouseClientError(Exception):
    """Base of every error this client raises."""


class InvalidArguments(GreenhouseClientError, ValueError):
    """The arguments break the task's published schema; nothing was sent."""


class BrokerUnavailable(GreenhouseClientError, ConnectionError):
    """The task could not be published (broker unreachable); nothing was sent."""


class TaskFailed(GreenhouseClientError):
    """The task failed for good (bad input, or retries spent); Greenhouse keeps it as a dead
    letter that an operator can replay."""

    def __init__(self, task_id: str, error_type: str, reason: str) -> None:
        super().__init__(f"{error_type}: {reason} (task {task_id})")
        self.task_id = task_id
        self.error_type = error_type
        self.reason = reason


class ResultTimeout(GreenhouseClientError, TimeoutError):
    """No result within the wait; the task may still be queued or running (ask again by id)."""

    def __init__(self, task_id: str, timeout_s: float) -> None:
        super().__init__(f"no result for task {task_id} within {timeout_s:g} s")
        self.task_id = task_id
        self.timeout_s = timeout_s


class ContractMismatch(GreenhouseClientError):
    """A result does not match its published schema: client and workers disagree on versions."""
