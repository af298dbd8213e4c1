"""dirty key lanes: fresh LMS changes (0) are claimed before bulk work (1), accounts taking turns

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dirty_keys') as batch:
        batch.add_column(sa.Column('lane', sa.SmallInteger(), server_default='0', nullable=False))
    op.create_index('ix_dirty_keys_turns', 'dirty_keys', ['account_id', 'lane', 'due_at'], unique=False)
    op.create_index('ix_dirty_keys_held', 'dirty_keys', ['account_id', 'claimed_until'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dirty_keys_held', table_name='dirty_keys')
    op.drop_index('ix_dirty_keys_turns', table_name='dirty_keys')
    with op.batch_alter_table('dirty_keys') as batch:
        batch.drop_column('lane')
