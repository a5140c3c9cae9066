"""Alembic runs against the engine arbot hands it, never one built from an ini file."""

from alembic import context

import db.bank_models  # noqa: F401  (its tables join Base.metadata)
from db.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
