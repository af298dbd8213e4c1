"""mailbox pauses: Graph's throttling held per mailbox, tenant or app, across passes and workers

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mailbox_pauses',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('until', bridge.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'mailbox', name=op.f('pk_mailbox_pauses'))
    )


def downgrade() -> None:
    op.drop_table('mailbox_pauses')
