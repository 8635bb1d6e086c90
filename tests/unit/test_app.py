"""What the Celery app puts on the wire besides the arguments themselves."""

from tasks.app import app


def test_events_carry_a_short_repr_of_large_arguments_not_the_photos() -> None:
    images = ["QUFB" * 100_000]
    message = app.amqp.as_task_v2(
        "id-1",
        "identification.identify",
        args=(),
        kwargs={"images": images},
        create_sent_event=True,
    )
    assert len(message.headers["kwargsrepr"]) <= 210
    assert len(message.sent_event["kwargs"]) <= 210


def test_every_public_task_is_registered_under_its_contract_name() -> None:
    app.loader.import_default_modules()
    assert {"identification.identify", "diagnostic.ping"} <= set(app.tasks)
