"""The identification sandbox, started in-process on a free port and spoken to over real HTTP."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness.observe import eventually
from localkit.samples import sample_png
from localkit.sandbox.catalogue import CATALOGUE
from localkit.sandbox.server import SandboxServer
from localkit.sandbox.traffic import Traffic

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
        "daily_quota": None,
        "max_rps": None,
    }
    assert knobs["plantnet"]["latency_ms"] == 0


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"plant_idd": {}}, "plant_idd"),
        ({"plantnet": {"latency": 5}}, "plantnet.latency"),
        ({"plantnet": {"error_rate": 2}}, "plantnet.error_rate"),
        ({"plant_id": {"not_a_plant": "yes"}}, "plant_id.not_a_plant"),
        ({"plant_id": {"daily_quota": 2.5}}, "plant_id.daily_quota"),
        ({"plantnet": {"max_rps": 0}}, "plantnet.max_rps"),
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


def test_plantnet_sends_its_daily_quota_in_ietf_ratelimit_headers(client: httpx.Client) -> None:
    configure(client, plantnet={"daily_quota": 3})
    response = plantnet(client, sample_png(30))
    assert response.json()["remainingIdentificationRequests"] == 2
    policy, state = response.headers["RateLimit-Policy"], response.headers["RateLimit"]
    assert policy.startswith('"dailyQuota";q=3;w=86400;pk=:')
    assert state.startswith('"dailyQuota";r=2;t=')
    seconds_to_reset = int(state.split(";t=")[1].split(";")[0])
    assert 0 < seconds_to_reset <= 86400


def test_without_a_daily_quota_plantnet_counts_down_from_500_and_states_no_limit(
    client: httpx.Client,
) -> None:
    response = plantnet(client, sample_png(31))
    assert response.status_code == 200 and response.json()["remainingIdentificationRequests"] == 499
    assert "RateLimit" not in response.headers and "RateLimit-Policy" not in response.headers
    configure(client, plant_id={"daily_quota": 3})
    assert "RateLimit" not in plant_id(client, sample_png(31)).headers  # Plant.id sends none


def test_a_spent_daily_quota_answers_429_until_the_reset(client: httpx.Client) -> None:
    configure(client, plantnet={"daily_quota": 1}, plant_id={"daily_quota": 1})
    assert plantnet(client, sample_png(32)).status_code == 200
    refused = plantnet(client, sample_png(32))
    assert refused.status_code == 429 and refused.json()["message"] == "Daily quota exceeded"
    assert refused.headers["RateLimit"].startswith('"dailyQuota";r=0;t=')
    assert plant_id(client, sample_png(32)).status_code == 201
    credit_limit = plant_id(client, sample_png(32))
    assert credit_limit.status_code == 429 and "day credit limit" in credit_limit.json()["error"]
    assert client.get("/__sandbox/failures").json() == {"plant_id": 1, "plantnet": 1}


def test_plant_id_usage_info_reports_credits_per_window_without_spending_any(
    client: httpx.Client,
) -> None:
    configure(client, plant_id={"daily_quota": 5})
    plant_id(client, sample_png(33))
    usage = client.get("/plant-id/v3/usage_info", headers={"Api-Key": KEY}).json()
    again = client.get("/plant-id/v3/usage_info", headers={"Api-Key": KEY}).json()
    assert usage == again
    assert usage["credit_limits"] == {"day": 5, "week": None, "month": None, "total": None}
    assert usage["used"]["day"] == 1 and usage["remaining"]["day"] == 4
    assert usage["can_use_credits"] == {"value": True, "reason": None}
    assert client.get("/plant-id/v3/usage_info").status_code == 401


def test_plant_id_usage_info_without_a_quota_reports_no_limit(client: httpx.Client) -> None:
    usage = client.get("/plant-id/v3/usage_info", headers={"Api-Key": KEY}).json()
    assert usage["credit_limits"]["day"] is None and usage["remaining"]["day"] is None


def test_max_rps_answers_429_with_retry_after_past_the_rate(client: httpx.Client) -> None:
    configure(client, plant_id={"max_rps": 0.01})  # one call per 100 s
    statuses = [plant_id(client, sample_png(34)).status_code for _ in range(2)]
    refused = plant_id(client, sample_png(34))
    assert statuses == [201, 429] and refused.status_code == 429
    assert 95 <= int(refused.headers["Retry-After"]) <= 100
    assert client.get("/__sandbox/calls").json()["plant_id"] == 3
    assert plantnet(client, sample_png(34)).status_code == 200  # each provider its own rate


def test_max_rps_admits_that_many_calls_in_any_second() -> None:
    now = [100.0]
    traffic = Traffic(["p"], clock=lambda: now[0])
    assert [traffic.over_rate("p", 2.5) for _ in range(2)] == [None, None]
    assert traffic.over_rate("p", 2.5) == pytest.approx(1.0)
    now[0] = 100.6
    assert traffic.over_rate("p", 2.5) == pytest.approx(0.4)
    now[0] = 101.0  # the first two left the window
    assert [traffic.over_rate("p", 2.5) for _ in range(3)] == [None, None, pytest.approx(1.0)]


def test_concurrency_shows_calls_in_flight_and_the_most_at_once(
    sandbox: SandboxServer, client: httpx.Client
) -> None:
    configure(client, plantnet={"hang_s": 30})
    threads = [
        threading.Thread(target=_call_until_cut, args=(sandbox.url, seed)) for seed in (35, 36, 37)
    ]
    for thread in threads:
        thread.start()
    eventually(
        lambda: client.get("/__sandbox/concurrency").json()["plantnet"]["in_flight"] == 3,
        timeout_s=10,
        what="three PlantNet calls in flight",
    )
    configure(client, plantnet={"hang_s": 0})
    plantnet(client, sample_png(38))
    concurrency = client.get("/__sandbox/concurrency").json()
    assert concurrency["plantnet"]["max_in_flight"] == 4
    assert concurrency["plant_id"] == {"in_flight": 0, "max_in_flight": 0}
    sandbox.stop()  # cuts the hanging calls short
    for thread in threads:
        thread.join(10)


def test_the_timeline_gives_each_calls_arrival_on_the_sandbox_clock(client: httpx.Client) -> None:
    plant_id(client, sample_png(39))
    plantnet(client, sample_png(39))
    plant_id(client, sample_png(40))
    timeline = client.get("/__sandbox/timeline").json()
    arrivals = timeline["arrivals"]
    assert len(arrivals["plant_id"]) == 2 and len(arrivals["plantnet"]) == 1
    assert arrivals["plant_id"][0] <= arrivals["plantnet"][0] <= arrivals["plant_id"][1]
    assert arrivals["plant_id"][1] <= timeline["now"]
    client.post("/__sandbox/reset")
    assert client.get("/__sandbox/timeline").json()["arrivals"] == {"plant_id": [], "plantnet": []}


def _call_until_cut(url: str, seed: int) -> None:
    with httpx.Client(base_url=url, timeout=60.0) as client, contextlib.suppress(httpx.HTTPError):
        plantnet(client, sample_png(seed))
