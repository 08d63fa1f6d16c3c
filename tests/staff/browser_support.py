"""The browser-test harness: the real app under uvicorn on 127.0.0.1, Debian's Chromium, demo data.

The app is exactly what ``bokvar serve`` runs (``bot.app.create_app``) on a SQLite file of the
test's own, simulator channel only. Outbox rows are sent by the real dispatcher, drained from a
helper thread (it runs its own event loop; Playwright's sync API owns the main thread's).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from bot.app import create_app
from bot.channels.registry import Channels
from messages.render import render
from scheduler.dispatcher import AllowAll, Dispatcher, DispatchStats
from storage.database import make_engine, make_session_factory, transaction
from storage.migrate import upgrade
from storage.models import (
    Awaiting,
    Case,
    CaseKind,
    CaseStage,
    Channel,
    ContactPoint,
    ConversationState,
    MeetingSlot,
    MessageStatus,
    TaskKind,
    Tenant,
)
from tests.staff.staff_factories import (
    PASSWORD,
    console_settings,
    make_admin,
    make_consent,
    make_message,
    make_staff,
    make_task,
    municipality,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
STAFF_EMAIL = "hanna@bokvar.test"
ADMIN_EMAIL = "adam@bokvar.test"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveConsole:
    url: str
    sessions: sessionmaker[Session]

    def drain_outbox(self) -> DispatchStats:
        """Send every due outbox row through the simulator, as the running dispatcher would."""
        result: list[DispatchStats] = []
        dispatcher = Dispatcher(self.sessions, Channels(), AllowAll(), worker="browser-test", simulate_all=True)
        worker = threading.Thread(target=lambda: result.append(asyncio.run(dispatcher.drain())))
        worker.start()
        worker.join(30)
        return result[0]


@contextmanager
def live_console(tmp_path: Path) -> Iterator[LiveConsole]:
    database_url = f"sqlite:///{tmp_path / 'console.db'}"
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    app = create_app(console_settings(database_url), sessions, channels=Channels())
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the console did not start within 10 s")
        time.sleep(0.02)
    try:
        yield LiveConsole(f"http://127.0.0.1:{port}", sessions)
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


# --- demo data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    urgent_task_id: int
    arabic_tenant_id: int
    swedish_tenant_id: int
    booking_tenant_id: int


def _tenant(session: Session, ref: str, name: str, language: str, town: str, phone: str) -> Tenant:
    tenant = Tenant(external_ref=ref, name=name, preferred_language=language, municipality=municipality(session, town))
    session.add(tenant)
    session.add(ContactPoint(tenant=tenant, channel=Channel.SMS, address=phone, priority=20, verified=True))
    session.flush()
    return tenant


def _case(session: Session, tenant: Tenant, ref: str, amount_ore: int, kind: CaseKind, stage: CaseStage,
          due: date, notice: date | None = None, deadline: date | None = None) -> Case:
    case = Case(external_ref=ref, tenant=tenant, kind=kind, stage=stage, rent_due_date=due,
                amount_overdue_ore=amount_ore, notice_served_on=notice, recovery_deadline=deadline)
    session.add(case)
    session.flush()
    return case


def _sent(session: Session, tenant: Tenant, key: str, values: dict[str, object], at: datetime) -> None:
    rendered = render(key, tenant.preferred_language, values)
    make_message(session, tenant, rendered.text, inbound=False, language=rendered.language_used, at=at,
                 status=MessageStatus.DELIVERED, template_key=key)


def seed_console(sessions: sessionmaker[Session], now: datetime | None = None) -> Seeded:
    """A realistic morning in the inbox: an urgent Arabic conversation on top, and the rest."""
    now = now or datetime.now(UTC)
    today = now.astimezone(STOCKHOLM).date()
    with transaction(sessions) as session:
        make_staff(session, STAFF_EMAIL, name="Hanna Handläggare")
        make_admin(session, ADMIN_EMAIL, name="Adam Admin")
        colleague = make_staff(session, "omar@bokvar.test", name="Omar Nilsson")

        mariam = _tenant(session, "HG-10234", "Mariam Haddad", "ar", "Trelleborg", "+46701740608")
        notice = _case(session, mariam, "NT-2026-0081", 1_422_000, CaseKind.NOTICE, CaseStage.RECOVERY_PERIOD,
                       today - timedelta(days=33), today - timedelta(days=9), today + timedelta(days=12))
        deadline = datetime.combine(notice.recovery_deadline, datetime.min.time(), tzinfo=STOCKHOLM) + timedelta(
            hours=23, minutes=59)
        _sent(session, mariam, "notice_served", {"landlord": "Hyresbostäder", "amount": notice.amount_overdue_ore,
                                                 "deadline": deadline}, now - timedelta(days=9))
        _sent(session, mariam, "recovery_reminder", {"amount": notice.amount_overdue_ore, "deadline": deadline},
              now - timedelta(days=2, hours=3))
        make_message(session, mariam, "لا أستطيع دفع المبلغ كله الآن. عندي طفلان وأخاف أن نفقد البيت. هل يمكن أن "
                     "يتصل بي أحد اليوم؟", language="ar", at=now - timedelta(minutes=47))
        urgent = make_task(session, mariam, kind=TaskKind.URGENT, priority=0, case_id=notice.id,
                           summary="Hyresgästen är orolig att familjen förlorar bostaden och ber om ett samtal i dag.",
                           due_at=now + timedelta(hours=2), created_at=now - timedelta(minutes=46))
        make_consent(session, mariam, expires_at=now + timedelta(days=320), captured_at=now - timedelta(days=40))

        erik = _tenant(session, "HG-10232", "Erik Lindqvist", "sv", "Malmö", "+46701740606")
        arrears = _case(session, erik, "AR-2026-0412", 1_230_000, CaseKind.ARREARS, CaseStage.GRACE_ENDED,
                        today - timedelta(days=6))
        _sent(session, erik, "arrears_help_offer", {"amount": arrears.amount_overdue_ore, "municipality": "Malmö"},
              now - timedelta(days=1, hours=2))
        make_message(session, erik, "1", language="sv", at=now - timedelta(hours=20))
        make_task(session, erik, kind=TaskKind.HELP_REQUEST, priority=20, case_id=arrears.id,
                  summary="Ber om hjälp: budget- och skuldrådgivning och en avbetalningsplan.",
                  due_at=now - timedelta(hours=1), created_at=now - timedelta(hours=20))

        amina = _tenant(session, "HG-10231", "Amina Yusuf Ali", "so", "Malmö", "+46701740605")
        a_case = _case(session, amina, "AR-2026-0411", 845_000, CaseKind.ARREARS, CaseStage.OVERDUE,
                       today - timedelta(days=3))
        make_message(session, amina, "Waan bixiyay maanta", language="so", at=now - timedelta(hours=5))
        make_task(session, amina, kind=TaskKind.VERIFY_PAYMENT, priority=30, case_id=a_case.id,
                  summary="Säger att hyran är betald i dag: kontrollera inbetalningen.",
                  due_at=now + timedelta(days=1), created_at=now - timedelta(hours=5), assignee=colleague)

        ahmad = _tenant(session, "HG-10233", "Ahmad Rahimi", "fa", "Lund", "+46701740607")
        f_case = _case(session, ahmad, "NT-2026-0077", 1_784_250, CaseKind.NOTICE, CaseStage.NOTICE_SERVED,
                       today - timedelta(days=40), today - timedelta(days=4), today + timedelta(days=17))
        make_task(session, ahmad, kind=TaskKind.PHONE_TENANT, priority=15, case_id=f_case.id,
                  summary="Uppsägning delgiven, inget svar på SMS: ring hyresgästen och föreslå ett trepartsmöte.",
                  due_at=now + timedelta(hours=6), created_at=now - timedelta(days=1))

        sara = _tenant(session, "HG-10238", "Sara Johansson", "sv", "Lund", "+46701740611")
        s_case = _case(session, sara, "AR-2026-0421", 315_050, CaseKind.ARREARS, CaseStage.OVERDUE,
                       today - timedelta(days=2))
        _sent(session, sara, "menu", {}, now - timedelta(hours=1))
        session.add(ConversationState(tenant_id=sara.id, awaiting=Awaiting.MENU, language="sv", context={},
                                      case_id=s_case.id, expires_at=now + timedelta(days=3),
                                      updated_at=now - timedelta(hours=1)))
        make_task(session, sara, kind=TaskKind.MEETING_REQUEST, priority=40, case_id=s_case.id,
                  summary="Vill boka ett möte om en avbetalningsplan.", due_at=now + timedelta(days=2),
                  created_at=now - timedelta(hours=3))

        olena = _tenant(session, "HG-10240", "Olena Kovalenko", "uk", "Norrköping", "+46701740612")
        o_case = _case(session, olena, "AR-2026-0430", 612_300, CaseKind.ARREARS, CaseStage.GRACE_ENDED,
                       today - timedelta(days=9))
        make_task(session, olena, kind=TaskKind.REACH_IN_PERSON, priority=15, case_id=o_case.id,
                  summary="SMS kunde inte levereras (numret finns inte). Nå hyresgästen per telefon eller besök.",
                  due_at=now + timedelta(days=1, hours=3), created_at=now - timedelta(hours=9))
        yonas = _tenant(session, "HG-10243", "Yonas Tesfaye", "ti", "Växjö", "+46701740613")
        make_task(session, yonas, kind=TaskKind.CONSENT_WITHDRAWN, priority=60,
                  summary="Samtycket återkallades via sms. Meddela socialtjänsten i Växjö att inget mer delas.",
                  due_at=now + timedelta(days=3), created_at=now - timedelta(days=1, hours=4))

        office_days = [today + timedelta(days=n) for n in range(1, 8) if (today + timedelta(days=n)).weekday() < 5]
        for day in office_days[:3]:
            for hour in (10, 14):
                starts = datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM)
                session.add(MeetingSlot(staff_user_id=colleague.id, starts_at=starts,
                                        ends_at=starts + timedelta(minutes=45), location="Kundcenter, Storgatan 1"))
        session.flush()
        return Seeded(urgent.id, mariam.id, erik.id, sara.id)


__all__ = ["ADMIN_EMAIL", "CHROMIUM", "CHROMIUM_ARGS", "PASSWORD", "SCREENSHOTS", "STAFF_EMAIL", "LiveConsole",
           "Seeded", "live_console", "seed_console"]
