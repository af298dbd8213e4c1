"""outlook changes: each mailbox's calendarView delta link, what users did in Outlook, the account's choice

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outlook_checks',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('mailbox_id', sa.String(length=128), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('mid_round', sa.Boolean(), nullable=False),
    sa.Column('window_start', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('window_end', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('round_started_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('checked_at', bridge.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_outlook_checks_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'mailbox_id', name=op.f('pk_outlook_checks'))
    )
    op.create_index('ix_outlook_checks_checked', 'outlook_checks', ['checked_at'], unique=False)
    op.create_table('outlook_changes',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('seen_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('starts_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('ends_at', bridge.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_outlook_changes_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', 'event_id', 'session_id', name=op.f('pk_outlook_changes'))
    )
    op.create_table('outlook_settings',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('moved', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_outlook_settings_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_outlook_settings'))
    )


def downgrade() -> None:
    op.drop_table('outlook_settings')
    op.drop_table('outlook_changes')
    op.drop_index('ix_outlook_checks_checked', table_name='outlook_checks')
    op.drop_table('outlook_checks')
