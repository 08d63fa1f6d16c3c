"""Sharing with social services: only under a valid consent, always logged, otherwise explained."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from staff.disclosure import ConsentState, DisclosureRefused, consent_summary, share_with_social_services
from storage.database import transaction
from storage.models import AuditEntry, ConsentDisclosure, ConsentStatus
from tests.factories import make_tenant
from tests.staff.staff_factories import NOW, as_viewer, make_consent, make_staff, municipality


def test_a_valid_consent_allows_sharing_and_logs_a_disclosure(sessions) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        consent = make_consent(session, tenant)
        disclosure = share_with_social_services(session, viewer, tenant, NOW, note="Skuld och kontaktuppgifter")
    with sessions() as session:
        [stored] = session.scalars(select(ConsentDisclosure)).all()
        [audit] = session.scalars(select(AuditEntry).where(AuditEntry.action == "disclose_to_social_services")).all()
    assert stored.id == disclosure.id and stored.consent_id == consent.id and stored.disclosed_by_id == viewer.id
    assert stored.recipient == "Socialnämnden i Malmö" and stored.data_categories == ["rent_debt", "contact_details"]
    assert audit.details == {"consent_id": consent.id, "disclosure_id": stored.id}
    assert "Skuld" not in str(audit.details)


@pytest.mark.parametrize(
    ("make", "state"),
    [
        (lambda s, t: None, ConsentState.NONE),
        (lambda s, t: make_consent(s, t, status=ConsentStatus.REFUSED), ConsentState.REFUSED),
        (lambda s, t: make_consent(s, t, status=ConsentStatus.WITHDRAWN, withdrawn_at=NOW), ConsentState.WITHDRAWN),
        (lambda s, t: make_consent(s, t, expires_at=NOW - timedelta(days=1)), ConsentState.EXPIRED),
        (lambda s, t: make_consent(s, t, expires_at=None), ConsentState.EXPIRED),
        (lambda s, t: make_consent(s, t, municipality=municipality(s, "Lund")), ConsentState.OTHER_MUNICIPALITY),
        (lambda s, t: make_consent(s, t, direction="party_to_landlord"), ConsentState.WRONG_DIRECTION),
    ],
    ids=["none", "refused", "withdrawn", "expired", "no-expiry", "other-municipality", "wrong-direction"],
)
def test_without_a_valid_consent_sharing_is_refused_with_the_reason(sessions, make, state) -> None:
    with transaction(sessions) as session:
        viewer = as_viewer(make_staff(session))
        tenant = make_tenant(session)
        make(session, tenant)
        assert consent_summary(session, tenant, NOW).state is state
        with pytest.raises(DisclosureRefused) as refused:
            share_with_social_services(session, viewer, tenant, NOW)
    assert refused.value.state is state
    with sessions() as session:
        assert session.scalars(select(ConsentDisclosure)).all() == []


def test_a_later_withdrawal_ends_an_earlier_consent(sessions) -> None:
    with transaction(sessions) as session:
        tenant = make_tenant(session)
        make_consent(session, tenant, status=ConsentStatus.WITHDRAWN, withdrawn_at=NOW - timedelta(days=1),
                     captured_at=NOW - timedelta(days=20))
        summary = consent_summary(session, tenant, NOW)
    assert summary.state is ConsentState.WITHDRAWN and len(summary.history) == 1
