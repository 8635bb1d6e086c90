import base64
import io

import pytest
from PIL import Image

from bench.identification_photos import phone_photo, reencoded
from localkit.samples import sample_jpeg, sample_png
from services.errors import ValidationError
from services.identification.payload import parse


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_valid_payload_becomes_a_request_with_default_organs() -> None:
    photos = [_b64(sample_png(1)), _b64(sample_jpeg(2))]
    request = parse({"images": photos, "latitude": 48.85, "longitude": 2.35})
    assert request.organs == ("auto", "auto")
    assert request.media_types == ("image/jpeg", "image/jpeg")  # every photo is prepared


def test_photos_are_sent_prepared_at_the_configured_size() -> None:
    photo = _b64(phone_photo(1, width_px=1600, height_px=1200))
    request = parse({"images": [photo]}, max_side_px=400, jpeg_quality=70)
    assert Image.open(io.BytesIO(request.images[0])).size == (400, 300)


def test_a_resent_copy_at_another_size_or_quality_has_the_same_fingerprint() -> None:
    photo = phone_photo(2, width_px=2000, height_px=1500)
    copy = reencoded(photo, side_px=800, quality=60, fmt="JPEG")
    first, again = (parse({"images": [_b64(image)]}) for image in (photo, copy))
    assert first.fingerprint == again.fingerprint


def test_a_data_url_prefix_is_accepted() -> None:
    assert parse({"images": ["data:image/png;base64," + _b64(sample_png(1))]}).images


def test_the_fingerprint_ignores_the_request_id_but_not_the_photos_or_place() -> None:
    base = {"images": [_b64(sample_png(1))]}
    same = parse(base | {"request_id": "a"}).fingerprint
    assert same == parse(base | {"request_id": "b"}).fingerprint
    assert same != parse({"images": [_b64(sample_png(2))]}).fingerprint
    assert same != parse(base | {"latitude": 10.0, "longitude": 1.0}).fingerprint


def test_errors_never_echo_the_images() -> None:
    huge = [_b64(sample_jpeg(i)) for i in range(6)]
    with pytest.raises(ValidationError) as raised:
        parse({"images": huge})
    assert huge[0] not in str(raised.value) and len(str(raised.value)) < 100


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="'colour' was unexpected"):
        parse({"images": [_b64(sample_png(1))], "colour": "green"})


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        (b"\xff\xd8\xff" + b"garbage" * 20, "does not decode"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "does not decode"),
        (sample_jpeg(3)[:-40], "truncated or corrupt"),
        (sample_png(3)[:-20], "truncated or corrupt"),
        (sample_png(3)[:-1], "truncated or corrupt"),  # only IEND's CRC missing
    ],
    ids=[
        "jpeg-magic-then-garbage",
        "png-magic-then-garbage",
        "jpeg-cut-short",
        "png-cut-short",
        "png-cut-in-its-last-crc",
    ],
)
def test_an_image_must_decode_not_just_start_with_a_magic_number(image: bytes, reason: str) -> None:
    with pytest.raises(ValidationError, match=rf"images\[0\]: .*{reason}"):
        parse({"images": [_b64(image)]})


def test_a_truncated_base64_photo_is_refused() -> None:
    text = _b64(sample_jpeg(4))
    with pytest.raises(ValidationError, match=r"images\[0\]"):
        parse({"images": [text[: len(text) // 2 // 4 * 4]]})  # whole base64 quads, half a photo


@pytest.mark.parametrize(
    "place", [{"latitude": 1.0}, {"longitude": 1.0}, {"latitude": 1.0, "longitude": None}]
)
def test_latitude_and_longitude_come_together(place: dict) -> None:
    with pytest.raises(ValidationError, match=r"longitude|latitude"):
        parse({"images": [_b64(sample_png(1))], **place})


def test_a_place_must_be_finite() -> None:
    with pytest.raises(ValidationError, match="latitude: must be a finite number"):
        parse({"images": [_b64(sample_png(1))], "latitude": float("nan"), "longitude": 1.0})


@pytest.mark.parametrize(
    "request_id", ["a\nb", "tab\there", "bell\x07", "line\u2028sep", "trailing newline\n"]
)
def test_a_request_id_must_be_printable(request_id: str) -> None:
    with pytest.raises(ValidationError, match="request_id: must be printable text"):
        parse({"images": [_b64(sample_png(1))], "request_id": request_id})
