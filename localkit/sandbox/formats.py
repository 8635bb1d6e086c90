"""Request parsing and response bodies of the sandbox's Plant.id v3 and PlantNet v2 imitations."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any

from localkit.sandbox.catalogue import CATALOGUE, Species, taxonomy

Query = Mapping[str, list[str]]
Reply = tuple[int, dict[str, Any]]

ORGANS = ("auto", "leaf", "flower", "fruit", "bark", "habit", "other")
PLANT_ID_DETAILS = ("common_names", "taxonomy", "gbif_id")
PLANTNET_QUOTA = 500


class BadRequest(ValueError):
    """The request cannot be answered as sent; the message says why."""


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def rank(
    images: Sequence[bytes], *, salt: str, count: int, digits: int
) -> list[tuple[Species, float]]:
    """`count` species, best first: the first image picks the top one, `salt` the others."""
    top = int.from_bytes(_sha(images[0])[:8], "big") % len(CATALOGUE)
    rng = random.Random(_sha(salt.encode(), *(_sha(image) for image in images)))
    others = [index for index in range(len(CATALOGUE)) if index != top]
    rng.shuffle(others)
    score = 0.55 + 0.42 * rng.random()
    ranked = []
    for index in [top, *others][:count]:
        ranked.append((CATALOGUE[index], max(round(score, digits), 10.0**-digits)))
        score *= rng.uniform(0.25, 0.65)
    return ranked


def _first(query: Query, name: str, default: str) -> str:
    return query.get(name, [default])[0]


def _positive_int(query: Query, name: str, default: str) -> int:
    value = _first(query, name, default)
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(f'"{name}" must be a positive integer')
    return int(value)


def _flag(query: Query, name: str) -> bool:
    value = _first(query, name, "false").lower()
    if value not in ("true", "false"):
        raise BadRequest(f'"{name}" must be true or false')
    return value == "true"


def plantnet_error(status: HTTPStatus, message: str) -> Reply:
    """An error shaped as PlantNet sends them."""
    return status, {"statusCode": status.value, "error": status.phrase, "message": message}


def rate_limited(provider: str) -> dict[str, Any]:
    """The 429 body each provider sends when its rate limit is hit."""
    if provider == "plant_id":
        return {"error": "Too many requests, slow down"}
    return plantnet_error(HTTPStatus.TOO_MANY_REQUESTS, "Too many requests")[1]


@dataclass(frozen=True)
class _PlantIdRequest:
    images: tuple[bytes, ...]
    latitude: float | None
    longitude: float | None
    similar_images: bool


def _decode_image(index: int, item: object) -> bytes:
    if not isinstance(item, str):
        raise BadRequest(f"images[{index}] must be a base64 string")
    if item.startswith("data:") and "base64," in item:
        item = item.split("base64,", 1)[1]
    try:
        image = base64.b64decode(item, validate=True)
    except binascii.Error:
        raise BadRequest(f"images[{index}] is not valid base64") from None
    if not image:
        raise BadRequest(f"images[{index}] is empty")
    return image


def _coordinate(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise BadRequest(f"{name} must be a number or null")
    return value


def _plant_id_request(body: bytes) -> _PlantIdRequest:
    try:
        data = json.loads(body)
    except ValueError:
        raise BadRequest("request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("request body must be a JSON object")
    images = data.get("images")
    if not isinstance(images, list) or not images:
        raise BadRequest("images: at least one base64-encoded image is required")
    similar = data.get("similar_images", False)
    if not isinstance(similar, bool):
        raise BadRequest("similar_images must be true or false")
    decoded = tuple(_decode_image(index, item) for index, item in enumerate(images))
    return _PlantIdRequest(
        decoded, _coordinate(data, "latitude"), _coordinate(data, "longitude"), similar
    )


def _suggestion(species: Species, probability: float, details: set[str], seed: bytes) -> dict:
    known = {
        "common_names": list(species.common_names),
        "taxonomy": taxonomy(species),
        "gbif_id": species.gbif_id,
    }
    return {
        "id": _sha(seed, species.name.encode()).hex()[:16],
        "name": species.name,
        "probability": probability,
        "details": {
            **{key: value for key, value in known.items() if key in details},
            "language": "en",
            "entity_id": _sha(b"entity:", species.name.encode()).hex()[:16],
        },
    }


def plant_id_reply(*, api_key: str, query: Query, body: bytes, not_a_plant: bool) -> Reply:
    """Answer `POST /plant-id/v3/identification` as Plant.id would."""
    if not api_key.strip():
        return 401, {"error": "Api-Key header is missing"}
    try:
        request = _plant_id_request(body)
    except BadRequest as error:
        return 400, {"error": str(error)}
    details = {d.strip() for d in _first(query, "details", "").split(",")} & set(PLANT_ID_DETAILS)
    seed = _sha(b"plant_id", *(_sha(image) for image in request.images))
    fraction = int.from_bytes(seed[:4], "big") / 2**32
    suggestions = []
    if not not_a_plant:
        count = 3 + seed[4] % 3
        ranked = rank(request.images, salt="plant_id", count=count, digits=4)
        suggestions = [_suggestion(s, p, details, seed) for s, p in ranked]
    is_plant = round(0.02 + 0.3 * fraction if not_a_plant else 0.9 + 0.099 * fraction, 4)
    created = time.time()
    return 201, {
        "access_token": secrets.token_hex(8),
        "model_version": "plant_id:3.6.0",
        "custom_id": None,
        "input": {
            "latitude": request.latitude,
            "longitude": request.longitude,
            "similar_images": request.similar_images,
            "images": [
                f"https://sandbox.invalid/plant-id/{_sha(i).hex()}.jpg" for i in request.images
            ],
            "datetime": datetime.fromtimestamp(created, UTC).isoformat(),
        },
        "result": {
            "is_plant": {"probability": is_plant, "threshold": 0.5, "binary": is_plant >= 0.5},
            "classification": {"suggestions": suggestions},
        },
        "status": "COMPLETED",
        "sla_compliant_client": True,
        "sla_compliant_system": True,
        "created": created,
        "completed": time.time(),
    }


@dataclass(frozen=True)
class _Upload:
    filename: str
    content: bytes


def _plantnet_form(content_type: str, body: bytes) -> tuple[list[_Upload], list[str]]:
    if not content_type.lower().startswith("multipart/form-data"):
        raise BadRequest("body must be multipart/form-data")
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(EmailMessage, policy=policy.HTTP).parsebytes(head + body)
    images: list[_Upload] = []
    organs: list[str] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if name == "images":
            images.append(_Upload(part.get_filename() or f"image-{len(images)}", content))
        elif name == "organs":
            organs.append(content.decode("utf-8", "replace").strip())
    if not images or not all(image.content for image in images):
        raise BadRequest('"images" is required and must not be empty')
    if organs and len(organs) != len(images):
        raise BadRequest(f'"organs" must have as many items as "images" ({len(images)})')
    for organ in organs:
        if organ not in ORGANS:
            raise BadRequest(f'"organs" must be one of [{", ".join(ORGANS)}], not "{organ}"')
    return images, organs or ["auto"] * len(images)


def _predicted_organ(upload: _Upload, organ: str) -> dict[str, Any]:
    digest = _sha(upload.content)
    guess = organ if organ != "auto" else ORGANS[1 + digest[0] % 5]
    score = round(0.5 + 0.49 * digest[1] / 255, 5)
    return {"image": digest.hex(), "filename": upload.filename, "organ": guess, "score": score}


def _taxon(name: str) -> dict[str, str]:
    return {
        "scientificNameWithoutAuthor": name,
        "scientificNameAuthorship": "",
        "scientificName": name,
    }


def _plantnet_result(species: Species, score: float, related_images: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "score": score,
        "species": {
            "scientificNameWithoutAuthor": species.name,
            "scientificNameAuthorship": species.author,
            "genus": _taxon(species.genus),
            "family": _taxon(species.family),
            "commonNames": list(species.common_names),
            "scientificName": species.scientific_name,
        },
        "gbif": {"id": str(species.gbif_id)},
    }
    if species.powo_id:
        result["powo"] = {"id": species.powo_id}
    if related_images:
        url = f"https://sandbox.invalid/plantnet/{species.name.replace(' ', '_')}.jpg"
        result["images"] = [{"organ": "leaf", "url": {"o": url, "m": url, "s": url}}]
    return result


def plantnet_reply(
    *,
    project: str,
    query: Query,
    content_type: str,
    body: bytes,
    not_a_plant: bool,
    spend: Callable[[], int],
) -> Reply:
    """Answer `POST /plantnet/v2/identify/{project}` as PlantNet would; `spend` counts the quota."""
    if not _first(query, "api-key", ""):
        return plantnet_error(HTTPStatus.UNAUTHORIZED, "Invalid API key")
    try:
        nb_results = _positive_int(query, "nb-results", "10")
        related, no_reject = _flag(query, "include-related-images"), _flag(query, "no-reject")
        uploads, organs = _plantnet_form(content_type, body)
    except BadRequest as error:
        return plantnet_error(HTTPStatus.BAD_REQUEST, str(error))
    if not_a_plant:
        return plantnet_error(HTTPStatus.NOT_FOUND, "Species not found")
    images = [upload.content for upload in uploads]
    ranked = rank(images, salt="plantnet", count=min(nb_results, len(CATALOGUE)), digits=5)
    return 200, {
        "query": {
            "project": project,
            "images": [_sha(image).hex() for image in images],
            "organs": organs,
            "includeRelatedImages": related,
            "noReject": no_reject,
        },
        "predictedOrgans": [_predicted_organ(u, o) for u, o in zip(uploads, organs, strict=True)],
        "language": _first(query, "lang", "en"),
        "preferedReferential": "k-world-flora",
        "bestMatch": ranked[0][0].scientific_name,
        "results": [_plantnet_result(species, score, related) for species, score in ranked],
        "version": "2025-01-17 (7.3)",
        "remainingIdentificationRequests": spend(),
    }
