"""What each partner GTFS-realtime alert entity proposed: the draft flag, its fingerprint,
first/last seen and the proposal's state. Feed health and the poll lease reuse
``alert_feeds`` (rows named ``partner:<feed>``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from advisor.store.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_alert_entities",
        sa.Column("feed", sa.String(64), primary_key=True),
        sa.Column("entity_id", sa.String(200), primary_key=True),
        sa.Column("part", sa.String(120), primary_key=True),
        sa.Column("flag_id", sa.String(80)),
        sa.Column("previous_flag_id", sa.String(80)),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index(
        "ix_partner_alert_entities_flag_id", "partner_alert_entities", ["flag_id"]
    )


def downgrade() -> None:
    op.drop_table("partner_alert_entities")
