"""Dead letters keep their cause (upstream, transient, permanent) and the upstreams it waits for,
the letter a failed replay replayed, and when dead-letter recovery took the letter.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(sa.Column("cause", sa.Text()))
        batch.add_column(sa.Column("upstreams_json", sa.Text()))
        batch.add_column(sa.Column("replay_of", sa.Integer()))
        batch.add_column(sa.Column("auto_replayed_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_dead_letters_cause", ["cause"])


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_index("ix_dead_letters_cause")
        batch.drop_column("auto_replayed_at")
        batch.drop_column("replay_of")
        batch.drop_column("upstreams_json")
        batch.drop_column("cause")
