"""The identification sandbox, started in-process on a free port and spoken to over real HTTP."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localkit.samples import sample_png
from localkit.sandbox.catalogue import CATALOGUE
from localkit.sandbox.server import SandboxServer

KEY = "sandbox-test-key"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture
def client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10.0) as client:
        yield client


def plant_id(
    client: httpx.Client,
    *images: bytes,
    details: str = "common_names,taxonomy,gbif_id",
    api_key: str = KEY,
    timeout: httpx.Timeout | None = None,
) -> httpx.Response:
    body = {
        "images": [base64.b64encode(image).decode() for image in images],
        "latitude": 49.2,
        "longitude": 16.6,
        "similar_images": False,
    }
    return client.post(
        "/plant-id/v3/identification",
        params={"details": details},
        headers={"Api-Key": api_key} if api_key else {},
        json=body,
        timeout=timeout or client.timeout,
    )


def plantnet(
    client: httpx.Client,
    *images: bytes,
    organs: tuple[str, ...] = (),
    params: dict[str, str] | None = None,
) -> httpx.Response:
    files = [("images", (f"photo-{i}.png", image, "image/png")) for i, image in enumerate(images)]
    return client.post(
        "/plantnet/v2/identify/all",
        params={"api-key": KEY, **(params or {})},
        files=files,
        data={"organs": list(organs)},
    )


def configure(client: httpx.Client, **knobs: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/__sandbox/config", json=knobs)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_server_urls_name_the_bound_port_and_each_provider(sandbox: SandboxServer) -> None:
    assert sandbox.url.startswith("http://127.0.0.1:") and not sandbox.url.endswith(":0")
    assert sandbox.plant_id_url == sandbox.url + "/plant-id/v3"
    assert sandbox.plantnet_url == sandbox.url + "/plantnet/v2"


def test_plant_id_answers_201_in_the_v3_shape_with_three_to_five_suggestions(
    client: httpx.Client,
) -> None:
    response = plant_id(client, sample_png(1))
    assert response.status_code == 201
    answer = response.json()
    assert answer["status"] == "COMPLETED" and answer["model_version"] == "plant_id:3.6.0"
    assert answer["input"]["latitude"] == 49.2 and len(answer["input"]["images"]) == 1
    assert answer["result"]["is_plant"]["binary"] is True
    suggestions = answer["result"]["classification"]["suggestions"]
    assert 3 <= len(suggestions) <= 5
    probabilities = [suggestion["probability"] for suggestion in suggestions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0.55 <= probabilities[0] <= 0.97 and all(0 < p <= 1 for p in probabilities)
    details = suggestions[0]["details"]
    species = next(s for s in CATALOGUE if s.name == suggestions[0]["name"])
    assert details["gbif_id"] == species.gbif_id
    assert details["common_names"] == list(species.common_names)
    assert details["taxonomy"]["family"] == species.family
    assert details["taxonomy"]["kingdom"] == "Plantae"


def test_plant_id_includes_only_the_requested_details(client: httpx.Client) -> None:
    response = plant_id(client, sample_png(2), details="gbif_id")
    details = response.json()["result"]["classification"]["suggestions"][0]["details"]
    assert "gbif_id" in details
    assert "common_names" not in details and "taxonomy" not in details


def test_plant_id_without_an_api_key_is_answered_401(client: httpx.Client) -> None:
    response = plant_id(client, sample_png(3), api_key="")
    assert response.status_code == 401
    assert response.json() == {"error": "Api-Key header is missing"}


def test_plant_id_rejects_bad_json_and_undecodable_images_with_400(client: httpx.Client) -> None:
    url, headers = "/plant-id/v3/identification", {"Api-Key": KEY}
    not_json = client.post(url, headers=headers, content=b"{not json")
    no_images = client.post(url, headers=headers, json={"images": []})
    not_base64 = client.post(url, headers=headers, json={"images": ["***"]})
    assert [not_json.status_code, no_images.status_code, not_base64.status_code] == [400] * 3
    assert "base64" in not_base64.json()["error"]


def test_plantnet_answers_multipart_images_and_organs_in_the_v2_shape(
    client: httpx.Client,
) -> None:
    images = (sample_png(4), sample_png(5, size_px=32))
    response = plantnet(client, *images, organs=("leaf", "flower"), params={"nb-results": "3"})
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["query"]["images"] == [hashlib.sha256(image).hexdigest() for image in images]
    assert answer["query"]["organs"] == ["leaf", "flower"] and answer["query"]["project"] == "all"
    assert [organ["organ"] for organ in answer["predictedOrgans"]] == ["leaf", "flower"]
    assert len(answer["results"]) == 3
    scores = [result["score"] for result in answer["results"]]
    assert scores == sorted(scores, reverse=True) and 0.55 <= scores[0] <= 0.97
    top = answer["results"][0]
    assert answer["bestMatch"] == top["species"]["scientificName"]
    species = next(s for s in CATALOGUE if s.name == top["species"]["scientificNameWithoutAuthor"])
    assert top["species"]["scientificNameAuthorship"] == species.author
    assert top["species"]["family"]["scientificNameWithoutAuthor"] == species.family
    assert top["gbif"] == {"id": str(species.gbif_id)}
    assert answer["remainingIdentificationRequests"] == 499
    assert plantnet(client, sample_png(4)).json()["remainingIdentificationRequests"] == 498


def test_plantnet_rejects_organs_that_do_not_match_the_images_in_number(
    client: httpx.Client,
) -> None:
    response = plantnet(client, sample_png(6), sample_png(7), organs=("leaf",))
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400 and response.json()["error"] == "Bad Request"
    assert "organs" in response.json()["message"]


def test_plantnet_rejects_an_unknown_organ_and_a_missing_key(client: httpx.Client) -> None:
    assert plantnet(client, sample_png(8), organs=("root",)).status_code == 400
    unauthorized = client.post("/plantnet/v2/identify/all", files={"images": sample_png(8)})
    assert unauthorized.status_code == 401
    assert unauthorized.json() == {
        "statusCode": 401,
        "error": "Unauthorized",
        "message": "Invalid API key",
    }


def test_not_a_plant_makes_plant_id_say_so_and_plantnet_answer_404(client: httpx.Client) -> None:
    configure(client, plant_id={"not_a_plant": True}, plantnet={"not_a_plant": True})
    is_plant = plant_id(client, sample_png(9)).json()["result"]["is_plant"]
    assert is_plant["binary"] is False and is_plant["probability"] < 0.5
    response = plantnet(client, sample_png(9))
    assert response.status_code == 404
    assert response.json()["message"] == "Species not found"


def test_both_providers_agree_on_the_top_species_but_not_on_every_detail(
    client: httpx.Client,
) -> None:
    differs = False
    for seed in range(10, 16):
        image = sample_png(seed)
        suggestions = plant_id(client, image).json()["result"]["classification"]["suggestions"]
        results = plantnet(client, image).json()["results"]
        assert suggestions[0]["name"] == results[0]["species"]["scientificNameWithoutAuthor"]
        differs |= suggestions[1]["name"] != results[1]["species"]["scientificNameWithoutAuthor"]
    assert differs


def test_the_same_image_always_gets_the_same_answer(client: httpx.Client) -> None:
    def ranking(response: httpx.Response) -> list[tuple[str, float]]:
        suggestions = response.json()["result"]["classification"]["suggestions"]
        return [(suggestion["name"], suggestion["probability"]) for suggestion in suggestions]

    image = sample_png(20)
    as_data_uri = "data:image/png;base64," + base64.b64encode(image).decode()
    again = client.post(
        "/plant-id/v3/identification", headers={"Api-Key": KEY}, json={"images": [as_data_uri]}
    )
    assert ranking(plant_id(client, image)) == ranking(plant_id(client, image)) == ranking(again)
    assert plantnet(client, image).json()["results"] == plantnet(client, image).json()["results"]


def test_latency_delays_each_answer_past_a_shorter_read_timeout(client: httpx.Client) -> None:
    short = httpx.Timeout(5.0, read=0.2)
    assert plant_id(client, sample_png(21), timeout=short).status_code == 201
    configure(client, plant_id={"latency_ms": 1000})
    with pytest.raises(httpx.ReadTimeout):
        plant_id(client, sample_png(21), timeout=short)


def test_a_rate_limit_answers_429_with_a_whole_retry_after_header(client: httpx.Client) -> None:
    configure(client, plant_id={"rate_limit_retry_after_s": 1.5, "error_rate": 1.0})
    response = plant_id(client, sample_png(22))
    assert response.status_code == 429  # the rate limit comes before injected failures
    assert response.headers["Retry-After"] == "2"
    assert "error" in response.json()


def test_an_error_rate_of_half_fails_exactly_every_other_call(client: httpx.Client) -> None:
    configure(client, plantnet={"error_rate": 0.5})
    responses = [plantnet(client, sample_png(23)) for _ in range(10)]
    assert [response.status_code for response in responses] == [200, 500] * 5
    assert responses[1].json() == {"error": "sandbox injected failure"}


def test_hanging_longer_than_the_read_timeout_raises_read_timeout(client: httpx.Client) -> None:
    configure(client, plant_id={"hang_s": 5})
    with pytest.raises(httpx.ReadTimeout):
        plant_id(client, sample_png(24), timeout=httpx.Timeout(5.0, read=0.2))


def test_calls_are_counted_per_provider_even_when_they_fail_until_reset(
    client: httpx.Client,
) -> None:
    configure(client, plantnet={"error_rate": 1.0})
    plant_id(client, sample_png(25))
    plant_id(client, sample_png(25), api_key="")
    plantnet(client, sample_png(25))
    assert client.get("/__sandbox/calls").json() == {"plant_id": 2, "plantnet": 1}

    assert client.post("/__sandbox/reset").status_code == 200
    assert client.get("/__sandbox/calls").json() == {"plant_id": 0, "plantnet": 0}
    assert client.get("/__sandbox/config").json()["plantnet"]["error_rate"] == 0.0
    assert plantnet(client, sample_png(25)).json()["remainingIdentificationRequests"] == 499


def test_config_changes_merge_into_the_current_knobs(client: httpx.Client) -> None:
    configure(client, plant_id={"latency_ms": 5})
    knobs = configure(client, plant_id={"error_rate": 0.25})
    assert knobs["plant_id"] == {
        "latency_ms": 5,
        "error_rate": 0.25,
        "rate_limit_retry_after_s": None,
        "hang_s": 0.0,
        "trickle_s": 0.0,
        "not_a_plant": False,
        "broken_body": None,
    }
    assert knobs["plantnet"]["latency_ms"] == 0


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"plant_idd": {}}, "plant_idd"),
        ({"plantnet": {"latency": 5}}, "plantnet.latency"),
        ({"plantnet": {"error_rate": 2}}, "plantnet.error_rate"),
        ({"plant_id": {"not_a_plant": "yes"}}, "plant_id.not_a_plant"),
    ],
)
def test_config_rejects_unknown_providers_knobs_and_bad_values_by_name(
    client: httpx.Client, config: dict[str, Any], named: str
) -> None:
    response = client.post("/__sandbox/config", json=config)
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert client.get("/__sandbox/config").json()["plantnet"]["error_rate"] == 0.0


def test_unknown_paths_answer_404_in_json(client: httpx.Client) -> None:
    response = client.get("/plant-id/v2/identification")
    assert response.status_code == 404 and "error" in response.json()
