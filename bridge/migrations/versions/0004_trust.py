"""trust: the audit log, credential checks, latency samples, the preview before connecting

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('credential_checks',
    sa.Column('slot', sa.String(length=16), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('ok_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('failed_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('code', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('slot', name=op.f('pk_credential_checks'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_audit_log_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_account_at', ['account_id', 'at'], unique=False)

    op.create_table('latency_samples',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('settled_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_latency_samples_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_latency_samples'))
    )
    with op.batch_alter_table('latency_samples', schema=None) as batch_op:
        batch_op.create_index('ix_latency_samples_account_at', ['account_id', 'settled_at'], unique=False)

    op.create_table('preview_jobs',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_by', sa.String(length=128), nullable=True),
    sa.Column('started_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('finished_at', bridge.models.UTCDateTime(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_preview_jobs_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_preview_jobs'))
    )
    op.create_table('preview_users',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('entries', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_preview_users_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', name=op.f('pk_preview_users'))
    )


def downgrade() -> None:
    op.drop_table('preview_users')
    op.drop_table('preview_jobs')
    with op.batch_alter_table('latency_samples', schema=None) as batch_op:
        batch_op.drop_index('ix_latency_samples_account_at')

    op.drop_table('latency_samples')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_account_at')

    op.drop_table('audit_log')
    op.drop_table('credential_checks')
