from services.delivery import priority


def test_redis_inverts_and_rabbitmq_keeps_the_callers_scale() -> None:
    assert priority.to_broker(9, redis=True) == 0
    assert priority.to_broker(0, redis=True) == 9
    assert priority.to_broker(9, redis=False) == 9


def test_missing_priority_is_the_default_and_out_of_range_is_clamped() -> None:
    assert priority.to_broker(None, redis=False) == priority.DEFAULT
    assert priority.to_broker(42, redis=True) == 0
    assert priority.to_broker(-3, redis=False) == 0


def test_from_broker_undoes_to_broker() -> None:
    for value in range(10):
        for redis in (True, False):
            assert (
                priority.from_broker(priority.to_broker(value, redis=redis), redis=redis) == value
            )


def test_broker_kind_is_read_from_the_url() -> None:
    assert priority.is_redis_url("redis://h:6379/0")
    assert priority.is_redis_url("rediss://h/0")
    assert not priority.is_redis_url("amqp://guest:guest@h//")
