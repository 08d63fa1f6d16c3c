"""Delivery events: the history of provider status callbacks, kept even before their message is known.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:16:48.545652
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('delivery_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'telegram', 'simulator', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Enum('received', 'queued', 'accepted', 'scheduled', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'canceled', name='message_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_events')),
    sa.UniqueConstraint('channel', 'provider_id', 'status', name=op.f('uq_delivery_events_channel_provider_id_status'))
    )


def downgrade() -> None:
    op.drop_table('delivery_events')
