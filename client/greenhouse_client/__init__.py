"""Enqueue Greenhouse's public tasks and read their results (Celery and kombu only).

from greenhouse_client import Greenhouse

with Greenhouse("redis://redis:6379/0") as greenhouse:
    answer = greenhouse.identify(images=[photo_bytes], priority=7).get(timeout_s=30)
    print(answer.suggestions[0].name)
"""

from greenhouse_client.client import Greenhouse, Pending, native_priority, schema
from greenhouse_client.errors import (
    BrokerUnavailable,
    ContractMismatch,
    GreenhouseClientError,
    InvalidArguments,
    ResultTimeout,
    TaskFailed,
)
from greenhouse_client.results import (
    Decision,
    ForumDetail,
    ForumOverview,
    Identification,
    IdentificationSummary,
    Invalidated,
    PostScore,
    ReviewQueue,
    ServiceRun,
    UserSummary,
)

__all__ = [
    "BrokerUnavailable",
    "ContractMismatch",
    "Decision",
    "ForumDetail",
    "ForumOverview",
    "Greenhouse",
    "GreenhouseClientError",
    "Identification",
    "IdentificationSummary",
    "InvalidArguments",
    "Invalidated",
    "Pending",
    "PostScore",
    "ResultTimeout",
    "ReviewQueue",
    "ServiceRun",
    "TaskFailed",
    "UserSummary",
    "native_priority",
    "schema",
]
