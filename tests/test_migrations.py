"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import workflow.models  # noqa: F401  (registers the tables)
from workflow.database import migrate


def test_migrations_match_the_models(db: sa.Engine) -> None:
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == [], "models changed without a migration: " + repr(differences)


def test_migrating_twice_changes_nothing(db: sa.Engine) -> None:
    migrate(db)
    with db.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(versions) == 1
