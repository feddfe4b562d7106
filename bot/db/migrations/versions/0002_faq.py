"""FAQ: questions asked (scrubbed) and Helpful? feedback.

Revision ID: 0002_faq
Revises: 0001_core
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_faq"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "faq_question",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("jurisdiction", sa.String(40), nullable=True),
        sa.Column("question", sa.String(1000), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False, index=True),
        sa.Column("article_id", sa.String(120), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False),
    )
    op.create_table(
        "faq_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("question_id", sa.Integer(), sa.ForeignKey("faq_question.id"), nullable=False,
                  index=True),
        sa.Column("article_id", sa.String(120), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voter", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("question_id", "voter"),
    )


def downgrade() -> None:
    op.drop_table("faq_feedback")
    op.drop_table("faq_question")
