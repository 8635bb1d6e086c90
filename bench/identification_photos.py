"""Photos prepared once: upload bytes per identification before and after, and the CPU it costs."""

from __future__ import annotations

import base64
import io
import random
import statistics
import time

from PIL import Image, ImageDraw, ImageFilter

from bench.common import Row
from services.identification.images import prepare
from services.identification.payload import JPEG_QUALITY, MAX_SIDE_PX, parse

ROUNDS = 9
PHONE = (4032, 3024)  # a 12-megapixel phone camera
VARIANTS = ((1600, 90, "JPEG"), (800, 60, "JPEG"), (1600, 0, "PNG"))
SEEDS = range(20)


def phone_photo(seed: int, *, width_px: int = PHONE[0], height_px: int = PHONE[1]) -> bytes:
    """A JPEG at quality 92 that compresses like a photo: gradients, blurred shapes, grain."""
    rng = random.Random(seed)
    small = (max(1, width_px // 8), max(1, height_px // 8))  # drawn small, then scaled: cheap
    top, bottom = (tuple(rng.randrange(20, 220) for _ in range(3)) for _ in range(2))
    mask = Image.linear_gradient("L").resize(small)
    scene = Image.composite(Image.new("RGB", small, bottom), Image.new("RGB", small, top), mask)
    draw = ImageDraw.Draw(scene)
    for _ in range(rng.randrange(12, 30)):  # leaves
        x, y = rng.randrange(small[0]), rng.randrange(small[1])
        rx, ry = rng.randrange(4, small[0] // 4), rng.randrange(4, small[1] // 4)
        colour = (rng.randrange(0, 120), rng.randrange(60, 230), rng.randrange(0, 100))
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(1.5)).resize(
        (width_px, height_px), Image.Resampling.BICUBIC
    )
    texture = _noise(rng, (width_px // 3, height_px // 3), 40).resize(scene.size)
    grain = _noise(rng, scene.size, 20)
    detail = Image.merge("RGB", (texture, grain, texture))
    out = io.BytesIO()
    Image.blend(scene, detail, 0.15).save(out, format="JPEG", quality=92)
    return out.getvalue()


def _noise(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Grey noise around 128 with this standard deviation, from the seeded generator (Pillow's
    effect_noise draws from C's rand(): another picture whenever anything else called it)."""
    uniform = Image.frombytes("L", size, rng.randbytes(size[0] * size[1]))  # sd 73.9
    return uniform.point(lambda v: min(255, max(0, round(128 + (v - 128) * sigma / 73.9))))


def reencoded(photo: bytes, *, side_px: int, quality: int, fmt: str) -> bytes:
    """The same picture at another size, quality or format, as a messenger would resend it."""
    picture = Image.open(io.BytesIO(photo)).convert("RGB")
    picture.thumbnail((side_px, side_px), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format=fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return out.getvalue()


def with_second_picture(photo: bytes) -> bytes:
    """The photo as an MPO, as phones save one with an HDR gain map or a depth map after it."""
    picture = Image.open(io.BytesIO(photo))
    second = picture.resize((picture.width // 4, picture.height // 4)).convert("L").convert("RGB")
    out = io.BytesIO()
    picture.save(out, format="MPO", save_all=True, append_images=[second], quality=92)
    return out.getvalue()


def run() -> list[Row]:
    """Upload bytes before and after preparation, CPU per photo, re-encoded copies that hit."""
    photo = phone_photo(1)
    png = reencoded(photo, side_px=1024, quality=0, fmt="PNG")
    mpo = with_second_picture(photo)
    prepared = prepare(photo, max_side_px=MAX_SIDE_PX, jpeg_quality=JPEG_QUALITY).jpeg
    setting = f"{MAX_SIDE_PX} px, q{JPEG_QUALITY}"
    hits, tries = _hits()
    return [
        Row("upload per photo before: 4032x3024 JPEG q92 (KB)", f"{len(photo) / 1024:.0f}"),
        Row(f"upload per photo after: {setting} (KB)", f"{len(prepared) / 1024:.0f}"),
        Row("upload ratio after / before", f"{len(prepared) / len(photo):.3f}"),
        Row("upload per photo: 1024 px PNG before -> after (KB)", _before_after_kb(png)),
        Row("CPU to prepare a 4032x3024 JPEG (ms, median)", f"{_cpu_ms(photo):.1f}"),
        Row("CPU to prepare a 4032x3024 MPO (JPEG + gain map) (ms, median)", f"{_cpu_ms(mpo):.1f}"),
        Row("CPU to prepare a 1024 px PNG (ms, median)", f"{_cpu_ms(png):.1f}"),
        Row(
            f"re-encoded copies with the original's fingerprint ({len(VARIANTS)} per photo)",
            f"{hits}/{tries}",
        ),
    ]


def _before_after_kb(image: bytes) -> str:
    after = prepare(image, max_side_px=MAX_SIDE_PX, jpeg_quality=JPEG_QUALITY).jpeg
    return f"{len(image) / 1024:.0f} -> {len(after) / 1024:.0f}"


def _cpu_ms(image: bytes) -> float:
    times = []
    for _ in range(ROUNDS):
        start = time.process_time()
        prepare(image, max_side_px=MAX_SIDE_PX, jpeg_quality=JPEG_QUALITY)
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def _hits() -> tuple[int, int]:
    hits = tries = 0
    for seed in SEEDS:
        photo = phone_photo(seed, width_px=2000, height_px=1500)  # smaller: a quick benchmark
        original = _fingerprint(photo)
        for side_px, quality, fmt in VARIANTS:
            copy = reencoded(photo, side_px=side_px, quality=quality, fmt=fmt)
            hits += _fingerprint(copy) == original
            tries += 1
    return hits, tries


def _fingerprint(image: bytes) -> str:
    return parse({"images": [base64.b64encode(image).decode()]}).fingerprint
