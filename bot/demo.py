"""Demo data for ``bokvar serve --demo``: a fresh SQLite database filled through the real importer.

The demo loads ``docs/examples/*.csv`` with the same import code the landlord uses, so the demo
data doubles as a check that the documented examples stay importable.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.settings import Settings
from messages.languages import accepted_language_codes
from storage.database import make_engine, make_session_factory, transaction
from storage.imports import import_cases, import_tenants
from storage.migrate import upgrade

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "docs" / "examples"
DEMO_DATABASE = Path("bokvar-demo.db")


def demo_settings(settings: Settings, database: Path = DEMO_DATABASE) -> Settings:
    """The same settings on a demo database of its own, so the demo never touches real data."""
    return replace(settings, database_url=make_url(f"sqlite:///{database}"))


def create_demo_database(database: Path = DEMO_DATABASE) -> str:
    """Replace ``database`` with a freshly migrated one holding the example tenants and cases."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        with transaction(make_session_factory(engine)) as session:
            tenants = import_tenants(session, EXAMPLES_DIR / "tenants.csv", accepted_language_codes())
            cases = import_cases(session, EXAMPLES_DIR / "cases.csv")
    finally:
        engine.dispose()
    return f"{tenants.summary()}; {cases.summary()}"
