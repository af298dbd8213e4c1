"""initial schema

Revision ID: 0001
Revises: -
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('created_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('reminder_minutes', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts'))
    )
    op.create_table('connections',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=128), nullable=True),
    sa.Column('requested_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('consent_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('connected_by', sa.String(length=128), nullable=True),
    sa.Column('connected_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('retry_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('verified_domains', sa.JSON(), nullable=True),
    sa.Column('domains_checked_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('full_reconcile_at', bridge.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_connections_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_connections'))
    )
    op.create_table('consent_requests',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('used_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('tenant_id', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_consent_requests_account_id_accounts')),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_consent_requests'))
    )
    with op.batch_alter_table('consent_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_requests_account_id'), ['account_id'], unique=False)

    op.create_table('deliveries',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('received_at', bridge.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_deliveries_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'id', name=op.f('pk_deliveries'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_received_at'), ['received_at'], unique=False)

    op.create_table('directory_cache',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('graph_user_id', sa.String(length=128), nullable=True),
    sa.Column('expires_at', bridge.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_directory_cache_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'tenant_id', 'address', name=op.f('pk_directory_cache'))
    )
    op.create_table('dirty_keys',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('due_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_dirty_keys_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', name=op.f('pk_dirty_keys'))
    )
    with op.batch_alter_table('dirty_keys', schema=None) as batch_op:
        batch_op.create_index('ix_dirty_keys_due', ['due_at'], unique=False)

    op.create_table('entries',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('mailbox_id', sa.String(length=128), nullable=False),
    sa.Column('graph_event_id', sa.String(length=512), nullable=True),
    sa.Column('transaction_id', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=True),
    sa.Column('material_hash', sa.String(length=64), nullable=True),
    sa.Column('starts_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('ends_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', bridge.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_entries_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', 'event_id', 'session_id', name=op.f('pk_entries'))
    )
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.create_index('ix_entries_event', ['account_id', 'event_id'], unique=False)

    op.create_table('lms_enrollments',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lms_enrollments_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'event_id', 'user_id', name=op.f('pk_lms_enrollments'))
    )
    with op.batch_alter_table('lms_enrollments', schema=None) as batch_op:
        batch_op.create_index('ix_lms_enrollments_user', ['account_id', 'user_id'], unique=False)

    op.create_table('lms_events',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('organizer_id', sa.String(length=128), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('location', sa.String(length=512), nullable=True),
    sa.Column('online_url', sa.String(length=2048), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lms_events_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'id', name=op.f('pk_lms_events'))
    )
    with op.batch_alter_table('lms_events', schema=None) as batch_op:
        batch_op.create_index('ix_lms_events_organizer', ['account_id', 'organizer_id'], unique=False)

    op.create_table('lms_sessions',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('start', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('end', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('location', sa.String(length=512), nullable=True),
    sa.Column('online_url', sa.String(length=2048), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lms_sessions_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'event_id', 'id', name=op.f('pk_lms_sessions'))
    )
    op.create_table('lms_users',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lms_users_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'id', name=op.f('pk_lms_users'))
    )
    op.create_table('user_states',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('changed_at', bridge.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_user_states_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', name=op.f('pk_user_states'))
    )
    with op.batch_alter_table('user_states', schema=None) as batch_op:
        batch_op.create_index('ix_user_states_state', ['account_id', 'state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('user_states', schema=None) as batch_op:
        batch_op.drop_index('ix_user_states_state')

    op.drop_table('user_states')
    op.drop_table('lms_users')
    op.drop_table('lms_sessions')
    with op.batch_alter_table('lms_events', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_events_organizer')

    op.drop_table('lms_events')
    with op.batch_alter_table('lms_enrollments', schema=None) as batch_op:
        batch_op.drop_index('ix_lms_enrollments_user')

    op.drop_table('lms_enrollments')
    with op.batch_alter_table('entries', schema=None) as batch_op:
        batch_op.drop_index('ix_entries_event')

    op.drop_table('entries')
    with op.batch_alter_table('dirty_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_dirty_keys_due')

    op.drop_table('dirty_keys')
    op.drop_table('directory_cache')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_received_at'))

    op.drop_table('deliveries')
    with op.batch_alter_table('consent_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_requests_account_id'))

    op.drop_table('consent_requests')
    op.drop_table('connections')
    op.drop_table('accounts')
