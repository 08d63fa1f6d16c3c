"""Demo data for ``bokvar serve --demo``: a fresh SQLite database filled through the real importer.

The demo loads ``docs/examples/*.csv`` with the same import code the landlord uses, so the demo
data doubles as a check that the documented examples stay importable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot.settings import Settings
from messages.languages import accepted_language_codes
from staff.accounts import create_user, generate_password
from storage.database import make_engine, make_session_factory, transaction
from storage.imports import import_cases, import_tenants
from storage.migrate import upgrade
from storage.models import MeetingSlot, StaffRole

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "docs" / "examples"
DEMO_DATABASE = Path("bokvar-demo.db")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
DEMO_ACCOUNTS = (("handlaggare@bokvar.demo", StaffRole.STAFF, "Hanna Handläggare"),
                 ("admin@bokvar.demo", StaffRole.ADMIN, "Adam Admin"))
SLOT_TIMES = (time(10, 0), time(14, 0))
SLOT_LENGTH = timedelta(minutes=45)
MEETING_PLACE = "Kundcenter, Storgatan 1"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: StaffRole
    password: str


def create_demo_accounts(session: Session) -> list[DemoAccount]:
    """A staff member and an admin with fresh random passwords, shown once when the demo starts."""
    accounts = []
    for email, role, name in DEMO_ACCOUNTS:
        password = generate_password()
        create_user(session, email, role, password, name)
        accounts.append(DemoAccount(email, role, password))
    return accounts


def publish_demo_slots(session: Session, now: datetime, days: int = 7) -> int:
    """Meeting times on the next weekdays, so a tenant who answers "2" gets real choices."""
    count = 0
    day = now.astimezone(STOCKHOLM).date()
    while count < days * len(SLOT_TIMES):
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        for at in SLOT_TIMES:
            starts = datetime.combine(day, at, tzinfo=STOCKHOLM)
            session.add(MeetingSlot(starts_at=starts, ends_at=starts + SLOT_LENGTH, location=MEETING_PLACE))
            count += 1
    session.flush()
    return count


def demo_settings(settings: Settings, database: Path = DEMO_DATABASE) -> Settings:
    """The same settings on a demo database of its own, so the demo never touches real data."""
    return replace(settings, database_url=make_url(f"sqlite:///{database}"))


def create_demo_database(database: Path = DEMO_DATABASE, now: datetime | None = None) -> tuple[str, list[DemoAccount]]:
    """Replace ``database`` with a freshly migrated one holding the example tenants and cases,
    demo accounts and meeting slots; return a summary and the accounts (passwords in clear, once)."""
    now = now or datetime.now(STOCKHOLM)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            tenants = import_tenants(session, EXAMPLES_DIR / "tenants.csv", accepted_language_codes())
            cases = import_cases(session, EXAMPLES_DIR / "cases.csv")
            accounts = create_demo_accounts(session)
            slots = publish_demo_slots(session, now)
    finally:
        engine.dispose()
    return f"{tenants.summary()}; {cases.summary()}; {slots} meeting slots", accounts
