"""Forum tables: users, forums, topics, posts, with the indexes the statistics use.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "forums",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("forums.id"), index=True),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.Column("last_seen_at", TS, index=True),
        sa.Column("last_seen_forum_id", sa.Integer, sa.ForeignKey("forums.id")),
    )
    op.create_index("ix_users_forum_seen", "users", ["last_seen_forum_id", "last_seen_at"])
    op.create_table(
        "topics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("forum_id", sa.Integer, sa.ForeignKey("forums.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_topics_forum_approved", "topics", ["forum_id", "approved"])
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("topic_id", sa.Integer, sa.ForeignKey("topics.id"), nullable=False, index=True),
        sa.Column("forum_id", sa.Integer, sa.ForeignKey("forums.id"), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_posts_forum_approved_created", "posts", ["forum_id", "approved", "created_at"]
    )
    op.create_index(
        "ix_posts_user_approved_created", "posts", ["user_id", "approved", "created_at"]
    )
    op.create_index("ix_posts_approved_created", "posts", ["approved", "created_at"])


def downgrade() -> None:
    for table in ("posts", "topics", "users", "forums"):
        op.drop_table(table)
