"""The identification service on fakes: bootstrap's graph with every boundary swapped."""

from __future__ import annotations

import base64
import dataclasses
import threading

import pytest

from harness.fakes import (
    NOW,
    FakeBreaker,
    FakeFlight,
    FakeProvider,
    FakeRecords,
    answer,
    transient,
    wired,
)
from localkit.samples import sample_png
from services.errors import PermanentError, TransientError
from services.identification.payload import IdentifyRequest, parse
from services.identification.pool import ProviderPools
from services.settings import Settings


def _request(photo: int = 1, request_id: str | None = "req-1") -> IdentifyRequest:
    payload: dict[str, object] = {"images": [base64.b64encode(sample_png(photo)).decode()]}
    if request_id:
        payload["request_id"] = request_id
    return parse(payload)


def test_another_picture_sharing_the_coarse_fingerprint_never_gets_its_cached_answer() -> None:
    plant_id, plantnet = FakeProvider("plant_id"), FakeProvider("plantnet")
    service = wired(providers=[plant_id, plantnet]).identification
    first, other = _request(photo=1), _request(photo=2)
    lookalike = dataclasses.replace(other, fingerprint=first.fingerprint)  # a hash collision
    service.answer(first)
    answered = service.answer(lookalike)
    assert not answered.cached and answered.image_sha256 == other.exact_fingerprint
    assert (len(plant_id.asked), len(plantnet.asked)) == (2, 2)
    assert service.answer(lookalike).cached  # from its own key
    assert service.answer(first).cached


def test_both_answers_are_merged_and_recorded_once_per_request_id() -> None:
    records = FakeRecords()
    service = wired(
        providers=[
            FakeProvider("plant_id", answer("plant_id", "Monstera deliciosa", 0.9)),
            FakeProvider("plantnet", answer("plantnet", "Monstera deliciosa Liebm.", 0.7)),
        ],
        records=records,
    ).identification
    first = service.identify(_request(), task_id="t-1")
    service.identify(_request(), task_id="t-2")  # the same request, redelivered
    assert [s.name for s in first.suggestions] == ["Monstera deliciosa"]
    assert first.suggestions[0].agreed
    assert {name: r.status for name, r in first.sources.items()} == {
        "plant_id": "ok",
        "plantnet": "ok",
    }
    assert list(records.rows) == ["request:req-1"]
    assert records.rows["request:req-1"].created_at == NOW


def test_a_repeated_photo_is_answered_from_the_cache_without_asking_anyone() -> None:
    plant_id, plantnet = FakeProvider("plant_id"), FakeProvider("plantnet")
    service = wired(providers=[plant_id, plantnet]).identification
    service.answer(_request(request_id="a"))
    again = service.answer(_request(request_id="b"))
    assert again.cached and again.request_id == "b"
    assert (len(plant_id.asked), len(plantnet.asked)) == (1, 1)


def test_one_failed_provider_gives_a_partial_answer_cached_briefly() -> None:
    flight = FakeFlight()
    settings = Settings(identification_partial_ttl_s=300, identification_cache_ttl_s=86_400)
    service = wired(
        settings,
        providers=[
            FakeProvider("plant_id", transient("plant_id: HTTP 503")),
            FakeProvider("plantnet", answer("plantnet", "Ficus elastica", 0.6)),
        ],
        identification_flight=flight,
    ).identification
    result = service.answer(_request())
    assert result.sources["plant_id"].status == "failed"
    assert result.sources["plant_id"].reason == "plant_id: HTTP 503"
    assert [s.name for s in result.suggestions] == ["Ficus elastica"]
    assert list(flight.ttls.values()) == [300]


def test_an_open_breaker_skips_its_provider_without_calling_it() -> None:
    plant_id = FakeProvider("plant_id")
    breaker = FakeBreaker("plant_id")
    breaker.open_for(12.0)
    service = wired(
        providers=[plant_id, FakeProvider("plantnet")],
        breakers={"plant_id": breaker, "plantnet": FakeBreaker("plantnet")},
    ).identification
    result = service.answer(_request())
    assert result.sources["plant_id"].status == "skipped"
    assert plant_id.asked == []


def test_all_providers_failing_transiently_retries_no_sooner_than_the_soonest_recovery() -> None:
    service = wired(
        providers=[
            FakeProvider("plant_id", transient(min_delay_s=30)),
            FakeProvider("plantnet", transient(min_delay_s=5)),
        ]
    ).identification
    with pytest.raises(TransientError) as failed:
        service.answer(_request())
    assert failed.value.min_delay_s == 5


def test_all_providers_rejecting_the_request_is_permanent() -> None:
    service = wired(
        providers=[
            FakeProvider("plant_id", PermanentError("plant_id rejected the request: HTTP 400")),
            FakeProvider("plantnet", PermanentError("plantnet rejected the request: HTTP 413")),
        ]
    ).identification
    with pytest.raises(PermanentError, match=r"HTTP 400.*HTTP 413"):
        service.answer(_request())


class _Hung(FakeProvider):
    """Never answers until released (a provider whose upload stalls)."""

    def __init__(self, name: str, release: threading.Event) -> None:
        super().__init__(name)
        self.release = release

    def identify(self, request: IdentifyRequest, *, deadline: float):  # type: ignore[no-untyped-def]
        self.release.wait(30)
        return super().identify(request, deadline=deadline)


def test_a_provider_past_the_deadline_fails_alone_and_the_other_answer_is_kept() -> None:
    release = threading.Event()
    pools = ProviderPools(max_workers=2)
    service = wired(
        Settings(provider_deadline_s=0.2),
        providers=[_Hung("plant_id", release), FakeProvider("plantnet")],
        pools=pools,
    ).identification
    try:
        result = service.answer(_request())
    finally:
        release.set()
        pools.shutdown()
    assert result.sources["plant_id"].status == "failed"
    assert "no answer within 0.2s" in (result.sources["plant_id"].reason or "")
    assert result.sources["plantnet"].status == "ok"
