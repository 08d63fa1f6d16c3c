"""Whether a consent lets the landlord share with social services now, and if not, why.

One rule for everyone who asks: the console (before a disclosure) and the dialogue (before
offering to bring social services to a meeting). A consent counts only if it was *given*, has not
been withdrawn, has started and has not expired (``expires_at`` must lie in the future: a consent
without an end date is not one the landlord can prove is still current), is for the tenant's own
municipality, and covers sharing *from* the landlord.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from storage.models import Consent, ConsentStatus, Tenant

SHARING_DIRECTIONS = ("both", "landlord_to_party")


class ConsentState(StrEnum):
    VALID = "valid"
    NONE = "none"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    OTHER_MUNICIPALITY = "other_municipality"
    WRONG_DIRECTION = "wrong_direction"


def state_of(consent: Consent, tenant: Tenant, now: datetime) -> ConsentState:
    if consent.status is ConsentStatus.REFUSED:
        return ConsentState.REFUSED
    if consent.status is ConsentStatus.WITHDRAWN or consent.withdrawn_at is not None:
        return ConsentState.WITHDRAWN
    if consent.municipality_id != tenant.municipality_id:
        return ConsentState.OTHER_MUNICIPALITY
    if consent.valid_from is not None and consent.valid_from > now:
        return ConsentState.NOT_YET_VALID
    if consent.expires_at is None or consent.expires_at <= now:
        return ConsentState.EXPIRED
    if consent.direction not in SHARING_DIRECTIONS:
        return ConsentState.WRONG_DIRECTION
    return ConsentState.VALID
