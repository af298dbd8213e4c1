"""removal holds: mass removals wait for the owner's confirmation; LMS users found by address

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('removal_holds',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('removals', sa.Integer(), nullable=False),
    sa.Column('future_entries', sa.Integer(), nullable=False),
    sa.Column('users', sa.Integer(), nullable=False),
    sa.Column('causes', sa.JSON(), nullable=False),
    sa.Column('held_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('confirmed_by', sa.String(length=128), nullable=True),
    sa.Column('confirmed_at', bridge.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_removal_holds_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_removal_holds'))
    )
    op.create_index('ix_lms_users_email', 'lms_users', ['account_id', sa.text('lower(email)')], unique=False)


def downgrade() -> None:
    op.drop_index('ix_lms_users_email', table_name='lms_users')
    op.drop_table('removal_holds')
