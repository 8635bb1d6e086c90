import io
import struct
import zlib

import pytest
from PIL import Image

from bench.identification_photos import phone_photo, reencoded
from localkit.samples import sample_png
from services.errors import ValidationError
from services.identification.images import prepare

RED, BLUE = (220, 20, 20), (20, 20, 220)


def _prepared(image: bytes, *, max_side_px: int = 1280) -> Image.Image:
    return Image.open(io.BytesIO(prepare(image, max_side_px=max_side_px, jpeg_quality=90).jpeg))


def _encoded(picture: Image.Image, fmt: str = "JPEG", **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def _red_left_blue_right(width: int = 200, height: int = 100) -> Image.Image:
    picture = Image.new("RGB", (width, height), BLUE)
    picture.paste(RED, (0, 0, width // 2, height))
    return picture


def _close(pixel: object, colour: tuple[int, int, int]) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) < 40 for a, b in zip(pixel, colour, strict=True))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _jpeg_claiming(width: int, height: int, *, progressive: bool) -> bytes:
    """A small JPEG whose frame header announces `width` x `height` pixels."""
    image = _encoded(Image.new("RGB", (16, 16)), progressive=progressive)
    frame = image.index(b"\xff\xc2" if progressive else b"\xff\xc0") + 5  # after length, depth
    return image[:frame] + struct.pack(">HH", height, width) + image[frame + 4 :]


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header announces `width` x `height` gray pixels and whose data holds a few."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    data = _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
    return b"\x89PNG\r\n\x1a\n" + header + data + _chunk(b"IEND", b"")


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA")])
def test_exif_orientation_is_applied_to_the_pixels(fmt: str, mode: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: turn 90° clockwise to show
    sideways = _red_left_blue_right().convert(mode)
    picture = _prepared(_encoded(sideways, fmt, exif=exif.tobytes()))
    assert picture.size == (100, 200)
    assert _close(picture.getpixel((50, 20)), RED)  # the left half is now on top
    assert _close(picture.getpixel((50, 180)), BLUE)
    assert 0x0112 not in picture.getexif()


def test_a_big_photo_is_downscaled_to_the_longest_side() -> None:
    assert _prepared(phone_photo(1, width_px=3000, height_px=2000)).size == (1280, 853)


def test_a_small_photo_is_never_upscaled() -> None:
    assert _prepared(_encoded(_red_left_blue_right(300, 120))).size == (300, 120)


def test_no_metadata_leaves_the_host() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # GPSLatitude
    image = _encoded(_red_left_blue_right(), exif=exif.tobytes(), comment=b"at home")
    prepared = prepare(image, max_side_px=1280, jpeg_quality=90).jpeg
    assert b"PhoneMaker" not in prepared and b"at home" not in prepared
    info = Image.open(io.BytesIO(prepared)).info
    assert not {"exif", "comment", "icc_profile", "xmp"} & info.keys()


def test_a_png_with_transparency_is_flattened_on_white() -> None:
    picture = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    picture.paste((0, 128, 0, 255), (0, 0, 20, 40))
    prepared = _prepared(_encoded(picture, "PNG"))
    assert prepared.mode == "RGB" and _close(prepared.getpixel((35, 20)), (255, 255, 255))


def test_a_colour_named_transparent_is_flattened_on_white() -> None:
    picture = Image.new("RGB", (40, 40), (1, 2, 3))
    prepared = _prepared(_encoded(picture, "PNG", transparency=(1, 2, 3)))
    assert _close(prepared.getpixel((20, 20)), (255, 255, 255))


def test_a_jpeg_carrying_a_second_picture_is_prepared_from_its_first() -> None:
    # Phones save HDR gain maps and depth maps as a second picture: Pillow opens those as MPO.
    main = _red_left_blue_right(3000, 1500)
    image = _encoded(main, "MPO", save_all=True, append_images=[Image.new("RGB", (750, 375))])
    prepared = _prepared(image)
    assert prepared.size == (1280, 640) and _close(prepared.getpixel((100, 320)), RED)


@pytest.mark.parametrize(
    "image",
    [
        b"\xff\xd8\xff" + b"garbage" * 20,
        phone_photo(2, width_px=400, height_px=300)[:-200],
        sample_png(3)[:-20],
        sample_png(3)[:-1],
        _png_claiming(100, 100),  # a header and nothing after it
    ],
    ids=["jpeg-garbage", "jpeg-cut-short", "png-cut-short", "png-last-crc", "png-no-data"],
)
def test_a_corrupt_or_truncated_photo_is_refused_with_a_reason(image: bytes) -> None:
    with pytest.raises(ValidationError, match=r"does not decode.*truncated or corrupt"):
        prepare(image, max_side_px=1280, jpeg_quality=90)


@pytest.mark.parametrize("side", [9000, 20000], ids=["over-our-limit", "over-pillows-own"])
def test_a_decompression_bomb_is_refused_before_its_pixels_are_inflated(side: int) -> None:
    with pytest.raises(ValidationError, match="megapixel limit"):
        prepare(_png_claiming(side, side), max_side_px=1280, jpeg_quality=90)


@pytest.mark.parametrize(
    "image",
    [_png_claiming(5000, 4000), _jpeg_claiming(5000, 4000, progressive=True)],
    ids=["png", "progressive-jpeg"],
)
def test_a_picture_decoded_whole_has_a_lower_pixel_limit(image: bytes) -> None:
    with pytest.raises(ValidationError, match="5000x4000 pixels, over the 16-megapixel limit of a"):
        prepare(image, max_side_px=1280, jpeg_quality=90)


def test_a_baseline_jpeg_of_that_size_is_decoded_at_a_reduced_scale() -> None:
    assert _prepared(_encoded(_red_left_blue_right(5000, 4000))).size == (1280, 1024)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_picture_at_another_size_quality_or_format_has_the_same_hash(seed: int) -> None:
    photo = phone_photo(seed, width_px=2000, height_px=1500)
    copies = [
        photo,
        reencoded(photo, side_px=1600, quality=90, fmt="JPEG"),
        reencoded(photo, side_px=800, quality=60, fmt="JPEG"),
        reencoded(photo, side_px=1600, quality=0, fmt="PNG"),
    ]
    hashes = {prepare(c, max_side_px=1280, jpeg_quality=90).perceptual for c in copies}
    assert len(hashes) == 1


def test_different_pictures_have_different_hashes() -> None:
    samples = [sample_png(seed) for seed in range(300)]
    photos = [phone_photo(seed, width_px=320, height_px=240) for seed in range(40)]
    hashes = {prepare(p, max_side_px=1280, jpeg_quality=90).perceptual for p in samples + photos}
    assert len(hashes) == len(samples) + len(photos)
