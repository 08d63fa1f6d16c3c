"""Cross-site request forgery protection: one random token per session, on every form.

The token lives in the signed session cookie and in a hidden field (or the ``X-CSRF-Token``
header for the console's small JSON calls). A forged cross-site form cannot read it, so a POST
without the matching token is refused with 403 before any handler runs. ``SameSite=Lax`` cookies
would already stop most of this; the token also covers browsers and proxies that do not.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from typing import Any

SESSION_KEY = "csrf"
FIELD = "csrf_token"
HEADER = "x-csrf-token"


def token_for(session: MutableMapping[str, Any]) -> str:
    """The session's token, created on first use."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def is_valid(session: MutableMapping[str, Any], submitted: object) -> bool:
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
