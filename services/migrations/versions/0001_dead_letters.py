"""Dead letters: every final task failure, replayable.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.String(64), nullable=False, index=True),
        sa.Column("task_name", sa.String(200), nullable=False, index=True),
        sa.Column("args_json", sa.Text, nullable=False),
        sa.Column("kwargs_json", sa.Text, nullable=False),
        sa.Column("queue", sa.String(100)),
        sa.Column("priority", sa.Integer),
        sa.Column("error_type", sa.String(200), nullable=False),
        sa.Column("error_message", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("replayed_at", sa.DateTime(timezone=True)),
        sa.Column("replay_task_id", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_table("dead_letters")
