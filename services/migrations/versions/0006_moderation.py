"""Moderation: each post's fingerprints, spam score and review state; the simhash bands that find
near-duplicates in a recent window; the authors' moderation history; every decision taken.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
UNSCORED = sa.text("scored_at IS NULL")
PENDING = sa.text("review_status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("content_hash", sa.String(64)))
        batch.add_column(sa.Column("simhash", sa.BigInteger))
        batch.add_column(sa.Column("spam_score", sa.Float))
        batch.add_column(sa.Column("spam_reasons", sa.Text))
        batch.add_column(sa.Column("scored_at", TS))
        batch.add_column(sa.Column("review_status", sa.String(16)))
        batch.add_column(sa.Column("duplicate_of", sa.Integer))
    op.create_index("ix_posts_content_hash_created", "posts", ["content_hash", "created_at"])
    op.create_index("ix_posts_review_status", "posts", ["review_status"])  # the statistics' counts
    op.create_index(  # the backlog the moderation service scores, oldest first
        "ix_posts_unscored", "posts", ["id"], postgresql_where=UNSCORED, sqlite_where=UNSCORED
    )
    op.create_index(  # the review queue
        "ix_posts_pending_review",
        "posts",
        ["spam_score", "created_at"],
        postgresql_where=PENDING,
        sqlite_where=PENDING,
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("spam_rejections", sa.Integer, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("not_spam_marks", sa.Integer, nullable=False, server_default="0")
        )
    op.create_table(
        "post_bands",
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), primary_key=True),
        sa.Column("band", sa.SmallInteger, primary_key=True),
        sa.Column("value", sa.SmallInteger, nullable=False),
        # The post's time and simhash: the window is a range scan, and no join to posts.
        sa.Column("created_at", TS, nullable=False),
        sa.Column("simhash", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_post_bands_lookup", "post_bands", ["band", "value", "created_at"])
    op.create_table(
        "moderation_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("post_id", sa.Integer, sa.ForeignKey("posts.id"), nullable=False, index=True),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("decided_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("moderation_decisions")
    op.drop_table("post_bands")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("not_spam_marks")
        batch.drop_column("spam_rejections")
    op.drop_index("ix_posts_pending_review", "posts")
    op.drop_index("ix_posts_unscored", "posts")
    op.drop_index("ix_posts_review_status", "posts")
    op.drop_index("ix_posts_content_hash_created", "posts")
    with op.batch_alter_table("posts") as batch:
        for column in (
            "duplicate_of",
            "review_status",
            "scored_at",
            "spam_reasons",
            "spam_score",
            "simhash",
            "content_hash",
        ):
            batch.drop_column(column)
