"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import services.delivery.deadletters
import services.identification.records
import services.moderation.models
import services.statistics.models  # noqa: F401  (all tables on Base.metadata)
from harness import postgres
from services import db


def _drift(url: str) -> list[object]:
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.Base.metadata)
    engine.dispose()
    return list(diff)


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    assert _drift(f"sqlite:///{tmp_path / 'm.db'}") == []


def test_postgresql_schema_matches_the_models() -> None:
    if not postgres.reachable():
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    with postgres.scratch_database() as url:
        assert _drift(url) == []
