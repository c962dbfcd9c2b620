"""Duplicate-check runs kept as evidence for the purchase review (commit b4b0bc6).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duplicatecheck',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('checked_by', sa.String(), nullable=False),
        sa.Column('tier', sa.String(length=16), nullable=False),
        sa.Column('suggested_verdict', sa.String(length=8), nullable=False),
        sa.Column('rules', sa.String(), nullable=False),
        sa.Column('snapshot_json', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['purchaserequest.id'], ),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_duplicatecheck_request_id', 'duplicatecheck', ['request_id'], unique=False)


def downgrade() -> None:
    op.drop_table('duplicatecheck')
