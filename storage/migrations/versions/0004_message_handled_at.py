"""Mark an inbound message as handled by the dialogue, so processing it twice changes nothing.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(
            sa.Column(
                "handled_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="inbound only: when the dialogue acted on it (set once, so a repeat changes nothing)",
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("handled_at")
