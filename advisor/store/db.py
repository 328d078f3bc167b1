"""Engine and session set-up, and migrations run on start under a lock.

SQLite (the default, a file in the instance folder) gets WAL journalling, foreign keys, a
busy timeout and ``synchronous=FULL`` (an acknowledged flag write survives even a power
cut, and flag writes are rare enough to afford it). PostgreSQL is used when the settings
name it. Migrations run ``upgrade head`` on every start; several gunicorn workers starting
at once serialise on a PostgreSQL advisory lock or an exclusive file lock next to the
SQLite file, so exactly one of them migrates and the others find the schema current.
"""

from __future__ import annotations

import fcntl
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, SQLAlchemyError

from advisor.errors import ConfigError, StoreUnavailable

__all__ = ["current_revision", "head_revision", "make_engine", "upgrade"]

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed 64-bit number unique to this application; all workers agree on it.
_PG_LOCK_KEY = 0x61647669736F72  # "advisor"


def make_engine(url: str) -> Engine:
    """An engine for *url*; SQLite gets WAL, foreign keys and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise ConfigError(
            f"database URL {url!r} is not valid: {err}", field="database_url"
        ) from err
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # A bounded connect: an unreachable server must fail a flag refresh in seconds, not
    # hang requests (the URL may set its own ``?connect_timeout=``).
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 5}
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args
    )


def _sqlite_engine(url) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        # Writers BEGIN IMMEDIATE: they take the write lock up front and queue on the busy
        # timeout, instead of failing with "database is locked" when a read transaction
        # tries to upgrade to a write. Readers BEGIN DEFERRED and never block (WAL).
        if conn.get_execution_options().get("advisor_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _alembic_config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with the package."""
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, lock_path: Path | None = None) -> str:
    """Run ``alembic upgrade head`` once, safely when several processes start together.

    Returns the revision the database is at afterwards. Raises :class:`StoreUnavailable`
    when the database cannot be reached.
    """
    try:
        with _migration_lock(engine, lock_path):
            if current_revision(engine) == head_revision():
                return head_revision()
            with engine.begin() as conn:
                command.upgrade(_alembic_config(conn), "head")
            log.info("database migrated to %s", head_revision())
            return head_revision()
    except SQLAlchemyError as err:
        raise store_failure("migrating the flag store", err) from err


def store_failure(doing: str, err: Exception) -> StoreUnavailable:
    """A :class:`StoreUnavailable` for a driver error, without its text.

    Driver messages carry host names, ports, user names and bytes from the wire; they go to
    the log (for the operator of the server), while clients only learn the kind of error.
    """
    original = getattr(err, "orig", None) or err
    log.error("store failure while %s: %s", doing, str(original).replace("\x00", "\\x00"))
    return StoreUnavailable(
        f"the flag store is not answering ({doing}: {type(original).__name__}); "
        "try again shortly",
        extra={"error_kind": type(original).__name__},
    )


def translated(doing: str):
    """A decorator for store methods: driver failures (server gone, disk full, locked too
    long) become :func:`store_failure` naming *doing*; integrity errors pass through for the
    caller to answer (a concurrent writer won)."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except IntegrityError:
                raise
            except DBAPIError as err:
                raise store_failure(doing, err) from err

        return wrapper

    return decorate


@contextmanager
def _migration_lock(engine: Engine, lock_path: Path | None) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    path = lock_path or _sqlite_lock_path(engine)
    if path is None:  # in-memory database: one process by definition
        yield
        return
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _sqlite_lock_path(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate.lock")
