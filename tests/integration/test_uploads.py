"""Uploads seen before skip decoding: the index on real Redis, and the service through it."""

import base64

import pytest
import redis

import services.identification.service as service_module
from harness.fakes import FakeProvider, wired
from localkit.samples import sample_png
from services.identification.payload import IdentifyRequest, Submission, submit
from services.identification.uploads import UploadIndex
from services.resilience.cache import JsonCache
from services.resilience.lock import SingleFlight


def _answers(redis_url: str) -> JsonCache:
    client = redis.Redis.from_url(redis_url)
    return JsonCache(client, namespace="identification", version=1, ttl_s=60)


def test_an_upload_seen_before_is_answered_without_decoding_its_photos(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = _answers(redis_url)
    plant_id, plantnet = FakeProvider("plant_id"), FakeProvider("plantnet")
    container = wired(providers=[plant_id, plantnet])
    service = container.identification
    service._flight = SingleFlight(answers.client, answers)
    service._uploads = UploadIndex(answers)
    prepared: list[Submission] = []
    real_prepare = service_module.prepare_all

    def counted(submission: Submission, **options: int) -> IdentifyRequest:
        prepared.append(submission)
        return real_prepare(submission, **options)

    monkeypatch.setattr(service_module, "prepare_all", counted)
    payload = {"images": [base64.b64encode(sample_png(901)).decode()]}
    first = service.answer(submit(payload))
    again = service.answer(submit(payload | {"request_id": "again"}))
    assert (first.cached, again.cached, again.request_id) == (False, True, "again")
    assert again.suggestions == first.suggestions
    assert len(prepared) == 1 and len(plant_id.asked) == 1
    other = service.answer(submit({"images": [base64.b64encode(sample_png(902)).decode()]}))
    assert not other.cached and len(prepared) == 2


def test_an_upload_is_remembered_with_its_answer_for_as_long_as_that_answer(
    redis_url: str,
) -> None:
    answers = _answers(redis_url)
    index = UploadIndex(answers)
    index.remember("u1", data={"thumbnails": [bytes(256).hex()], "x": 1}, ttl_s=30)
    assert index.find("u1") == {"x": 1}  # one GET; the thumbnails stay with the answer's key
    assert 29_000 < answers.client.pttl(answers.key("upload:u1")) <= 30_000
    assert index.find("u2") is None
