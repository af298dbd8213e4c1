"""host keys per account, and the signed request ids already served

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('host_keys',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('sealed', sa.Text(), nullable=False),
    sa.Column('created_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', bridge.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_host_keys'))
    )
    op.create_index(op.f('ix_host_keys_account_id'), 'host_keys', ['account_id'], unique=False)
    op.create_table('used_requests',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('expires_at', bridge.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'id', name=op.f('pk_used_requests'))
    )
    op.create_index(op.f('ix_used_requests_expires_at'), 'used_requests', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_used_requests_expires_at'), table_name='used_requests')
    op.drop_table('used_requests')
    op.drop_index(op.f('ix_host_keys_account_id'), table_name='host_keys')
    op.drop_table('host_keys')
