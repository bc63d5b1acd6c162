"""Telemetry by time: an index on the interval start for the dashboard's and the network's time-range reads

Revision ID: 0003_telemetry_time_index
Revises: 0002_openadr
Create Date: 2026-11-25 23:35:00

Without it a query over "the last 15 minutes" or "today" of every DER scans the whole table (the primary key
starts with the DER).
"""

from __future__ import annotations

from alembic import op

revision = "0003_telemetry_time_index"
down_revision = "0002_openadr"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index("ix_telemetry_start_s", "telemetry", ["start_s"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_telemetry_start_s", table_name="telemetry")
