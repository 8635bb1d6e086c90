"""Dead letters: one per task id (a redelivered failure is recorded once); caller-chosen
names and ids of any length.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keep the first letter of any task recorded twice before the key existed.
    op.execute(
        "DELETE FROM dead_letters WHERE id NOT IN "
        "(SELECT MIN(id) FROM dead_letters GROUP BY task_id)"
    )
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_index("ix_dead_letters_task_id")
        batch.alter_column("task_id", type_=sa.Text(), existing_type=sa.String(64))
        batch.alter_column("task_name", type_=sa.Text(), existing_type=sa.String(200))
        batch.alter_column("queue", type_=sa.Text(), existing_type=sa.String(100))
        batch.alter_column("error_type", type_=sa.Text(), existing_type=sa.String(200))
        batch.alter_column("replay_task_id", type_=sa.Text(), existing_type=sa.String(64))
        batch.create_index("ix_dead_letters_task_id", ["task_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_index("ix_dead_letters_task_id")
        batch.alter_column("task_id", type_=sa.String(64), existing_type=sa.Text())
        batch.alter_column("task_name", type_=sa.String(200), existing_type=sa.Text())
        batch.alter_column("queue", type_=sa.String(100), existing_type=sa.Text())
        batch.alter_column("error_type", type_=sa.String(200), existing_type=sa.Text())
        batch.alter_column("replay_task_id", type_=sa.String(64), existing_type=sa.Text())
        batch.create_index("ix_dead_letters_task_id", ["task_id"])
