import base64

import pytest

from services.errors import ValidationError
from services.identification.payload import parse
from services.identification.samples import sample_jpeg, sample_png


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_valid_payload_becomes_a_request_with_default_organs() -> None:
    request = parse({"images": [_b64(sample_png(1)), _b64(sample_jpeg(2))], "latitude": 48.85})
    assert request.organs == ("auto", "auto")
    assert request.media_types == ("image/png", "image/jpeg")


def test_a_data_url_prefix_is_accepted() -> None:
    assert parse({"images": ["data:image/png;base64," + _b64(sample_png(1))]}).images


def test_the_fingerprint_ignores_the_request_id_but_not_the_photos_or_place() -> None:
    base = {"images": [_b64(sample_png(1))]}
    same = parse(base | {"request_id": "a"}).fingerprint
    assert same == parse(base | {"request_id": "b"}).fingerprint
    assert same != parse({"images": [_b64(sample_png(2))]}).fingerprint
    assert same != parse(base | {"latitude": 10.0}).fingerprint


def test_errors_never_echo_the_images() -> None:
    huge = [_b64(sample_jpeg(i)) for i in range(6)]
    with pytest.raises(ValidationError) as raised:
        parse({"images": huge})
    assert huge[0] not in str(raised.value) and len(str(raised.value)) < 100


def test_unknown_fields_are_refused_by_name() -> None:
    with pytest.raises(ValidationError, match="'colour' was unexpected"):
        parse({"images": [_b64(sample_png(1))], "colour": "green"})
