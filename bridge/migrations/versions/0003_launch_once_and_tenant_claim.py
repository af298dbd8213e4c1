"""launch tokens used once; a consent answer's tenant kept as a claim until proven

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('used_launches',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('expires_at', bridge.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_used_launches'))
    )
    with op.batch_alter_table('used_launches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_launches_expires_at'), ['expires_at'], unique=False)
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_tenant_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('connections', schema=None) as batch_op:
        batch_op.drop_column('claimed_tenant_id')
    with op.batch_alter_table('used_launches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_launches_expires_at'))
    op.drop_table('used_launches')
