"""Hypothesis strategies for identification.identify calls that are wrong in one named way."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from localkit.samples import sample_jpeg, sample_png

PHOTO = base64.b64encode(sample_png(1)).decode()
JPEG = sample_jpeg(2)
PNG = sample_png(3)
FIELDS = ("images", "organs", "latitude", "longitude", "request_id", "version", "payload")


@dataclass(frozen=True)
class Call:
    """The arguments of one malformed task call, and what is wrong with them."""

    kwargs: dict[str, Any]
    args: list[Any] = field(default_factory=list)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_not_a_list = _json.filter(lambda value: not isinstance(value, list))
_non_image_bytes = st.binary(min_size=1, max_size=200).filter(
    lambda data: not data.startswith((b"\xff\xd8\xff", b"\x89PNG"))
)
_broken_image = st.one_of(
    st.binary(max_size=200).map(lambda tail: b"\xff\xd8\xff" + tail),  # JPEG magic, then garbage
    st.binary(max_size=200).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail),  # PNG magic, garbage
    st.integers(4, len(JPEG) - 1).map(lambda cut: JPEG[:cut]),  # a JPEG cut short
    st.integers(8, len(PNG) - 1).map(lambda cut: PNG[:cut]),  # a PNG cut short
)
_bad_image_text = st.one_of(
    _broken_image.map(_b64),
    _non_image_bytes.map(_b64),
    st.text(min_size=1, max_size=40).filter(lambda t: t.strip("=") and not t.isalnum()),
    st.integers(1, len(_b64(JPEG)) - 1).map(lambda cut: _b64(JPEG)[:cut]),  # base64 cut short
    _broken_image.map(lambda data: "data:image/jpeg;base64," + _b64(data)),
)
_bad_images = st.one_of(
    _not_a_list,
    st.just([]),
    st.lists(st.just(PHOTO), min_size=6, max_size=8),
    st.lists(_json.filter(lambda v: not isinstance(v, str)), min_size=1, max_size=3),
    st.lists(_bad_image_text, min_size=1, max_size=3).map(lambda bad: [PHOTO, *bad]),
)
_bad_organs = st.one_of(
    _not_a_list,
    st.lists(
        st.text(max_size=10).filter(lambda t: t not in ("auto", "leaf", "flower", "fruit", "bark")),
        min_size=1,
        max_size=1,
    ),
    st.lists(st.sampled_from(["leaf", "flower"]), min_size=2, max_size=4),  # more than images
)
_bad_degrees = st.one_of(
    st.floats(allow_nan=False).filter(lambda x: abs(x) > 180),
    st.just(float("nan")),
    st.text(max_size=10),
    st.booleans(),
    st.lists(st.floats(), max_size=2),
)
_bad_place = st.one_of(
    _bad_degrees.map(lambda lat: {"latitude": lat, "longitude": 1.0}),
    _bad_degrees.map(lambda lon: {"latitude": 1.0, "longitude": lon}),
    st.floats(-90, 90).map(lambda lat: {"latitude": lat}),  # one without the other
    st.floats(-180, 180).map(lambda lon: {"latitude": None, "longitude": lon}),
)
_bad_request_id = st.one_of(
    st.just(""),
    st.text(min_size=129, max_size=200),
    st.text(max_size=20).map(lambda t: t + "\n"),
    st.sampled_from(["\x00", "\x1b[31m", "a\u2028b", "tab\there"]),
    st.integers(),
    st.lists(st.text(max_size=3), max_size=2),
)


def calls() -> st.SearchStrategy[Call]:
    """Every kind of wrong call: one field broken (the others valid), unknown fields, wrong
    versions, a payload that is not an object, positional arguments."""
    valid = {"images": [PHOTO]}
    return st.one_of(
        _bad_images.map(lambda images: Call({"images": images})),
        _bad_organs.map(lambda organs: Call({**valid, "organs": organs})),
        _bad_place.map(lambda place: Call({**valid, **place})),
        _bad_request_id.map(lambda rid: Call({**valid, "request_id": rid})),
        _json.filter(lambda v: v != 1).map(lambda version: Call({**valid, "version": version})),
        st.text(min_size=1, max_size=12)
        .filter(
            lambda k: (
                k not in ("images", "organs", "latitude", "longitude", "request_id", "version")
            )
        )
        .map(lambda key: Call({**valid, key: 1})),
        st.just(Call({})),  # nothing at all
        st.lists(_json, min_size=1, max_size=3).map(lambda args: Call({}, args)),
        st.lists(_json, min_size=1, max_size=2).map(lambda args: Call(valid, args)),
    )
