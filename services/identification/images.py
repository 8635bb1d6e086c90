"""Image checks: the bytes must decode as the JPEG or PNG their magic number announces.

A valid magic number followed by garbage, or a photo cut short in transit, is refused here
instead of costing a call to each provider. Memory stays small whatever the photo: a JPEG is
decoded at an eighth of its size, a PNG is verified chunk by chunk (every CRC, through IEND)
without inflating its pixels.
"""

from __future__ import annotations

import io

from PIL import Image

MAX_PIXELS = 64_000_000  # beyond any phone camera, far below a decompression bomb
# Pillow's verify stops at IEND without reading its CRC: a PNG cut short there would pass.
PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def decode_problem(image: bytes) -> str | None:
    """Why `image` is not a whole JPEG or PNG, or None when it is one."""
    try:
        with Image.open(io.BytesIO(image), formats=("JPEG", "PNG")) as picture:
            width, height = picture.size
            if width * height > MAX_PIXELS:
                return f"{width}x{height} pixels, over the {MAX_PIXELS // 10**6}-megapixel limit"
            if picture.format == "JPEG":
                picture.draft("RGB", (max(1, width // 8), max(1, height // 8)))
                picture.load()
            else:
                picture.verify()
                if PNG_END not in image:
                    raise ValueError("no complete IEND chunk")
    except Image.DecompressionBombError:
        return f"over the {MAX_PIXELS // 10**6}-megapixel limit"
    except Exception:  # Pillow raises many kinds for bad bytes; all mean the same here
        return "does not decode as a JPEG or PNG image (truncated or corrupt)"
    return None
