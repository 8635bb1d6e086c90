"""The remaining quota on its way to the report: parsed from PlantNet's answer, noted by the
identification service on a cache miss (fakes), and each provider's report line with its warning
(a pure function)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping

import pytest

from harness.fakes import FakeBreaker, FakeFlight, FakeProvider, FakeRecords, InlinePool, answer
from localkit.samples import sample_png
from services.background.reporter import provider_entry
from services.identification.payload import IdentifyRequest, parse
from services.identification.plantnet import parse_answer
from services.identification.providers import ProviderAnswer
from services.identification.quota import Quota
from services.identification.service import IdentificationService


class FakeQuotaSink:
    """Every batch of counts the service noted, in order."""

    def __init__(self) -> None:
        self.noted: list[dict[str, int]] = []

    def record(self, remaining: Mapping[str, int]) -> None:
        self.noted.append(dict(remaining))


def _service(plantnet: ProviderAnswer, sink: FakeQuotaSink) -> IdentificationService:
    providers = [FakeProvider("plant_id"), FakeProvider("plantnet", plantnet)]
    return IdentificationService(
        providers=[(p, FakeBreaker(p.name)) for p in providers],
        flight=FakeFlight(),
        records=FakeRecords(),
        pools=lambda _name: InlinePool(),
        deadline_s=5,
        full_ttl_s=60,
        partial_ttl_s=10,
        quota=sink,
    )


def _request(photo: int) -> IdentifyRequest:
    return parse({"images": [base64.b64encode(sample_png(photo)).decode()]})


def test_a_count_a_provider_reports_is_noted_once_per_call_and_never_from_the_cache() -> None:
    sink = FakeQuotaSink()
    counted = ProviderAnswer(provider="plantnet", is_plant=True, remaining_requests=42)
    service = _service(counted, sink)
    service.answer(_request(1))
    service.answer(_request(1))  # from the cache: no provider asked, no quota spent
    assert sink.noted == [{"plantnet": 42}]


def test_answers_without_a_count_note_nothing() -> None:
    sink = FakeQuotaSink()
    _service(answer("plantnet", "Monstera deliciosa", 0.8), sink).answer(_request(2))
    assert sink.noted == []


@pytest.mark.parametrize(("sent", "noted"), [(7, 7), (0, 0), ("7", None), (True, None)])
def test_only_a_whole_number_from_plantnet_is_taken_as_its_count(
    sent: object, noted: int | None
) -> None:
    body = {"results": [], "remainingIdentificationRequests": sent}
    assert parse_answer(body).remaining_requests == noted


def test_a_fresh_count_under_the_threshold_is_low_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quota = Quota(remaining=12, seen_at=1000.0)
    with caplog.at_level(logging.WARNING, logger="services.background.reporter"):
        entry = provider_entry(
            "plantnet", "closed", quota, now=1060.0, warn_below=50, max_age_s=3600
        )
    assert entry == {
        "breaker": "closed",
        "remaining": 12,
        "seen_at": 1000.0,
        "stale": False,
        "low": True,
    }
    assert [r.getMessage() for r in caplog.records] == [
        "plantnet quota running out: 12 requests left (warning below 50), seen 60s ago"
    ]


def test_a_count_at_or_above_the_threshold_does_not_warn(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quota = Quota(remaining=50, seen_at=1000.0)
    with caplog.at_level(logging.WARNING):
        entry = provider_entry("plantnet", "open", quota, now=1000.0, warn_below=50, max_age_s=60)
    assert (entry["breaker"], entry["remaining"], entry["low"]) == ("open", 50, False)
    assert caplog.records == []


def test_a_stale_count_is_reported_as_stale_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quota = Quota(remaining=3, seen_at=1000.0)
    with caplog.at_level(logging.WARNING):
        entry = provider_entry("plantnet", "closed", quota, now=5000.0, warn_below=50, max_age_s=60)
    assert (entry["remaining"], entry["stale"], entry["low"]) == (3, True, False)
    assert caplog.records == []


def test_a_provider_that_never_reported_a_count_has_none() -> None:
    entry = provider_entry("plant_id", "half_open", None, now=1.0, warn_below=50, max_age_s=60)
    assert entry == {
        "breaker": "half_open",
        "remaining": None,
        "seen_at": None,
        "stale": False,
        "low": False,
    }
