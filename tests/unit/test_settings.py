from pathlib import Path

import pytest

from services.settings import Settings, documented


def test_defaults_need_no_environment() -> None:
    settings = Settings.from_env({})
    assert settings.redis_url is None
    assert settings.sqlalchemy_url.endswith("var/greenhouse.db")
    assert settings.sandbox_mode


def test_values_are_parsed_to_their_types_and_blank_means_unset() -> None:
    settings = Settings.from_env(
        {"REDIS_URL": " ", "TASK_TIME_LIMIT_S": "12.5", "WORKER_CONCURRENCY": "3", "VAR_DIR": "/x"}
    )
    assert settings.redis_url is None
    assert settings.task_time_limit_s == 12.5
    assert settings.worker_concurrency == 3
    assert settings.var_dir == Path("/x")


def test_a_malformed_number_is_an_error_naming_the_value() -> None:
    with pytest.raises(ValueError, match="soon"):
        Settings.from_env({"RETRY_MAX_RETRIES": "soon"})


def test_every_setting_documents_its_variable() -> None:
    names = [name for name, _default, doc in documented() if doc]
    assert len(names) == len(set(names)) == len(list(documented()))
