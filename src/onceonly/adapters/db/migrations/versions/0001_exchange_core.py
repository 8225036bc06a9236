"""exchange core

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from onceonly.adapters.db.tables import UTCDateTime

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=True),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('org_id', sa.String(length=64), nullable=True),
    sa.Column('agreement_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.String(length=64), nullable=True),
    sa.Column('purpose', sa.String(length=64), nullable=True),
    sa.Column('person_key', sa.String(length=64), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('values_hash', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_person_key'), ['person_key'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations'))
    )
    op.create_table('identifier_schemes',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['organisations.id'], name=op.f('fk_identifier_schemes_issuer_id_organisations')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_identifier_schemes'))
    )
    op.create_table('principals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_principals_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_principals'))
    )
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('private_jwk', sa.JSON(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_signing_keys_org_id_organisations')),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_keys'))
    )
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_keys_org_id'), ['org_id'], unique=False)

    op.create_table('systems',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_systems_org_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_systems'))
    )
    op.create_table('api_tokens',
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('principal_id', sa.String(length=64), nullable=False),
    sa.Column('issued_at', UTCDateTime(), nullable=False),
    sa.Column('expires_at', UTCDateTime(), nullable=False),
    sa.Column('revoked_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['principal_id'], ['principals.id'], name=op.f('fk_api_tokens_principal_id_principals')),
    sa.PrimaryKeyConstraint('digest', name=op.f('pk_api_tokens'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_principal_id'), ['principal_id'], unique=False)

    op.create_table('datasets',
    sa.Column('id', sa.String(length=100), nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('subject_scheme', sa.String(length=32), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('connector', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['id'], ['systems.id'], name=op.f('fk_datasets_id_systems')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'], name=op.f('fk_datasets_provider_id_organisations')),
    sa.ForeignKeyConstraint(['subject_scheme'], ['identifier_schemes.code'], name=op.f('fk_datasets_subject_scheme_identifier_schemes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_datasets'))
    )
    op.create_table('organisation_schemes',
    sa.Column('org_id', sa.String(length=64), nullable=False),
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], name=op.f('fk_organisation_schemes_org_id_organisations')),
    sa.ForeignKeyConstraint(['scheme'], ['identifier_schemes.code'], name=op.f('fk_organisation_schemes_scheme_identifier_schemes')),
    sa.PrimaryKeyConstraint('org_id', 'scheme', name=op.f('pk_organisation_schemes'))
    )
    op.create_table('person_links',
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=64), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['scheme'], ['identifier_schemes.code'], name=op.f('fk_person_links_scheme_identifier_schemes')),
    sa.PrimaryKeyConstraint('scheme', 'value', name=op.f('pk_person_links'))
    )
    with op.batch_alter_table('person_links', schema=None) as batch_op:
        batch_op.create_index('ix_person_links_person', ['person_key', 'scheme'], unique=False)

    op.create_table('agreements',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('provider_id', sa.String(length=64), nullable=False),
    sa.Column('consumer_id', sa.String(length=64), nullable=False),
    sa.Column('dataset_id', sa.String(length=100), nullable=False),
    sa.Column('grants', sa.JSON(), nullable=False),
    sa.Column('purpose_code', sa.String(length=64), nullable=False),
    sa.Column('purpose_text', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.String(length=32), nullable=False),
    sa.Column('valid_from', UTCDateTime(), nullable=False),
    sa.Column('valid_until', UTCDateTime(), nullable=False),
    sa.Column('max_queries_per_day', sa.Integer(), nullable=False),
    sa.Column('retention_days', sa.Integer(), nullable=False),
    sa.Column('assessment', sa.JSON(), nullable=True),
    sa.Column('special_category', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('approvals', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consumer_id'], ['organisations.id'], name=op.f('fk_agreements_consumer_id_organisations')),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_agreements_dataset_id_datasets')),
    sa.ForeignKeyConstraint(['provider_id'], ['organisations.id'], name=op.f('fk_agreements_provider_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements'))
    )
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreements_consumer_id'), ['consumer_id'], unique=False)
        batch_op.create_index('ix_agreements_provider', ['provider_id'], unique=False)

    op.create_table('agreement_transitions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=False),
    sa.Column('actor_org', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_transitions_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_transitions'))
    )
    with op.batch_alter_table('agreement_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_transitions_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('query_usage',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_query_usage_agreement_id_agreements')),
    sa.PrimaryKeyConstraint('agreement_id', 'day', name=op.f('pk_query_usage'))
    )

    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    """The audit log only grows: the database itself refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
            "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_table('query_usage')
    with op.batch_alter_table('agreement_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_transitions_agreement_id'))

    op.drop_table('agreement_transitions')
    with op.batch_alter_table('agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_agreements_provider')
        batch_op.drop_index(batch_op.f('ix_agreements_consumer_id'))

    op.drop_table('agreements')
    with op.batch_alter_table('person_links', schema=None) as batch_op:
        batch_op.drop_index('ix_person_links_person')

    op.drop_table('person_links')
    op.drop_table('organisation_schemes')
    op.drop_table('datasets')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_principal_id'))

    op.drop_table('api_tokens')
    op.drop_table('systems')
    with op.batch_alter_table('signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signing_keys_org_id'))

    op.drop_table('signing_keys')
    op.drop_table('principals')
    op.drop_table('identifier_schemes')
    op.drop_table('organisations')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_person_key'))
        batch_op.drop_index(batch_op.f('ix_audit_log_agreement_id'))

    op.drop_table('audit_log')
