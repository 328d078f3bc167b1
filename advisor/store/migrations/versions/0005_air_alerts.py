"""Air-raid alerts kept for every worker, and each alert feed's health and poll lease.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

Chained after 0004 (war maps), merged from main.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from advisor.store.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "air_alerts",
        sa.Column("feed", sa.String(64), primary_key=True),
        sa.Column("alert_id", sa.String(80), primary_key=True),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("seen_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_air_alerts_finished_at", "air_alerts", ["finished_at"])
    op.create_table(
        "alert_feeds",
        sa.Column("feed", sa.String(64), primary_key=True),
        sa.Column("last_attempt_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("last_modified", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("lease_holder", sa.String(128), nullable=False),
        sa.Column("lease_until", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("alert_feeds")
    op.drop_table("air_alerts")
