"""Alembic environment: runs on the connection handed over by :func:`advisor.store.db.upgrade`.

Migrations are run by the application itself (``upgrade head`` on start, or
``advisor db upgrade``); there is no ``alembic.ini`` to configure by hand.
"""

from __future__ import annotations

from alembic import context

from advisor.store.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
