"""A service's live configuration: declared defaults, checked overrides, `key=value` parsing."""

from __future__ import annotations

import pytest

from services.background.config import apply, defaults, parse_assignments
from services.errors import ValidationError

DECLARED = {"interval_s": 20, "max_failures": 4, "options": {"batch_size": 500, "lead_s": 5.0}}


def test_declared_defaults_fill_the_policy_and_options() -> None:
    config = defaults("warmer", DECLARED)
    assert config.enabled and config.policy.interval_s == 20.0
    assert config.policy.max_failures == 4 and config.policy.retry_delay_s == 30.0
    assert config.options == {"batch_size": 500, "lead_s": 5.0}


def test_overrides_are_typed_like_the_defaults() -> None:
    config = apply(
        defaults("warmer", DECLARED),
        parse_assignments(["interval_s=5", "enabled=false", "batch_size=100", "lead_s=2"]),
    )
    assert (config.enabled, config.policy.interval_s) == (False, 5.0)
    assert config.options == {"batch_size": 100, "lead_s": 2.0}


@pytest.mark.parametrize(
    ("assignment", "reason"),
    [
        ("colour=blue", "warmer has no setting 'colour'; it has: enabled, interval_s"),
        ("batch_size=1.5", "batch_size must be like 500, got 1.5"),
        ("interval_s=soon", "interval_s must be like 20.0, got 'soon'"),
        ("enabled=maybe", "enabled must be like True, got 'maybe'"),
        ("interval_s=0", "interval_s must be > 0"),
        ("max_failures=0", "max_failures ≥ 1"),
    ],
)
def test_a_bad_override_is_refused_with_the_reason(assignment: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        apply(defaults("warmer", DECLARED), parse_assignments([assignment]))


def test_an_assignment_without_an_equals_sign_is_refused() -> None:
    with pytest.raises(ValidationError, match="expected key=value, got 'interval_s'"):
        parse_assignments(["interval_s"])
