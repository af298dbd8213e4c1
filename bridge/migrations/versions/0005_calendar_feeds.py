"""calendar feeds: per-account setting, hashed feed tokens, the items each feed has listed

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import bridge.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('feed_settings',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_feed_settings_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_feed_settings'))
    )
    op.create_table('feed_tokens',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('etag', sa.String(length=64), nullable=True),
    sa.Column('valid_until', bridge.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_feed_tokens_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', name=op.f('pk_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_feed_tokens_token_hash'))
    )
    op.create_table('feed_items',
    sa.Column('account_id', sa.String(length=128), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('event_id', sa.String(length=128), nullable=False),
    sa.Column('session_id', sa.String(length=128), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('payload_hash', sa.String(length=64), nullable=False),
    sa.Column('cancelled', sa.Boolean(), nullable=False),
    sa.Column('summary', sa.String(length=1100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('starts_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('ends_at', bridge.models.UTCDateTime(), nullable=False),
    sa.Column('changed_at', bridge.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_feed_items_account_id_accounts')),
    sa.PrimaryKeyConstraint('account_id', 'user_id', 'event_id', 'session_id', name=op.f('pk_feed_items'))
    )


def downgrade() -> None:
    op.drop_table('feed_items')
    op.drop_table('feed_tokens')
    op.drop_table('feed_settings')
