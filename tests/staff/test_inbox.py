"""The inbox: urgent first, then by due time; filters; counts over all open tasks."""

from __future__ import annotations

from datetime import timedelta

from staff.inbox import InboxFilters, list_tasks, priority_band
from storage.database import transaction
from storage.models import TaskKind, TaskStatus
from tests.factories import make_tenant
from tests.staff.staff_factories import NOW, as_viewer, make_staff, make_task


def _titles(page) -> list[str]:
    return [row.summary for row in page.rows]


def test_urgent_first_then_by_due_time_then_age(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        make_task(session, tenant, summary="later", priority=20, due_at=NOW + timedelta(days=2))
        make_task(session, tenant, summary="no due", priority=20)
        make_task(session, tenant, summary="sooner", priority=20, due_at=NOW + timedelta(hours=1))
        make_task(session, tenant, summary="urgent", kind=TaskKind.URGENT, priority=0, due_at=NOW + timedelta(days=9))
        make_task(session, tenant, summary="closed", priority=0).status = TaskStatus.CLOSED
        page = list_tasks(session, viewer, InboxFilters(), NOW)
    assert _titles(page) == ["urgent", "sooner", "later", "no due"]
    assert page.rows[0].band == "urgent" and page.counts.open == 4 and page.counts.urgent == 1


def test_filters_narrow_the_list_but_counts_stay_global(sessions) -> None:
    with transaction(sessions) as session:
        me = make_staff(session)
        other = make_staff(session, "omar@bokvar.test")
        viewer = as_viewer(me)
        malmo = make_tenant(session, "T-1")
        lund = make_tenant(session, "T-2", municipality="Lund", phone="+46701740699")
        make_task(session, malmo, summary="mine", assignee=me, due_at=NOW - timedelta(hours=1))
        make_task(session, malmo, summary="theirs", assignee=other, kind=TaskKind.VERIFY_PAYMENT)
        make_task(session, lund, summary="nobody's", kind=TaskKind.URGENT, priority=0)
        def show(**flags):
            return _titles(list_tasks(session, viewer, InboxFilters(**flags), NOW))

        assert show(mine=True) == ["mine"]
        assert show(unassigned=True) == ["nobody's"]
        assert show(urgent=True) == ["nobody's"]
        assert show(overdue=True) == ["mine"]
        assert show(kind=TaskKind.VERIFY_PAYMENT) == ["theirs"]
        assert show(municipality_id=lund.municipality_id) == ["nobody's"]
        page = list_tasks(session, viewer, InboxFilters(mine=True), NOW)
    assert (page.counts.open, page.counts.mine, page.counts.unassigned, page.counts.urgent,
            page.counts.overdue) == (3, 1, 1, 1, 1)


def test_filters_from_a_query_string_ignore_nonsense() -> None:
    filters = InboxFilters.from_query({"mine": "1", "kind": "no_such_kind", "municipality": "x'; drop", "urgent": "on"})
    assert filters == InboxFilters(mine=True, urgent=True)
    assert InboxFilters.from_query({"kind": "urgent", "municipality": "7"}) == InboxFilters(
        kind=TaskKind.URGENT, municipality_id=7)


def test_priority_bands_have_names_not_only_colours() -> None:
    assert [priority_band(p) for p in (0, 15, 50, 80)] == ["urgent", "high", "normal", "low"]
    assert priority_band(40, TaskKind.URGENT) == "urgent"
