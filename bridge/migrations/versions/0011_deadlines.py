"""deadlines: the LMS's deadlines, each learner's due time and done, the account's deadline setting,
and how many of a preview line's entries are deadlines

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('lms_deadlines',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=2048), nullable=True),
    sa.Column('due', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_lms_deadlines_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'id', name=op.f('pk_lms_deadlines'))
    )
    op.create_table('lms_learner_deadlines',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('deadline_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('due', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                            name=op.f('fk_lms_learner_deadlines_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'deadline_id', 'user_id', name=op.f('pk_lms_learner_deadlines'))
    )
    op.create_index('ix_lms_learner_deadlines_user', 'lms_learner_deadlines', ['account_id', 'user_id'],
                    unique=False)
    op.create_table('deadline_settings',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('offered', sa.Boolean(), nullable=False),
    sa.Column('reminder_minutes', sa.Integer(), nullable=True),
    sa.Column('when_done', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_deadline_settings_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_deadline_settings'))
    )
    with op.batch_alter_table('preview_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadlines', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('preview_users', schema=None) as batch_op:
        batch_op.drop_column('deadlines')
    op.drop_table('deadline_settings')
    op.drop_index('ix_lms_learner_deadlines_user', table_name='lms_learner_deadlines')
    op.drop_table('lms_learner_deadlines')
    op.drop_table('lms_deadlines')
