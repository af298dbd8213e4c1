"""access grants: per account, whole organisation or only the LMS's people (RBAC for Applications)

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_grants',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('grant', sa.String(length=32), nullable=False),
    sa.Column('scope_group', sa.String(length=256), nullable=True),
    sa.Column('broad_grant_seen_at', bridge.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_access_grants_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_access_grants'))
    )


def downgrade() -> None:
    op.drop_table('access_grants')
