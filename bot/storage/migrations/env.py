"""Alembic environment: runs the migrations on the connection that
:func:`bot.storage.database.migrate` passes."""

from alembic import context

from bot.storage.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
