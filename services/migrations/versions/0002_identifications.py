"""Identification records.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("idempotency_key", sa.String(160), nullable=False, unique=True),
        sa.Column("request_id", sa.String(128)),
        sa.Column("image_sha256", sa.String(64), nullable=False, index=True),
        sa.Column("top_species", sa.String(200), index=True),
        sa.Column("is_plant", sa.Boolean, nullable=False),
        sa.Column("plant_id_status", sa.String(16), nullable=False),
        sa.Column("plantnet_status", sa.String(16), nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("identifications")
