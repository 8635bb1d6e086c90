"""The `identification.identify` payload: its JSON Schema, and validation into a request."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import jsonschema

from services.errors import ValidationError
from services.identification.images import Prepared, prepare
from services.schema import check

MAX_IMAGES = 5
MAX_IMAGE_BYTES = 10 * 1024 * 1024  # five of them make the 50 MB ceiling on a whole request
ORGANS = ("auto", "leaf", "flower", "fruit", "bark")
MAGIC = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}
# Pl@ntNet resizes what it gets to 1280 px on the long side (never upscaling) and recommends
# JPEG quality 90 (my.plantnet.org/doc/faq); Plant.id's own client sends at most 1500 px.
MAX_SIDE_PX = 1280
JPEG_QUALITY = 90
PLACE_TOGETHER = "latitude, longitude: give both or neither"
_MAX_BASE64_CHARS = (MAX_IMAGE_BYTES + 2) // 3 * 4 + 64  # the data-URL prefix fits too

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://greenhouse.invalid/schemas/identification.identify.json",
    "title": "identification.identify keyword arguments",
    "type": "object",
    "additionalProperties": False,
    "required": ["images"],
    "properties": {
        "version": {"const": 1, "description": "Payload version; 1 when omitted."},
        "images": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_IMAGES,
            "description": "Base64 JPEG or PNG images (a data: URL prefix is allowed), "
            "each at most 10 MB decoded, 50 MB in all.",
            "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": _MAX_BASE64_CHARS,
                "x-too-long": "over the 10 MB limit",
            },
        },
        "organs": {
            "type": "array",
            "description": "One organ per image.",
            "items": {"enum": list(ORGANS)},
        },
        "latitude": {
            "type": ["number", "null"],
            "minimum": -90,
            "maximum": 90,
            "description": "Where the photos were taken; given with longitude or not at all.",
        },
        "longitude": {"type": ["number", "null"], "minimum": -180, "maximum": 180},
        "request_id": {
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": 128,
            # (?![\s\S]) and not $: in Python's re, $ also matches before a final newline.
            "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]+(?![\\s\\S])",
            "x-pattern": "must be printable text (no control characters)",
            "description": "Idempotency key: a redelivery with the same id is recorded once.",
        },
    },
    "dependentRequired": {"latitude": ["longitude"], "longitude": ["latitude"]},
    "x-dependent": PLACE_TOGETHER,
}
_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


@dataclass(frozen=True, kw_only=True)
class IdentifyRequest:
    """A validated identification request; `fingerprint` keys the cache and the lock."""

    images: tuple[bytes, ...]  # prepared: upright JPEGs, at most MAX_SIDE_PX, no metadata
    organs: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    request_id: str | None
    fingerprint: str  # the same pictures at any size or quality, organs and place
    thumbnails: tuple[bytes, ...] = ()  # to tell pictures sharing a fingerprint apart
    exact_fingerprint: str = ""  # these very photos: the key when the fingerprint is shared

    @property
    def media_types(self) -> tuple[str, ...]:
        return tuple(media_type(image) or "application/octet-stream" for image in self.images)


def media_type(image: bytes) -> str | None:
    """image/jpeg or image/png from the magic bytes; None for anything else."""
    return next((kind for magic, kind in MAGIC.items() if image.startswith(magic)), None)


@dataclass(frozen=True, kw_only=True)
class Submission:
    """A request checked for everything but its pictures' pixels (those are decoded by
    `prepare`); `upload_key` names these very bytes, organs and place."""

    images: tuple[bytes, ...]  # as uploaded
    organs: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    request_id: str | None
    upload_key: str


def parse(
    payload: Any, *, max_side_px: int = MAX_SIDE_PX, jpeg_quality: int = JPEG_QUALITY
) -> IdentifyRequest:
    """Validate a task's keyword arguments and prepare its photos; ValidationError names the
    first problem."""
    return prepare_all(submit(payload), max_side_px=max_side_px, jpeg_quality=jpeg_quality)


def submit(payload: Any) -> Submission:
    """The payload checked, its photos decoded from base64 but not yet from JPEG or PNG."""
    check(_VALIDATOR, payload)
    images = tuple(_decode(index, text) for index, text in enumerate(payload["images"]))
    organs = tuple(payload.get("organs") or ["auto"] * len(images))
    if len(organs) != len(images):
        raise ValidationError(f"organs: {len(organs)} given for {len(images)} images")
    latitude, longitude = _place(payload.get("latitude"), payload.get("longitude"))
    return Submission(
        images=images,
        organs=organs,
        latitude=latitude,
        longitude=longitude,
        request_id=payload.get("request_id"),
        upload_key=_fingerprint(list(images), organs, latitude, longitude),
    )


def prepare_all(submission: Submission, *, max_side_px: int, jpeg_quality: int) -> IdentifyRequest:
    """Decode, verify and prepare every photo (images.py); ValidationError names the first bad
    one."""
    photos = tuple(
        _prepared(index, image, max_side_px=max_side_px, jpeg_quality=jpeg_quality)
        for index, image in enumerate(submission.images)
    )
    organs, latitude, longitude = submission.organs, submission.latitude, submission.longitude
    return IdentifyRequest(
        images=tuple(photo.jpeg for photo in photos),
        organs=organs,
        latitude=latitude,
        longitude=longitude,
        request_id=submission.request_id,
        fingerprint=_fingerprint([p.perceptual for p in photos], organs, latitude, longitude),
        thumbnails=tuple(photo.thumbnail for photo in photos),
        exact_fingerprint=_fingerprint([p.jpeg for p in photos], organs, latitude, longitude),
    )


def _place(latitude: float | None, longitude: float | None) -> tuple[float | None, float | None]:
    if (latitude is None) != (longitude is None):
        raise ValidationError(PLACE_TOGETHER)
    for name, value in (("latitude", latitude), ("longitude", longitude)):
        if value is not None and not math.isfinite(value):  # JSON decoders accept NaN
            raise ValidationError(f"{name}: must be a finite number")
    return latitude, longitude


def _decode(index: int, text: str) -> bytes:
    if text.startswith("data:"):
        text = text.partition(",")[2]
    try:
        image = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"images[{index}]: not valid base64") from None
    if len(image) > MAX_IMAGE_BYTES:
        raise ValidationError(f"images[{index}]: {_mb(len(image))} decoded, over the 10 MB limit")
    if media_type(image) is None:
        raise ValidationError(f"images[{index}]: not a JPEG or PNG image")
    return image


def _prepared(index: int, image: bytes, *, max_side_px: int, jpeg_quality: int) -> Prepared:
    try:
        return prepare(image, max_side_px=max_side_px, jpeg_quality=jpeg_quality)
    except ValidationError as problem:
        raise ValidationError(f"images[{index}]: {problem}") from None


def _fingerprint(
    pictures: list[bytes], organs: tuple[str, ...], lat: float | None, lon: float | None
) -> str:
    # The same pictures, organs and place (to about 1 km) are the same question.
    normalised = {
        "images": [hashlib.sha256(picture).hexdigest() for picture in pictures],
        "organs": list(organs),
        "latitude": None if lat is None else round(lat, 2),
        "longitude": None if lon is None else round(lon, 2),
    }
    return hashlib.sha256(json.dumps(normalised, sort_keys=True).encode()).hexdigest()


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"
