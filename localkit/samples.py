"""Tiny deterministic images for demos and tests: distinct bytes per seed."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from PIL import Image

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _noise(seed: int, size: int) -> bytes:
    blocks = (size + 31) // 32
    stream = b"".join(
        hashlib.sha256(f"greenhouse-sample:{seed}:{block}".encode()).digest()
        for block in range(blocks)
    )
    return stream[:size]


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def sample_png(seed: int, *, size_px: int = 16) -> bytes:
    """A valid `size_px` square RGB PNG, mostly green, whose pixels depend on `seed`."""
    if size_px < 1:
        raise ValueError(f"size_px must be at least 1, got {size_px}")
    noise = _noise(seed, size_px * size_px * 3)
    rows = bytearray()
    for y in range(size_px):
        rows.append(0)  # filter type: none
        for x in range(size_px):
            r, g, b = noise[(y * size_px + x) * 3 : (y * size_px + x) * 3 + 3]
            rows += bytes((r // 4, 96 + g // 2, b // 4))  # leafy greens, still seed-dependent
    header = struct.pack(">IIBBBBB", size_px, size_px, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        _PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows)))
        + _chunk(b"IEND", b"")
    )


def sample_jpeg(seed: int, *, size_px: int = 16) -> bytes:
    """A valid `size_px` square JPEG whose pixels depend on `seed` (the PNG's, re-encoded)."""
    picture = Image.open(io.BytesIO(sample_png(seed, size_px=size_px)))
    out = io.BytesIO()
    picture.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()
