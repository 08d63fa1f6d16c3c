"""The whole domain as far as foreseen: people, cases, messages, outbox, tasks, consent, meetings, templates, staff.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 00:04:54.702067
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('municipalities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=4), nullable=False, comment='SCB kommunkod, e.g. 1280'),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('social_services_name', sa.String(length=200), nullable=True),
    sa.Column('social_services_email', sa.String(length=200), nullable=True),
    sa.Column('social_services_phone', sa.String(length=32), nullable=True),
    sa.Column('consent_form_version', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_municipalities')),
    sa.UniqueConstraint('code', name=op.f('uq_municipalities_code')),
    sa.UniqueConstraint('name', name=op.f('uq_municipalities_name'))
    )
    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.Enum('staff', 'admin', name='staff_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_users_email'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_staff_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False, comment="'staff', 'system', 'import', 'dialogue'"),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_staff_id'], ['staff_users.id'], name=op.f('fk_audit_log_actor_staff_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_log_object', ['object_type', 'object_id'], unique=False)

    op.create_table('meeting_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('open', 'booked', 'cancelled', name='meeting_slot_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_meeting_slots_ends_after_start')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_meeting_slots_staff_user_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meeting_slots'))
    )
    with op.batch_alter_table('meeting_slots', schema=None) as batch_op:
        batch_op.create_index('ix_meeting_slots_status_start', ['status', 'starts_at'], unique=False)

    op.create_table('template_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('published', sa.Boolean(), nullable=False),
    sa.Column('review_status', sa.Enum('draft', 'reviewed', name='review_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_users.id'], name=op.f('fk_template_versions_created_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['staff_users.id'], name=op.f('fk_template_versions_reviewed_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_versions')),
    sa.UniqueConstraint('key', 'language', 'version', name=op.f('uq_template_versions_key_language_version'))
    )
    with op.batch_alter_table('template_versions', schema=None) as batch_op:
        batch_op.create_index('ix_template_versions_lookup', ['key', 'language', 'published'], unique=False)

    op.create_table('tenants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('preferred_language', sa.String(length=8), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=False),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('household_type', sa.Enum('single', 'single_with_children', 'couple', 'couple_with_children', 'other', name='household_type', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('quiet_hours_start', sa.Time(), nullable=True, comment='local time; no outreach from here'),
    sa.Column('quiet_hours_end', sa.Time(), nullable=True, comment='local time; outreach allowed again'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_tenants_municipality_id_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tenants')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_tenants_external_ref'))
    )
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tenants_municipality_id'), ['municipality_id'], unique=False)

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('external_ref', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('arrears', 'notice', 'kronofogden', name='case_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('stage', sa.Enum('overdue', 'grace_ended', 'notice_served', 'recovery_period', 'kronofogden_applied', 'eviction_scheduled', 'closed', name='case_stage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('rent_due_date', sa.Date(), nullable=True),
    sa.Column('amount_overdue_ore', sa.BigInteger(), nullable=False),
    sa.Column('notice_served_on', sa.Date(), nullable=True),
    sa.Column('recovery_deadline', sa.Date(), nullable=True),
    sa.Column('kronofogden_applied_on', sa.Date(), nullable=True),
    sa.Column('eviction_date', sa.Date(), nullable=True),
    sa.Column('outcome', sa.Enum('paid', 'payment_plan', 'social_services_commitment', 'moved_out', 'evicted', 'withdrawn', 'other', name='case_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paused_until', sa.DateTime(timezone=True), nullable=True, comment='reminders wait until then, e.g. while staff verify a reported payment'),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_overdue_ore >= 0', name=op.f('ck_cases_amount_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_cases_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_cases_external_ref'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_open', ['closed_at', 'tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('contact_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'telegram', 'simulator', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False, comment='lower is tried first'),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opt_out_source', sa.String(length=64), nullable=True, comment='e.g. keyword, twilio_21610, twilio_advanced_opt_out, telegram_blocked'),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_contact_points_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_points')),
    sa.UniqueConstraint('tenant_id', 'channel', 'address', name=op.f('uq_contact_points_tenant_id_channel_address'))
    )
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.create_index('ix_contact_points_channel_address', ['channel', 'address'], unique=False)

    op.create_table('telegram_link_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_chat_id', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_telegram_link_codes_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_telegram_link_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_telegram_link_codes_code'))
    )
    with op.batch_alter_table('telegram_link_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telegram_link_codes_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('conversation_states',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('awaiting', sa.Enum('nothing', 'menu', 'consent', 'slot', name='awaiting', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('context', sa.JSON(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_inbound_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_conversation_states_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_conversation_states_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_conversation_states'))
    )
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('booked', 'cancelled', 'held', 'no_show', name='meeting_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('booked_via', sa.Enum('sms', 'telegram', 'simulator', name='channel', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('booked_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('include_social_services', sa.Boolean(), nullable=False),
    sa.Column('booked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booked_by_staff_id'], ['staff_users.id'], name=op.f('fk_meetings_booked_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_meetings_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['slot_id'], ['meeting_slots.id'], name=op.f('fk_meetings_slot_id_meeting_slots')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_meetings_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('slot_id', name=op.f('uq_meetings_slot_id'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meetings_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('contact_point_id', sa.Integer(), nullable=True),
    sa.Column('direction', sa.Enum('inbound', 'outbound', name='direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'telegram', 'simulator', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('payload', sa.String(length=128), nullable=True, comment='button payload (Telegram)'),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('template_key', sa.String(length=64), nullable=True),
    sa.Column('template_version', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('received', 'queued', 'accepted', 'scheduled', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'canceled', name='message_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('error_code', sa.String(length=32), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status_updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_messages_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contact_point_id'], ['contact_points.id'], name=op.f('fk_messages_contact_point_id_contact_points'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_messages_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    sa.UniqueConstraint('channel', 'provider_id', name=op.f('uq_messages_channel_provider_id'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_contact_point_id'), ['contact_point_id'], unique=False)
        batch_op.create_index('ix_messages_tenant_created', ['tenant_id', 'created_at'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('given', 'refused', 'withdrawn', name='consent_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('counterparty', sa.String(length=200), nullable=False, comment='e.g. socialnämnden i Malmö'),
    sa.Column('direction', sa.String(length=32), nullable=False, comment='both | landlord_to_party | party_to_landlord'),
    sa.Column('data_categories', sa.JSON(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('consent_form_version', sa.String(length=32), nullable=True),
    sa.Column('template_key', sa.String(length=64), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=True),
    sa.Column('text_sha256', sa.String(length=64), nullable=False, comment='hash of the exact text shown'),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('captured_channel', sa.Enum('sms', 'telegram', 'simulator', name='channel', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('captured_message_id', sa.Integer(), nullable=True),
    sa.Column('captured_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_how', sa.String(length=64), nullable=True),
    sa.Column('withdrawn_message_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_recorded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['captured_by_staff_id'], ['staff_users.id'], name=op.f('fk_consents_captured_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['captured_message_id'], ['messages.id'], name=op.f('fk_consents_captured_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['municipalities.id'], name=op.f('fk_consents_municipality_id_municipalities')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_consents_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withdrawn_message_id'], ['messages.id'], name=op.f('fk_consents_withdrawn_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['withdrawn_recorded_by_id'], ['staff_users.id'], name=op.f('fk_consents_withdrawn_recorded_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('inbound_receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('sms', 'telegram', 'simulator', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_inbound_receipts_message_id_messages'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_receipts')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_inbound_receipts_channel_external_id'))
    )
    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=160), nullable=False),
    sa.Column('kind', sa.Enum('planned', 'reply', 'staff', name='outbox_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('template_key', sa.String(length=64), nullable=True),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True, comment='free text typed by staff'),
    sa.Column('channel_order', sa.JSON(), nullable=False),
    sa.Column('in_reply_to_message_id', sa.Integer(), nullable=True),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'withdrawn', name='outbox_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=128), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('withdrawn_reason', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_outbox_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_outbox_created_by_staff_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['in_reply_to_message_id'], ['messages.id'], name=op.f('fk_outbox_in_reply_to_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_outbox_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_outbox_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_outbox_dedupe_key'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_outbox_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('urgent', 'help_request', 'verify_payment', 'phone_tenant', 'visit_tenant', 'reach_in_person', 'meeting_request', 'consent_withdrawn', 'reply_needed', 'reconcile_send', 'other', name='task_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'in_progress', 'closed', name='task_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=160), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Enum('paid', 'payment_plan', 'social_services_commitment', 'moved_out', 'evicted', 'withdrawn', 'other', name='case_outcome', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_users.id'], name=op.f('fk_tasks_assignee_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_tasks_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['staff_users.id'], name=op.f('fk_tasks_closed_by_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_tasks_message_id_messages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tasks_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_tasks_dedupe_key'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tasks_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_tasks_inbox', ['status', 'priority', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('consent_disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('disclosed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('disclosed_by_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=200), nullable=False),
    sa.Column('data_categories', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_consent_disclosures_consent_id_consents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['disclosed_by_id'], ['staff_users.id'], name=op.f('fk_consent_disclosures_disclosed_by_id_staff_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_disclosures'))
    )
    with op.batch_alter_table('consent_disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_disclosures_consent_id'), ['consent_id'], unique=False)

    op.create_table('task_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], name=op.f('fk_task_notes_author_id_staff_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_notes_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_notes'))
    )
    with op.batch_alter_table('task_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_notes_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_notes_task_id'))

    op.drop_table('task_notes')
    with op.batch_alter_table('consent_disclosures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_disclosures_consent_id'))

    op.drop_table('consent_disclosures')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_tenant_id'))
        batch_op.drop_index('ix_tasks_inbox')
        batch_op.drop_index(batch_op.f('ix_tasks_case_id'))
        batch_op.drop_index(batch_op.f('ix_tasks_assignee_id'))

    op.drop_table('tasks')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_tenant_id'))
        batch_op.drop_index('ix_outbox_status_due')
        batch_op.drop_index(batch_op.f('ix_outbox_case_id'))

    op.drop_table('outbox')
    op.drop_table('inbound_receipts')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_tenant_id'))

    op.drop_table('consents')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_tenant_created')
        batch_op.drop_index(batch_op.f('ix_messages_contact_point_id'))
        batch_op.drop_index(batch_op.f('ix_messages_case_id'))

    op.drop_table('messages')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meetings_tenant_id'))

    op.drop_table('meetings')
    op.drop_table('conversation_states')
    with op.batch_alter_table('telegram_link_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telegram_link_codes_tenant_id'))

    op.drop_table('telegram_link_codes')
    with op.batch_alter_table('contact_points', schema=None) as batch_op:
        batch_op.drop_index('ix_contact_points_channel_address')

    op.drop_table('contact_points')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_tenant_id'))
        batch_op.drop_index('ix_cases_open')

    op.drop_table('cases')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tenants_municipality_id'))

    op.drop_table('tenants')
    with op.batch_alter_table('template_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_template_versions_lookup')

    op.drop_table('template_versions')
    with op.batch_alter_table('meeting_slots', schema=None) as batch_op:
        batch_op.drop_index('ix_meeting_slots_status_start')

    op.drop_table('meeting_slots')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_object')
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('staff_users')
    op.drop_table('municipalities')
