"""Alembic environment: the URL comes from the caller (services.db.upgrade), never a file."""

from __future__ import annotations

from alembic import context

from services.db import Base, make_engine

config = context.config
engine = make_engine(config.attributes["url"])
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
