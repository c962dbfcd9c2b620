"""The first schema that shipped (commit 36b112b).

Units, instruments, usage, service records, vouchers, purchase requests and review decisions,
evaluations, scenarios, submissions, audit trail, reference data tables, store metadata.

Frozen: written out table by table rather than from the models, so that later changes to
models/tables.py never change what this revision creates. Names of tables, columns, indexes and
constraints are those `SQLModel.metadata.create_all` gave the stores made before migrations.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auditentry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('entity', sa.String(length=64), nullable=False),
        sa.Column('entity_key', sa.String(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('before_json', sa.Text(), nullable=False),
        sa.Column('after_json', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_auditentry_at', 'auditentry', ['at'], unique=False)

    op.create_table('indicatorscheme',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('definition_json', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )

    op.create_table('instrumentclass',
        sa.Column('code', sa.String(length=6), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('name_zh', sa.String(), nullable=False),
        sa.Column('name_en', sa.String(), nullable=False),
        sa.Column('purpose', sa.String(length=8), nullable=False),
        sa.Column('parent', sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint('code')
    )

    op.create_table('region',
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('name_zh', sa.String(), nullable=False),
        sa.Column('name_en', sa.String(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('seat_zh', sa.String(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=False),
        sa.Column('lon', sa.Float(), nullable=False),
        sa.Column('coordinate_quality', sa.String(), nullable=False),
        sa.Column('within', sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint('code')
    )

    op.create_table('scenario',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('params_json', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_by', sa.String(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )

    op.create_table('storemeta',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('key')
    )

    op.create_table('voucher',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('firm_name', sa.String(length=200), nullable=False),
        sa.Column('firm_region_code', sa.String(length=16), nullable=False),
        sa.Column('is_sme', sa.Boolean(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('quota_cny', sa.Float(), nullable=False),
        sa.Column('issued_date', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code')
    )

    op.create_table('publishedevaluation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('scheme_id', sa.Integer(), nullable=True),
        sa.Column('snapshot_json', sa.Text(), nullable=False),
        sa.Column('fingerprint', sa.String(length=128), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['scheme_id'], ['indicatorscheme.id'], ),
        sa.PrimaryKeyConstraint('id')
    )

    op.create_table('unit',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('name_en', sa.String(), nullable=False),
        sa.Column('unit_type', sa.String(length=16), nullable=False),
        sa.Column('region_code', sa.String(length=16), nullable=False),
        sa.Column('address', sa.Text(), nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('credit_code', sa.String(length=32), nullable=False),
        sa.Column('contact', sa.String(), nullable=False),
        sa.Column('phone', sa.String(), nullable=False),
        sa.Column('email', sa.String(), nullable=False),
        sa.Column('is_sme', sa.Boolean(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_unit_name', 'unit', ['name'], unique=True)

    op.create_table('instrument',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('inner_id', sa.String(length=64), nullable=False),
        sa.Column('name_zh', sa.String(), nullable=False),
        sa.Column('name_en', sa.String(), nullable=False),
        sa.Column('affiliate', sa.String(), nullable=False),
        sa.Column('class_code', sa.String(length=6), nullable=False),
        sa.Column('original_value', sa.Float(), nullable=False),
        sa.Column('source', sa.String(), nullable=False),
        sa.Column('funding', sa.String(), nullable=False),
        sa.Column('country', sa.String(), nullable=False),
        sa.Column('manufacturer', sa.String(), nullable=False),
        sa.Column('model', sa.String(), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=True),
        sa.Column('purpose', sa.String(length=4), nullable=False),
        sa.Column('technical_specs', sa.Text(), nullable=False),
        sa.Column('functions', sa.Text(), nullable=False),
        sa.Column('disciplines', sa.String(), nullable=False),
        sa.Column('service_content', sa.Text(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('sharing_rules', sa.Text(), nullable=False),
        sa.Column('fee_standard', sa.Text(), nullable=False),
        sa.Column('booking_url', sa.String(), nullable=False),
        sa.Column('address', sa.Text(), nullable=False),
        sa.Column('share_mode', sa.String(), nullable=False),
        sa.Column('annual_run_hours', sa.Float(), nullable=True),
        sa.Column('annual_service_hours', sa.Float(), nullable=True),
        sa.Column('customs_supervised', sa.String(), nullable=False),
        sa.Column('contact', sa.String(), nullable=False),
        sa.Column('phone', sa.String(), nullable=False),
        sa.Column('email', sa.String(), nullable=False),
        sa.Column('region_code', sa.String(length=16), nullable=False),
        sa.Column('exempt_reason', sa.String(), nullable=False),
        sa.Column('operation_mode', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('unit_id', 'inner_id', name='uq_instrument_unit_inner')
    )
    op.create_index('ix_instrument_class_code', 'instrument', ['class_code'], unique=False)
    op.create_index('ix_instrument_unit_id', 'instrument', ['unit_id'], unique=False)

    op.create_table('purchaserequest',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_no', sa.String(length=32), nullable=False),
        sa.Column('applicant_unit_id', sa.Integer(), nullable=False),
        sa.Column('instrument_name', sa.String(), nullable=False),
        sa.Column('class_code', sa.String(length=6), nullable=False),
        sa.Column('model', sa.String(), nullable=False),
        sa.Column('manufacturer', sa.String(), nullable=False),
        sa.Column('key_specs', sa.Text(), nullable=False),
        sa.Column('quoted_price', sa.Float(), nullable=False),
        sa.Column('quotes', sa.Text(), nullable=False),
        sa.Column('funding', sa.String(), nullable=False),
        sa.Column('justification', sa.Text(), nullable=False),
        sa.Column('expected_annual_hours', sa.Float(), nullable=False),
        sa.Column('region_code', sa.String(length=16), nullable=False),
        sa.Column('submitted_date', sa.Date(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.ForeignKeyConstraint(['applicant_unit_id'], ['unit.id'], ),
        sa.ForeignKeyConstraint(['region_code'], ['region.code'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_no')
    )
    op.create_index('ix_purchaserequest_applicant_unit_id', 'purchaserequest', ['applicant_unit_id'], unique=False)

    op.create_table('submission',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=True),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_submission_unit_id', 'submission', ['unit_id'], unique=False)

    op.create_table('reviewdecision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=False),
        sa.Column('verdict', sa.String(length=8), nullable=False),
        sa.Column('reasons', sa.Text(), nullable=False),
        sa.Column('conditions', sa.Text(), nullable=False),
        sa.Column('reviewers', sa.String(), nullable=False),
        sa.Column('decided_date', sa.Date(), nullable=False),
        sa.Column('supersedes_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['request_id'], ['purchaserequest.id'], ),
        sa.ForeignKeyConstraint(['supersedes_id'], ['reviewdecision.id'], ),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_reviewdecision_request_id', 'reviewdecision', ['request_id'], unique=False)

    op.create_table('servicerecord',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('service_amount_cny', sa.Float(), nullable=False),
        sa.Column('start_time', sa.DateTime(), nullable=False),
        sa.Column('end_time', sa.DateTime(), nullable=False),
        sa.Column('service_content', sa.Text(), nullable=False),
        sa.Column('service_way', sa.String(), nullable=False),
        sa.Column('service_quantity', sa.Float(), nullable=False),
        sa.Column('project_name', sa.String(), nullable=False),
        sa.Column('project_funding', sa.String(), nullable=False),
        sa.Column('applicant', sa.String(), nullable=False),
        sa.Column('applicant_unit', sa.String(length=200), nullable=False),
        sa.Column('user_type', sa.String(), nullable=False),
        sa.Column('direction', sa.String(), nullable=False),
        sa.Column('rating', sa.String(), nullable=False),
        sa.Column('client_region_code', sa.String(length=16), nullable=False),
        sa.Column('client_kind', sa.String(), nullable=False),
        sa.Column('voucher_amount_cny', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instrument_id', 'start_time', 'applicant_unit', name='uq_service_key')
    )
    op.create_index('ix_servicerecord_instrument_id', 'servicerecord', ['instrument_id'], unique=False)

    op.create_table('usagemonthly',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('effective_hours', sa.Float(), nullable=False),
        sa.Column('external_hours', sa.Float(), nullable=False),
        sa.Column('samples', sa.Integer(), nullable=False),
        sa.Column('downtime_hours', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instrument.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('instrument_id', 'year', 'month', name='uq_usage_month')
    )
    op.create_index('ix_usagemonthly_instrument_id', 'usagemonthly', ['instrument_id'], unique=False)
    op.create_index('ix_usagemonthly_year', 'usagemonthly', ['year'], unique=False)

    op.create_table('redemption',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('voucher_id', sa.Integer(), nullable=False),
        sa.Column('service_record_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('amount_cny', sa.Float(), nullable=False),
        sa.Column('redeemed_date', sa.Date(), nullable=False),
        sa.Column('subsidy_cny', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['service_record_id'], ['servicerecord.id'], ),
        sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], ),
        sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('service_record_id')
    )
    op.create_index('ix_redemption_unit_id', 'redemption', ['unit_id'], unique=False)
    op.create_index('ix_redemption_voucher_id', 'redemption', ['voucher_id'], unique=False)


def downgrade() -> None:
    for table in (
        "redemption", "usagemonthly", "servicerecord", "reviewdecision", "submission",
        "purchaserequest", "instrument", "unit", "publishedevaluation", "voucher", "storemeta",
        "scenario", "region", "instrumentclass", "indicatorscheme", "auditentry",
    ):
        op.drop_table(table)  # its indexes go with it
