"""Index on servicerecord.start_time (issue 8): every yearly read of the service records is a
range on start_time, which otherwise scans the whole table at province scale.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A store made by create_all of today's models is recognised by its tables as 0003 but already
    # has the index.
    existing = {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes("servicerecord")}
    if "ix_servicerecord_start_time" in existing:
        return
    op.create_index("ix_servicerecord_start_time", "servicerecord", ["start_time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_servicerecord_start_time", table_name="servicerecord")
