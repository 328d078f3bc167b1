"""War maps: every imported map of the occupied territory, the one in force by activation.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from advisor.store.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "war_maps",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("map_date", sa.String(10), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("geometry", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("activation", sa.Integer, nullable=False),
    )
    op.create_index("ix_war_maps_checksum", "war_maps", ["checksum"])


def downgrade() -> None:
    op.drop_table("war_maps")
