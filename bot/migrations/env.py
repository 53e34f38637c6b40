"""Alembic environment: runs the migrations on the connection :func:`bot.db.migrate` passes."""

from alembic import context

from bot.db import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
