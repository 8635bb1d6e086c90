"""PlantNet v2 client: multipart POST /identify/{project}, key in the query string."""

from __future__ import annotations

from typing import Any

import httpx

from services.errors import PermanentError
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


class PlantNetClient(Provider):
    """https://my.plantnet.org API v2 (the key travels in the URL: never log the URL)."""

    name = "plantnet"

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        api_key: str,
        project: str = "all",
        lang: str = "en",
        nb_results: int = 5,
    ) -> None:
        self._client = client
        self._url = f"{base_url.rstrip('/')}/identify/{project}"
        self._params: dict[str, str | int] = {
            "api-key": api_key,
            "lang": lang,
            "nb-results": nb_results,
        }

    def identify(self, request: IdentifyRequest, *, deadline: float) -> ProviderAnswer:
        files = [
            ("images", (f"image-{index}", image, kind))
            for index, (image, kind) in enumerate(
                zip(request.images, request.media_types, strict=True)
            )
        ]
        data = {"organs": list(request.organs)}
        http_request = self._client.build_request(
            "POST", self._url, params=self._params, files=files, data=data
        )
        response = send(self.name, self._client, http_request, deadline=deadline)
        if response.status_code == 404 and "species not found" in response.text.lower():
            not_a_plant = ProviderAnswer(provider=self.name, is_plant=False)  # a valid answer
            return with_allowance(not_a_plant, response.headers)
        raise_for_status(self.name, response)
        return with_allowance(parse_answer(json_body(self.name, response)), response.headers)


def parse_answer(body: dict[str, Any]) -> ProviderAnswer:
    """PlantNet's `results` → ProviderAnswer."""
    try:
        suggestions = tuple(_suggestion(item) for item in body.get("results", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise PermanentError(f"plantnet: unexpected answer shape ({exc!r})") from None
    ordered = tuple(sorted(suggestions, key=lambda s: s.probability, reverse=True))
    return ProviderAnswer(
        provider="plantnet",
        is_plant=bool(ordered),
        suggestions=ordered,
        remaining_requests=_count(body.get("remainingIdentificationRequests")),
    )


def _count(value: Any) -> int | None:
    # Noted for the quota reporter: anything but a whole number is no count at all.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _suggestion(item: dict[str, Any]) -> Suggestion:
    species = item["species"]
    gbif = (item.get("gbif") or {}).get("id")
    return Suggestion(
        name=species["scientificNameWithoutAuthor"],
        probability=float(item["score"]),
        family=_name(species.get("family")),
        genus=_name(species.get("genus")),
        common_names=tuple(species.get("commonNames") or ()),
        gbif_id=int(gbif) if gbif else None,
    )


def _name(taxon: Any) -> str | None:
    if isinstance(taxon, dict):
        return taxon.get("scientificNameWithoutAuthor") or taxon.get("scientificName")
    return taxon or None
