"""Login, lockout after repeated failures, the per-address throttle and roles."""

from __future__ import annotations

from datetime import timedelta

from staff.auth import (
    LOCK_DURATION,
    MAX_FAILURES,
    AddressThrottle,
    LoginOutcome,
    authenticate,
    load_viewer,
)
from storage.database import transaction
from storage.models import AuditEntry, StaffRole, StaffUser
from tests.staff.staff_factories import NOW, PASSWORD, as_viewer, make_admin, make_staff


def test_the_right_password_logs_in_and_is_audited(sessions) -> None:
    with transaction(sessions) as session:
        user = make_staff(session, "Hanna@Bokvar.test")
        result = authenticate(session, "  HANNA@bokvar.test ", PASSWORD, NOW)
        assert result.outcome is LoginOutcome.OK and result.viewer.id == user.id
        assert user.last_login_at == NOW
        assert session.query(AuditEntry).filter_by(action="login").count() == 1


def test_unknown_email_and_wrong_password_read_the_same(sessions) -> None:
    with transaction(sessions) as session:
        make_staff(session)
        assert authenticate(session, "nobody@bokvar.test", PASSWORD, NOW).outcome is LoginOutcome.WRONG
        assert authenticate(session, "hanna@bokvar.test", "not the password", NOW).outcome is LoginOutcome.WRONG


def test_the_account_locks_after_repeated_failures_and_opens_again_later(sessions) -> None:
    with transaction(sessions) as session:
        make_staff(session)
        outcomes = [authenticate(session, "hanna@bokvar.test", "wrong", NOW).outcome for _ in range(MAX_FAILURES)]
        assert outcomes[-1] is LoginOutcome.LOCKED and set(outcomes[:-1]) == {LoginOutcome.WRONG}
        # Even the right password is refused while locked.
        assert authenticate(session, "hanna@bokvar.test", PASSWORD, NOW).outcome is LoginOutcome.LOCKED
        later = NOW + LOCK_DURATION + timedelta(seconds=1)
        assert authenticate(session, "hanna@bokvar.test", PASSWORD, later).outcome is LoginOutcome.OK


def test_a_deactivated_account_cannot_log_in_or_keep_its_session(sessions) -> None:
    with transaction(sessions) as session:
        user = make_staff(session)
        user.active = False
        assert authenticate(session, user.email, PASSWORD, NOW).outcome is LoginOutcome.WRONG
        assert load_viewer(session, user.id) is None
        assert load_viewer(session, "1") is None


def test_the_address_throttle_blocks_a_spray_then_forgets_it() -> None:
    clock = [0.0]
    throttle = AddressThrottle(limit=3, window=timedelta(minutes=15), monotonic=lambda: clock[0])
    for _ in range(3):
        throttle.failed("10.0.0.1")
    assert throttle.blocked("10.0.0.1") and not throttle.blocked("10.0.0.2")
    clock[0] += 15 * 60 + 1
    assert not throttle.blocked("10.0.0.1")


def test_admins_may_do_what_staff_may_but_not_the_reverse(sessions) -> None:
    with transaction(sessions) as session:
        staff, admin = as_viewer(make_staff(session)), as_viewer(make_admin(session))
    assert staff.may(StaffRole.STAFF) and not staff.may(StaffRole.ADMIN)
    assert admin.may(StaffRole.STAFF) and admin.may(StaffRole.ADMIN)


def test_users_created_for_the_console_keep_working_with_the_cli_helpers(sessions) -> None:
    from staff.accounts import verify_password

    with transaction(sessions) as session:
        user = make_staff(session)
    with sessions() as session:
        stored = session.get(StaffUser, user.id)
        assert verify_password(stored.password_hash, PASSWORD)
