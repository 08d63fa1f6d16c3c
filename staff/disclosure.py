"""Consent as staff see it, and sharing with social services only under a valid consent.

Sharing is allowed only with a consent that was *given*, has not been withdrawn, has started and
has not expired (``expires_at`` must lie in the future: a consent without an end date is not one
the landlord can prove is still current), is for the tenant's own municipality, and covers
sharing *from* the landlord. Anything else is refused with the reason, so the console can say
exactly why (and what to do: ask again, or wait for the tenant).

Each disclosure is logged twice: as a :class:`ConsentDisclosure` (the log the tenant may ask to
see) and in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from staff import audit
from staff.auth import Viewer
from storage.consent_rules import ConsentState, state_of
from storage.models import Consent, ConsentDisclosure, StaffUser, Tenant


@dataclass(frozen=True)
class DisclosureRow:
    at: datetime
    by: str | None
    recipient: str
    data_categories: list[str]


@dataclass(frozen=True)
class ConsentRow:
    consent: Consent
    state: ConsentState
    disclosures: list[DisclosureRow]


@dataclass(frozen=True)
class ConsentSummary:
    """The state that decides whether sharing is possible now, and the whole history behind it."""

    state: ConsentState
    current: Consent | None
    history: list[ConsentRow]

    @property
    def may_share(self) -> bool:
        return self.state is ConsentState.VALID


def consent_summary(session: Session, tenant: Tenant, now: datetime) -> ConsentSummary:
    """Newest decision first; a valid consent anywhere in the history wins over later refusals
    for other municipalities, but the newest decision for the tenant's municipality decides."""
    consents = session.scalars(
        select(Consent).where(Consent.tenant_id == tenant.id).order_by(Consent.captured_at.desc(), Consent.id.desc())
    ).all()
    names = dict(session.execute(select(StaffUser.id, StaffUser.display_name)).all())
    history = [
        ConsentRow(c, state_of(c, tenant, now), [
            DisclosureRow(d.disclosed_at, names.get(d.disclosed_by_id), d.recipient, list(d.data_categories or []))
            for d in sorted(c.disclosures, key=lambda d: d.disclosed_at)
        ])
        for c in consents
    ]
    valid = next((row for row in history if row.state is ConsentState.VALID), None)
    if valid is not None:
        return ConsentSummary(ConsentState.VALID, valid.consent, history)
    own = next((row for row in history if row.state is not ConsentState.OTHER_MUNICIPALITY), None)
    if own is not None:
        return ConsentSummary(own.state, own.consent, history)
    if history:
        return ConsentSummary(ConsentState.OTHER_MUNICIPALITY, history[0].consent, history)
    return ConsentSummary(ConsentState.NONE, None, history)


class DisclosureRefused(Exception):
    """Sharing is not allowed; ``state`` says why (never "valid")."""

    def __init__(self, state: ConsentState) -> None:
        self.state = state
        super().__init__(f"no valid consent to share: {state.value}")


def share_with_social_services(session: Session, viewer: Viewer, tenant: Tenant, now: datetime,
                               note: str | None = None, task_id: int | None = None) -> ConsentDisclosure:
    """Record that the landlord shared the case with social services under the tenant's consent."""
    summary = consent_summary(session, tenant, now)
    if not summary.may_share or summary.current is None:
        raise DisclosureRefused(summary.state)
    consent = summary.current
    municipality = tenant.municipality
    recipient = consent.counterparty or (municipality.social_services_name if municipality else "") or "socialnämnden"
    disclosure = ConsentDisclosure(
        consent_id=consent.id, disclosed_at=now, disclosed_by_id=viewer.id, recipient=recipient,
        data_categories=list(consent.data_categories or []), note=(note or "").strip() or None,
    )
    session.add(disclosure)
    session.flush()
    details: dict[str, object] = {"consent_id": consent.id, "disclosure_id": disclosure.id}
    if task_id is not None:
        details["task_id"] = task_id
    audit.record(session, viewer, "disclose_to_social_services", "tenant", tenant.id, now, **details)
    return disclosure
