"""Photos prepared once: verified, upright, at most `max_side_px`, re-encoded as a bare JPEG.

A valid magic number followed by garbage, or a photo cut short in transit, is refused here
instead of costing a call to each provider. A big JPEG is decoded at a reduced scale (libjpeg's
DCT scaling, far cheaper than decoding every pixel and resizing); a PNG is verified chunk by
chunk (every CRC, through IEND) before its pixels are inflated, and, decoded whole like a
progressive JPEG, has a lower pixel limit. What leaves the host is pixels only: no EXIF (GPS,
camera, time), no comment, no ICC profile.
"""

from __future__ import annotations

import io
import os
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, JpegImagePlugin

from services.errors import ValidationError

MAX_PIXELS = 64_000_000  # beyond any phone camera, far below a decompression bomb
# A PNG or a progressive JPEG is decoded whole (a progressive one holds every DCT coefficient
# whatever the scale): measured at most ~150 MB at 16 MP (a 4608x3456 camera, a 5K screenshot;
# Pillow keeps RGB in 4 bytes a pixel, RGBA flattens into a second copy). A baseline JPEG is
# decoded at a reduced scale: ~25 MB for a 12-megapixel one.
MAX_WHOLE_PIXELS = 16_000_000
# Pillow's verify stops at IEND without reading its CRC: a PNG cut short there would pass.
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"
CORRUPT = "does not decode as a JPEG or PNG image (truncated or corrupt)"
TOO_BIG = f"over the {MAX_PIXELS // 10**6}-megapixel limit"
TOO_BIG_WHOLE = f"over the {MAX_WHOLE_PIXELS // 10**6}-megapixel limit of a PNG or progressive JPEG"
# Preparing is CPU work: more photos at once than CPUs gains nothing and multiplies the memory
# held, so a threads pool of 32 decodes a few at a time and the others wait with their bytes only.
_affinity = getattr(os, "sched_getaffinity", None)  # Linux: the CPUs this process may run on
PREPARING_AT_ONCE = max(2, len(_affinity(0)) if _affinity else os.cpu_count() or 2)
_preparing = threading.BoundedSemaphore(PREPARING_AT_ONCE)
# EXIF orientation → the turn that shows the picture upright (ImageOps.exif_transpose's table),
# applied to the reduced picture: cheaper than turning the decoded one.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
WHITE = (255, 255, 255)
# The perceptual hash: the photo's luma averaged over an 8x8 grid, one bit per cell (brighter
# than the mean or not). An exact-match key must survive a re-encode, and every bit is a coin
# that noise can flip when a cell sits near the threshold: measured on 40 smooth synthetic
# photos in six sizes and qualities, 64 bits kept 34 of 40 stable where a 256-bit dHash kept
# none. Bits of different photos still differ by 7 or more, and the key adds organs and place.
HASH_GRID = 8
# A coarse key can be shared by two different pictures, so a cached answer is served only when
# its pictures look the same: 16x16 luma thumbnails differing by at most this much per pixel, on
# average (0-255). Re-encoded copies measured 0.4 at most; different photos 15 or more.
THUMBNAIL_SIDE = 16
SAME_PICTURE_MAX_DIFF = 4.0


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """A photo as the providers get it, and the upright picture its fingerprint is taken from."""

    jpeg: bytes
    perceptual: bytes  # HASH_GRID² bits: the same for the same picture at another size or quality
    thumbnail: bytes  # THUMBNAIL_SIDE² luma bytes: tells pictures sharing a hash apart


def prepare(image: bytes, *, max_side_px: int, jpeg_quality: int) -> Prepared:
    """Decode, verify, orient, flatten, downscale and re-encode; ValidationError says why not."""
    with _preparing:
        rgb = _reduced(_open(image), max_side_px=max_side_px)
        out = io.BytesIO()
        # No exif, icc_profile or comment passed: Pillow writes none of them.
        rgb.save(out, format="JPEG", quality=jpeg_quality)
        thumbnail = rgb.convert("L").resize((THUMBNAIL_SIDE,) * 2, Image.Resampling.BOX)
        return Prepared(
            jpeg=out.getvalue(), perceptual=perceptual_hash(rgb), thumbnail=thumbnail.tobytes()
        )


def same_pictures(ours: Sequence[bytes], theirs: Sequence[bytes]) -> bool:
    """Whether two requests' thumbnails show the same pictures (at any size or quality)."""
    if len(ours) != len(theirs):
        return False
    return all(
        len(a) == len(b) and sum(map(_gap, a, b)) <= SAME_PICTURE_MAX_DIFF * len(a)
        for a, b in zip(ours, theirs, strict=True)
    )


def _gap(a: int, b: int) -> int:
    return abs(a - b)


def perceptual_hash(picture: Image.Image) -> bytes:
    """One bit per cell of an 8x8 grid: is its mean luma above the whole picture's?"""
    grid = picture.convert("L").convert("F").resize((HASH_GRID, HASH_GRID), Image.Resampling.BOX)
    cells = array("f", grid.tobytes())
    mean = sum(cells) / len(cells)
    bits = sum(1 << index for index, cell in enumerate(cells) if cell > mean)
    return bits.to_bytes(HASH_GRID * HASH_GRID // 8, "big")


def _open(image: bytes) -> Image.Image:
    try:
        picture = Image.open(io.BytesIO(image), formats=("JPEG", "PNG"))
        width, height = picture.size
        if width * height > MAX_PIXELS:
            raise ValidationError(f"{width}x{height} pixels, {TOO_BIG}")
        if width * height > MAX_WHOLE_PIXELS and not _scaled_decode(picture):
            raise ValidationError(f"{width}x{height} pixels, {TOO_BIG_WHOLE}")
        if picture.format == "PNG":
            picture.verify()  # every chunk's CRC; leaves `picture` unusable, so open it again
            if not image.endswith(PNG_END):
                raise ValueError("no complete IEND chunk")
            picture = Image.open(io.BytesIO(image), formats=("PNG",))
    except ValidationError:
        raise
    except Image.DecompressionBombError:
        raise ValidationError(TOO_BIG) from None
    except Exception:
        raise ValidationError(CORRUPT) from None
    return picture


def _scaled_decode(picture: Image.Image) -> bool:
    # MPO too: a phone's JPEG with a second picture (an HDR gain map, a depth map) opens as one.
    jpeg = isinstance(picture, JpegImagePlugin.JpegImageFile)
    return jpeg and not picture.info.get("progressive")


def _reduced(picture: Image.Image, *, max_side_px: int) -> Image.Image:
    try:
        return _prepared_pixels(picture, max_side_px=max_side_px)
    except Image.DecompressionBombError:
        raise ValidationError(TOO_BIG) from None
    except Exception:  # Pillow raises many kinds for bad bytes; all mean the same here
        raise ValidationError(CORRUPT) from None


def _prepared_pixels(picture: Image.Image, *, max_side_px: int) -> Image.Image:
    width, height = picture.size
    scale = min(1.0, max_side_px / max(width, height))  # never upscaled
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    if _scaled_decode(picture):
        picture.draft("RGB", size)  # decodes at 1/2, 1/4 or 1/8 scale, never below `size`
    picture.load()
    turn = _UPRIGHT.get(_orientation(picture))
    # A gray picture stays one byte a pixel until it is reduced.
    flat = _flattened(_eight_bit(picture))
    if flat.size != size:
        flat = flat.resize(size, Image.Resampling.BOX)  # area averaging: OpenCV's INTER_AREA
    rgb = flat.convert("RGB") if flat.mode != "RGB" else flat
    upright = rgb.transpose(turn) if turn is not None else rgb
    upright.info.clear()  # Pillow 11+ would carry a JPEG comment or XMP over to the new file
    return upright


def _orientation(picture: Image.Image) -> int:
    try:
        return int(picture.getexif().get(0x0112, 1))  # 0x0112: Orientation
    except Exception:  # an unreadable EXIF block: keep the pixels as stored
        return 1


def _eight_bit(picture: Image.Image) -> Image.Image:
    """L, LA, RGB or RGBA: 16-bit gray scaled to 8 bits; palettes and colour keys expanded."""
    if picture.mode.startswith(("I", "F")):  # a 16-bit gray PNG (a colour key on it is ignored)
        return picture.point(lambda value: value / 256).convert("L")
    # An RGB or gray PNG may name one colour transparent (tRNS): that too becomes alpha.
    alpha = "A" in picture.getbands() or "transparency" in picture.info
    if picture.mode in (("LA", "RGBA") if alpha else ("L", "RGB")):
        return picture
    return picture.convert("RGBA" if alpha else "RGB")


def _flattened(picture: Image.Image) -> Image.Image:
    """Transparency laid on white, in L or RGB."""
    if picture.mode in ("L", "RGB"):
        return picture
    flat = Image.new(picture.mode[:-1], picture.size, WHITE if picture.mode == "RGBA" else 255)
    flat.paste(picture, mask=picture)  # the mask is its alpha band
    return flat
