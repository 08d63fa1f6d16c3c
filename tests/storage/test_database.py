"""The engine setup and the migrated schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from storage.database import make_engine, transaction
from storage.migrate import current_revision, head_revision, upgrade
from storage.models import (
    Base,
    Channel,
    Direction,
    Message,
    MessageStatus,
    Municipality,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Tenant,
)


def _tenant(session: Session, ref: str = "T-1") -> Tenant:
    municipality = session.scalars(select(Municipality).where(Municipality.name == "Malmö")).one()
    tenant = Tenant(external_ref=ref, name="Test Person", preferred_language="sv", municipality=municipality)
    session.add(tenant)
    session.flush()
    return tenant


def test_migrations_create_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert current_revision(engine) == head_revision()


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.scalar(select(sa.func.count()).select_from(Municipality.__table__)) == 14


def test_collaboration_municipalities_are_seeded(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        names = set(session.scalars(select(Municipality.name)))
    assert {"Malmö", "Växjö", "Jönköping", "Stockholm", "Burlöv"} <= names


def test_times_come_back_aware_and_in_utc(sessions: sessionmaker[Session]) -> None:
    stockholm_winter = timezone(timedelta(hours=1))
    with transaction(sessions) as session:
        tenant = _tenant(session)
        tenant_id = tenant.id
        session.add(
            OutboxItem(
                dedupe_key="k1", kind=OutboxKind.PLANNED, tenant_id=tenant_id, status=OutboxStatus.PENDING,
                due_at=datetime(2026, 12, 1, 9, 0, tzinfo=stockholm_winter),
            )
        )
    with sessions() as session:
        due = session.scalars(select(OutboxItem.due_at)).one()
    assert due == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert due.utcoffset() == timedelta(0)


def test_a_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError, match="naive datetime"), transaction(sessions) as session:
        tenant = _tenant(session)
        session.add(
            OutboxItem(
                dedupe_key="k1", kind=OutboxKind.PLANNED, tenant_id=tenant.id, status=OutboxStatus.PENDING,
                due_at=datetime(2026, 12, 1, 9, 0),
            )
        )


def test_one_provider_id_is_stored_once(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant_id = _tenant(session).id

    def inbound() -> Message:
        return Message(
            tenant_id=tenant_id, direction=Direction.INBOUND, channel=Channel.SMS, body="ja",
            provider_id="SM0123", status=MessageStatus.RECEIVED,
        )

    with transaction(sessions) as session:
        session.add(inbound())
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(inbound())


def test_outbox_dedupe_key_is_unique(sessions: sessionmaker[Session]) -> None:
    due = datetime(2026, 12, 1, 8, tzinfo=UTC)
    with transaction(sessions) as session:
        tenant_id = _tenant(session).id
        session.add(OutboxItem(dedupe_key="case:1:step:d1", kind=OutboxKind.PLANNED, tenant_id=tenant_id,
                               status=OutboxStatus.PENDING, due_at=due))
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(OutboxItem(dedupe_key="case:1:step:d1", kind=OutboxKind.PLANNED, tenant_id=tenant_id,
                               status=OutboxStatus.PENDING, due_at=due))


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError), transaction(sessions) as session:
        session.add(Tenant(external_ref="T-9", name="X", preferred_language="sv", municipality_id=99999))


def test_enum_columns_refuse_unknown_values(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO messages (direction, channel, body, status, created_at) "
                "VALUES ('inbound', 'pigeon', 'hej', 'received', CURRENT_TIMESTAMP)"
            )
        )


def test_sqlite_is_tuned_for_concurrent_use(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'tuned.db'}")
    with engine.connect() as connection:
        pragmas = {name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                   for name in ("journal_mode", "foreign_keys", "busy_timeout")}
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


def test_sqlite_read_then_write_transactions_wait_instead_of_failing(tmp_path) -> None:
    """In WAL mode a deferred read-then-write transaction fails with "database is locked";
    BEGIN IMMEDIATE makes concurrent writers queue instead."""
    engine = make_engine(f"sqlite:///{tmp_path / 'busy.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        connection.exec_driver_sql("INSERT INTO counter VALUES (0)")
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(25):
                with engine.begin() as connection:
                    n = connection.exec_driver_sql("SELECT n FROM counter").scalar()
                    connection.exec_driver_sql(f"UPDATE counter SET n = {n + 1}")
        except BaseException as error:  # noqa: BLE001 - collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT n FROM counter").scalar() == 100
