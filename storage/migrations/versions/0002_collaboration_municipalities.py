"""Seed the municipalities the landlord has collaboration agreements with (shared/domain.md).

Codes are SCB's kommunkoder. Social-services contact details are left empty on purpose: they must
come from each agreement, not from a guess; the console shows them as missing until set.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MUNICIPALITIES = [
    ("1231", "Burlöv"),
    ("0484", "Eskilstuna"),
    ("0680", "Jönköping"),
    ("1080", "Karlskrona"),
    ("0580", "Linköping"),
    ("1281", "Lund"),
    ("0781", "Ljungby"),
    ("0581", "Norrköping"),
    ("1280", "Malmö"),
    ("0180", "Stockholm"),
    ("2181", "Sandviken"),
    ("1287", "Trelleborg"),
    ("0685", "Vetlanda"),
    ("0780", "Växjö"),
]

municipalities = sa.table(
    "municipalities",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("social_services_name", sa.String),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    now = datetime.now(UTC)
    if op.get_bind().dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    op.bulk_insert(
        municipalities,
        [
            {"code": code, "name": name, "social_services_name": f"Socialtjänsten i {name}", "created_at": now}
            for code, name in MUNICIPALITIES
        ],
    )


def downgrade() -> None:
    codes = [code for code, _ in MUNICIPALITIES]
    op.execute(municipalities.delete().where(municipalities.c.code.in_(codes)))
