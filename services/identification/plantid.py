"""Plant.id v3 client: POST /identification with JSON, key in the Api-Key header."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

from services.errors import PermanentError
from services.identification.allowance import Allowance, from_usage_info
from services.identification.payload import IdentifyRequest
from services.identification.providers import (
    Provider,
    ProviderAnswer,
    Suggestion,
    json_body,
    raise_for_status,
    send,
    with_allowance,
)

DETAILS = "common_names,taxonomy,gbif_id"


class PlantIdClient(Provider):
    """https://plant.id API v3."""

    name = "plant_id"

    def __init__(self, client: httpx.Client, *, base_url: str, api_key: str) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/identification"
        self._usage_url = base_url.rstrip("/") + "/usage_info"
        self._api_key = api_key

    def identify(self, request: IdentifyRequest, *, deadline: float) -> ProviderAnswer:
        body = {
            "images": [base64.b64encode(image).decode() for image in request.images],
            "latitude": request.latitude,
            "longitude": request.longitude,
            "similar_images": False,
        }
        http_request = self._client.build_request(
            "POST",
            self._url,
            params={"details": DETAILS},
            json=body,
            headers={"Api-Key": self._api_key},
        )
        response = send(self.name, self._client, http_request, deadline=deadline)
        raise_for_status(self.name, response)
        return with_allowance(parse_answer(json_body(self.name, response)), response.headers)

    def usage(self, *, timeout_s: float) -> Allowance | None:
        """What is left of the key's credits (`GET /usage_info`, which spends none); None when
        no window has a limit."""
        http_request = self._client.build_request(
            "GET", self._usage_url, headers={"Api-Key": self._api_key}
        )
        deadline = time.monotonic() + timeout_s
        response = send(self.name, self._client, http_request, deadline=deadline)
        raise_for_status(self.name, response)
        return from_usage_info(json_body(self.name, response))


def parse_answer(body: dict[str, Any]) -> ProviderAnswer:
    """Plant.id's `result` → ProviderAnswer."""
    try:
        result = body["result"]
        is_plant = bool(result["is_plant"]["binary"])
        raw = result.get("classification", {}).get("suggestions", [])
        suggestions = tuple(_suggestion(item) for item in raw)
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"plant_id: unexpected answer shape ({exc!r})") from None
    ordered = tuple(sorted(suggestions, key=lambda s: s.probability, reverse=True))
    return ProviderAnswer(provider="plant_id", is_plant=is_plant, suggestions=ordered)


def _suggestion(item: dict[str, Any]) -> Suggestion:
    details = item.get("details") or {}
    taxonomy = details.get("taxonomy") or {}
    gbif = details.get("gbif_id")
    return Suggestion(
        name=item["name"],
        probability=float(item["probability"]),
        family=taxonomy.get("family"),
        genus=taxonomy.get("genus"),
        common_names=tuple(details.get("common_names") or ()),
        gbif_id=int(gbif) if gbif else None,
    )
