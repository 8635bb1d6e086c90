import random

from services.delivery.retry import RetryPolicy

POLICY = RetryPolicy(base_delay_s=1.0, max_delay_s=30.0, max_retries=5)


def test_countdowns_are_jittered_within_the_exponential_ceiling() -> None:
    rng = random.Random(7)
    for retries in range(8):
        ceiling = min(30.0, 2.0**retries)
        samples = [POLICY.countdown(retries, rng=rng) for _ in range(200)]
        assert all(0.0 <= s <= ceiling for s in samples)
        # Full jitter: the spread covers most of [0, ceiling].
        assert max(samples) - min(samples) > 0.8 * ceiling


def test_a_minimum_delay_is_a_floor() -> None:
    rng = random.Random(1)
    assert all(POLICY.countdown(0, min_delay_s=12.0, rng=rng) >= 12.0 for _ in range(100))


def test_nothing_exceeds_the_ceiling_even_a_long_retry_after() -> None:
    assert POLICY.countdown(3, min_delay_s=3600.0) == 30.0
    assert POLICY.countdown(500) <= 30.0
