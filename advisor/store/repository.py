"""The flag store: every SQL statement of the service lives here.

A :class:`Store` wraps one engine. Writes run in one transaction each and add their audit
entry in that same transaction, so the audit log can never disagree with the data. Flag
edits never update a version in place: they add a ``flag_versions`` row and move the
``flags`` head forward with a conditional UPDATE (``WHERE current_version = expected``),
which is the optimistic-concurrency check on every backend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from advisor.errors import Conflict, InvalidFlag, NotFound
from advisor.risk.model import Flag, FlagStatus, utcnow
from advisor.risk.parse import flag_from_dict, flag_to_dict
from advisor.store.db import translated
from advisor.store.records import AuditEntry, Role, Token, User, WarMapVersion
from advisor.store.tables import (
    AuditRow,
    AuthFailureRow,
    FlagRow,
    FlagVersionRow,
    TokenRow,
    UserRow,
    WarMapRow,
)
from advisor.text import replace_unreadable

__all__ = ["PublishedFlags", "Store"]

log = logging.getLogger(__name__)


_translated = translated("reading or writing flags")


class PublishedFlags(NamedTuple):
    """What :meth:`Store.read_published_flags` read: ``flags`` and ``war_map`` are None when
    the stamp had not moved."""

    stamp: int
    flags: list[Flag] | None
    war_map: WarMapVersion | None


class Store:
    """Repository over one database. Build with ``Store(make_engine(url))``."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(advisor_write=True), expire_on_commit=False
        )

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @_translated
    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` unless the database answers."""
        with self._read() as session:
            session.execute(select(1))

    # --- flags -------------------------------------------------------------------------

    @_translated
    def flags_stamp(self) -> int:
        """A number that grows with every flag write and every war map import or rollback
        (the sum of current flag versions plus the highest map activation)."""
        with self._read() as session:
            return _flags_stamp(session)

    @_translated
    def read_published_flags(self, known_stamp: int | None = None) -> PublishedFlags:
        """The flags stamp and, unless it equals *known_stamp*, every published flag and the
        war map in force, read in one transaction.

        Routing's refresh: after a change message every worker asks at once, under load,
        and each round trip then waits for a busy process to be scheduled again; one
        transaction (one pool check-out, one ``BEGIN``) instead of three keeps that short.
        """
        with self._read() as session:
            stamp = _flags_stamp(session)
            if stamp == known_stamp:
                return PublishedFlags(stamp, None, None)
            flags = [_flag(row) for row in session.scalars(_flags_query(FlagStatus.PUBLISHED))]
            row = _active_war_map_row(session)
            return PublishedFlags(stamp, flags, _war_map(row, True) if row is not None else None)

    @_translated
    def add_flag(self, flag: Flag, *, actor: str, address: str = "", action="flag.create") -> Flag:
        """Store a new flag as version 1; raises :class:`Conflict` if its id is taken."""
        now = utcnow()
        flag = replace(flag, version=1, updated_at=now, published_at=_published_at(flag, None, now))
        try:
            with self._write.begin() as session:
                if session.get(FlagRow, flag.id) is not None:
                    raise Conflict(f"a flag with id {flag.id!r} exists", field="id", value=flag.id)
                session.add(
                    FlagRow(
                        id=flag.id,
                        current_version=1,
                        status=flag.status.value,
                        baseline=flag.baseline,
                        created_at=now,
                        updated_at=now,
                    )
                )
                session.flush()
                session.add(_version_row(flag, action, now))
                audit_row(session, now, actor, address, action, "flag", flag.id, None, flag)
        except IntegrityError as err:  # a concurrent create with the same id won the race
            raise Conflict(f"a flag with id {flag.id!r} exists", field="id", value=flag.id) from err
        return flag

    @_translated
    def change_flag(
        self,
        flag_id: str,
        expected_version: int,
        change: Callable[[Flag], Flag],
        *,
        actor: str,
        address: str = "",
        action: str,
        note: str = "",
    ) -> Flag:
        """Apply *change* to the current version and store the result as the next version
        (*note*, e.g. why a flag was withdrawn, goes to the audit entry).

        Raises :class:`NotFound`, or :class:`Conflict` (carrying ``current_version``) when
        *expected_version* is not the current one. *change* may raise to refuse the edit.
        """
        try:
            return self._change_flag(
                flag_id, expected_version, change, actor, address, action, note
            )
        except IntegrityError as err:  # a concurrent writer added this version first
            _check_version(self.get_flag(flag_id), expected_version)
            raise Conflict(f"flag {flag_id!r} changed concurrently; reload it") from err

    def _change_flag(self, flag_id, expected_version, change, actor, address, action, note):
        now = utcnow()
        with self._write.begin() as session:
            current = _current_flag(session, flag_id)
            _check_version(current, expected_version)
            new = change(current)
            new = replace(
                new,
                id=flag_id,
                version=current.version + 1,
                updated_at=now,
                baseline=current.baseline,
                published_at=_published_at(new, current, now),
            )
            moved = session.execute(
                update(FlagRow)
                .where(FlagRow.id == flag_id, FlagRow.current_version == current.version)
                .values(current_version=new.version, status=new.status.value, updated_at=now)
            ).rowcount
            if moved != 1:  # another writer moved the head between our read and write
                session.expire_all()  # re-read the head, not the cached row
                _check_version(_current_flag(session, flag_id), expected_version)
                raise Conflict(f"flag {flag_id!r} changed concurrently; reload it")
            session.add(_version_row(new, action, now))
            audit_row(session, now, actor, address, action, "flag", flag_id, current, new, note)
        return new

    @_translated
    def find_flag(self, flag_id: str, version: int | None = None) -> Flag | None:
        """The current (or a given) version of a flag, or None."""
        with self._read() as session:
            if version is None:
                head = session.get(FlagRow, flag_id)
                if head is None:
                    return None
                version = head.current_version
            row = session.get(FlagVersionRow, (flag_id, version))
            return None if row is None else _flag(row)

    def get_flag(self, flag_id: str, version: int | None = None) -> Flag:
        """Like :meth:`find_flag` but raises :class:`NotFound`."""
        flag = self.find_flag(flag_id, version)
        if flag is None:
            what = f"flag {flag_id!r}" + ("" if version is None else f" version {version}")
            raise NotFound(f"no {what}", field="id", value=flag_id)
        return flag

    @_translated
    def list_flags(self, status: FlagStatus | None = None) -> list[Flag]:
        """The current version of every flag (optionally of one status), newest change first."""
        with self._read() as session:
            return [_flag(row) for row in session.scalars(_flags_query(status))]

    @_translated
    def list_flag_versions(self, flag_id: str) -> list[Flag]:
        """Every version of a flag, oldest first; raises :class:`NotFound`."""
        query = (
            select(FlagVersionRow)
            .where(FlagVersionRow.flag_id == flag_id)
            .order_by(FlagVersionRow.version)
        )
        with self._read() as session:
            rows = list(session.scalars(query))
        if not rows:
            raise NotFound(f"no flag {flag_id!r}", field="id", value=flag_id)
        return [_flag(row) for row in rows]

    @_translated
    def find_flags(self, flag_ids) -> dict[str, Flag]:
        """The current version of each of *flag_ids* that exists, by id (one query)."""
        query = select(FlagVersionRow).join(
            FlagRow,
            (FlagRow.id == FlagVersionRow.flag_id)
            & (FlagRow.current_version == FlagVersionRow.version),
        ).where(FlagRow.id.in_(list(flag_ids)))
        with self._read() as session:
            return {row.flag_id: _flag(row) for row in session.scalars(query)}

    @_translated
    def find_flag_ids(self, flag_ids) -> set[str]:
        """Which of *flag_ids* exist."""
        with self._read() as session:
            return set(session.scalars(select(FlagRow.id).where(FlagRow.id.in_(list(flag_ids)))))

    # --- accounts ----------------------------------------------------------------------

    @_translated
    def add_user(
        self, username: str, password_hash: str, role: Role, *, actor: str, address: str = ""
    ) -> User:
        """Create an account; raises :class:`Conflict` if the name is taken."""
        now = utcnow()
        try:
            with self._write.begin() as session:
                row = UserRow(
                    username=username,
                    password_hash=password_hash,
                    role=Role(role).value,
                    active=True,
                    created_at=now,
                )
                session.add(row)
                session.flush()
                user = _user(row)
                audit_row(session, now, actor, address, "user.create", "user", username, None, user)
        except IntegrityError as err:
            raise Conflict(
                f"an account named {username!r} exists", field="username", value=username
            ) from err
        return user

    @_translated
    def change_user(
        self, username: str, *, actor: str, address: str = "", note: str = "", **values
    ) -> User:
        """Change an account's ``role``, ``active`` or ``password_hash``; audited."""
        now = utcnow()
        with self._write.begin() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            if row is None:
                raise NotFound(f"no account named {username!r}", field="username", value=username)
            before = _user(row)
            for name, value in values.items():
                setattr(row, name, value.value if isinstance(value, Role) else value)
            session.flush()
            after = _user(row)
            if _is_admin(before) and not _is_admin(after):
                _keep_an_admin(session, username)
            audit_row(session, now, actor, address, "user.update", "user", username, before, after,
                   note)
        return after

    @_translated
    def find_user(self, username: str) -> User | None:
        """The account named *username*, or None."""
        with self._read() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            return None if row is None else _user(row)

    @_translated
    def list_users(self) -> list[User]:
        """Every account, by name."""
        with self._read() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    # --- API tokens --------------------------------------------------------------------

    @_translated
    def add_token(
        self, user: User, name: str, token_hash: str, prefix: str, role: Role, *, actor: str,
        address: str = "",
    ) -> Token:
        """Store a new token's hash; the token itself is never stored."""
        now = utcnow()
        with self._write.begin() as session:
            row = TokenRow(
                user_id=user.id,
                name=name,
                token_hash=token_hash,
                prefix=prefix,
                role=Role(role).value,
                created_at=now,
            )
            session.add(row)
            session.flush()
            token = _token(row, user.username)
            audit_row(session, now, actor, address, "token.create", "token", str(row.id), None,
                      token)
        return token

    @_translated
    def find_token_by_hash(self, token_hash: str) -> tuple[Token, User, str] | None:
        """The token whose SHA-256 is *token_hash*, its owner and the stored hash; or None.

        The stored hash is returned so the caller can compare it in constant time.
        """
        query = (
            select(TokenRow, UserRow)
            .join(UserRow, UserRow.id == TokenRow.user_id)
            .where(TokenRow.token_hash == token_hash)
        )
        with self._read() as session:
            found = session.execute(query).first()
            if found is None:
                return None
            token_row, user_row = found
            return _token(token_row, user_row.username), _user(user_row), token_row.token_hash

    @_translated
    def touch_token(self, token_id: int, at: datetime) -> None:
        """Record that a token was used at *at* (bookkeeping, not audited)."""
        with self._write.begin() as session:
            session.execute(update(TokenRow).where(TokenRow.id == token_id).values(last_used_at=at))

    @_translated
    def revoke_token(self, token_id: int, *, actor: str, address: str = "") -> Token:
        """Revoke a token at once; raises :class:`NotFound`. Revoking twice is harmless."""
        now = utcnow()
        with self._write.begin() as session:
            found = session.execute(
                select(TokenRow, UserRow.username)
                .join(UserRow, UserRow.id == TokenRow.user_id)
                .where(TokenRow.id == token_id)
            ).first()
            if found is None:
                raise NotFound(f"no API token {token_id}", field="token", value=token_id)
            row, username = found
            before = _token(row, username)
            if row.revoked_at is None:
                row.revoked_at = now
                session.flush()
            after = _token(row, username)
            audit_row(session, now, actor, address, "token.revoke", "token", str(token_id), before,
                   after)
        return after

    @_translated
    def list_tokens(self, username: str | None = None) -> list[Token]:
        """Every token (optionally of one account), newest first."""
        query = select(TokenRow, UserRow.username).join(UserRow, UserRow.id == TokenRow.user_id)
        if username is not None:
            query = query.where(UserRow.username == username)
        with self._read() as session:
            rows = session.execute(query.order_by(TokenRow.id.desc())).all()
            return [_token(row, name) for row, name in rows]

    # --- war maps (issue 11) --------------------------------------------------------------

    @_translated
    def add_war_map(
        self, *, map_date: str, source: str, origin: str, checksum: str, geometry: dict,
        actor: str, activate: bool = True, note: str = "",
    ) -> WarMapVersion:
        """Store a new map version (in force at once unless *activate* is False), audited."""
        now = utcnow()
        with self._write.begin() as session:
            activation = _next_activation(session) if activate else 0
            row = WarMapRow(
                map_date=map_date, source=source, origin=origin, checksum=checksum,
                geometry=geometry, created_by=actor, created_at=now, activation=activation,
            )
            session.add(row)
            session.flush()
            record = _war_map(row, activation > 0)
            audit_row(session, now, actor, "", "war_map.import", "war_map", str(row.version),
                   None, _war_map_summary(record), note)
        return record

    @_translated
    def activate_war_map(self, version: int, *, actor: str, note: str = "") -> WarMapVersion:
        """Put stored map *version* back in force (a rollback), audited; raises NotFound."""
        now = utcnow()
        with self._write.begin() as session:
            row = session.get(WarMapRow, version)
            if row is None:
                raise NotFound(f"no war map version {version}", field="version", value=version)
            before = _active_war_map_row(session)
            row.activation = _next_activation(session)
            session.flush()
            record = _war_map(row, True)
            audit_row(session, now, actor, "", "war_map.rollback", "war_map", str(version),
                   _war_map_summary(_war_map(before, False)) if before is not None else None,
                   _war_map_summary(record), note)
        return record

    @_translated
    def find_active_war_map(self) -> WarMapVersion | None:
        """The map in force, or None when none was ever imported."""
        with self._read() as session:
            row = _active_war_map_row(session)
            return _war_map(row, True) if row is not None else None

    @_translated
    def list_war_maps(self) -> list[WarMapVersion]:
        """Every stored map version, newest first (without comparing geometry)."""
        with self._read() as session:
            active = _active_war_map_row(session)
            rows = session.scalars(select(WarMapRow).order_by(WarMapRow.version.desc()))
            return [_war_map(r, active is not None and r.version == active.version) for r in rows]

    # --- audit and rate limiting ---------------------------------------------------------

    @_translated
    def list_audit(
        self, object_id: str | None = None, limit: int = 100, before_id: int | None = None
    ) -> list[AuditEntry]:
        """Audit entries, newest first; *before_id* pages back."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if object_id is not None:
            query = query.where(AuditRow.object_id == object_id)
        if before_id is not None:
            query = query.where(AuditRow.id < before_id)
        with self._read() as session:
            return [_audit_entry(row) for row in session.scalars(query)]

    @_translated
    def count_auth_failures(self, key: str, since: datetime) -> int:
        """Failures recorded under *key* since *since*."""
        query = select(func.count()).where(AuthFailureRow.key == key, AuthFailureRow.at >= since)
        with self._read() as session:
            return int(session.scalar(query))

    @_translated
    def add_auth_failure(self, key: str, at: datetime, prune_before: datetime) -> None:
        """Record a failure under *key*, dropping failures older than *prune_before*."""
        with self._write.begin() as session:
            session.execute(delete(AuthFailureRow).where(AuthFailureRow.at < prune_before))
            session.add(AuthFailureRow(key=key, at=at))


# --- private helpers ---------------------------------------------------------------------


def _published_at(new: Flag, current: Flag | None, now: datetime) -> datetime | None:
    """Keep the first publication time; set it when a flag is first published."""
    if current is not None and current.published_at is not None:
        return current.published_at
    if new.published_at is not None:
        return new.published_at
    return now if new.status is FlagStatus.PUBLISHED else None


def _version_row(flag: Flag, change: str, now: datetime) -> FlagVersionRow:
    return FlagVersionRow(
        flag_id=flag.id,
        version=flag.version,
        status=flag.status.value,
        level=flag.level.value,
        target_kind=flag.target.kind,
        active_from=flag.active_from,
        active_until=flag.active_until,
        published_at=flag.published_at,
        data=flag_to_dict(flag),
        author=flag.author,
        change=change,
        created_at=now,
    )


def _is_admin(user: User) -> bool:
    return user.active and user.role is Role.ADMIN


def _keep_an_admin(session: Session, username: str) -> None:
    """Refuse a change that leaves no active admin (nobody could then manage accounts)."""
    query = select(UserRow).where(UserRow.role == Role.ADMIN.value, UserRow.active.is_(True))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # two admins disabling each other at once
    if not session.scalars(query).first():
        raise Conflict(
            f"{username!r} is the last active admin; make another account admin first",
            field="username", value=username, extra={"reason": "last-admin"},
        )


def _flag(row: FlagVersionRow) -> Flag:
    try:
        return flag_from_dict(row.data)
    except InvalidFlag:
        # A row written before text was checked at the boundary (a lone surrogate, NUL):
        # shown with U+FFFD in place of the bad characters rather than breaking every read.
        log.warning("flag %s v%s holds unreadable text; shown repaired", row.flag_id, row.version)
        return flag_from_dict(replace_unreadable(row.data))


def _current_flag(session: Session, flag_id: str) -> Flag:
    head = session.get(FlagRow, flag_id)
    if head is None:
        raise NotFound(f"no flag {flag_id!r}", field="id", value=flag_id)
    return _flag(session.get(FlagVersionRow, (flag_id, head.current_version)))


def _check_version(current: Flag, expected: int) -> None:
    if current.version != expected:
        raise Conflict(
            f"flag {current.id!r} is at version {current.version}, not {expected}; "
            "reload it and apply your change again",
            field="version",
            value=expected,
            extra={"current_version": current.version, "current": flag_to_dict(current)},
        )


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        active=row.active,
        created_at=row.created_at,
        password_hash=row.password_hash,
    )


def _token(row: TokenRow, username: str) -> Token:
    return Token(
        id=row.id,
        user_id=row.user_id,
        username=username,
        name=row.name,
        prefix=row.prefix,
        role=Role(row.role),
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        address=row.address,
        action=row.action,
        object_type=row.object_type,
        object_id=row.object_id,
        before=row.before,
        after=row.after,
        note=row.note,
    )


def _snapshot(obj) -> dict | None:
    """The JSON kept in the audit log for a flag, account or token (never a secret)."""
    if obj is None:
        return None
    if isinstance(obj, Flag):
        return flag_to_dict(obj)
    if isinstance(obj, dict):
        return obj
    data = {}
    for name in obj.__dataclass_fields__:
        if name == "password_hash":
            continue
        value = getattr(obj, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    return data


def audit_row(session, at, actor, address, action, object_type, object_id, before, after, note=""):
    """Add one audit-log row to *session* (the change's own transaction)."""
    session.add(
        AuditRow(
            at=at,
            actor=actor,
            address=address or "",
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=_snapshot(before),
            after=_snapshot(after),
            note=note,
        )
    )


def _next_activation(session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(WarMapRow.activation), 0)))) + 1


def _flags_stamp(session) -> int:
    """See :meth:`Store.flags_stamp`: one statement, one round trip."""
    flags = select(func.coalesce(func.sum(FlagRow.current_version), 0)).scalar_subquery()
    maps = select(func.coalesce(func.max(WarMapRow.activation), 0)).scalar_subquery()
    return int(session.scalar(select(flags + maps)))


def _flags_query(status: FlagStatus | None):
    query = select(FlagVersionRow).join(
        FlagRow,
        (FlagRow.id == FlagVersionRow.flag_id)
        & (FlagRow.current_version == FlagVersionRow.version),
    )
    if status is not None:
        query = query.where(FlagRow.status == FlagStatus(status).value)
    return query.order_by(FlagRow.updated_at.desc(), FlagRow.id)


def _active_war_map_row(session) -> WarMapRow | None:
    query = (
        select(WarMapRow).where(WarMapRow.activation > 0)
        .order_by(WarMapRow.activation.desc()).limit(1)
    )
    return session.scalars(query).first()


def _war_map(row: WarMapRow, active: bool) -> WarMapVersion:
    return WarMapVersion(
        version=row.version, map_date=row.map_date, source=row.source, origin=row.origin,
        checksum=row.checksum, geometry=row.geometry, created_by=row.created_by,
        created_at=row.created_at, active=active, activation=row.activation,
    )


def _war_map_summary(record: WarMapVersion) -> dict:
    """What the audit log keeps of a map: everything but the geometry (kept in its row)."""
    return {
        "version": record.version, "map_date": record.map_date, "source": record.source,
        "origin": record.origin, "checksum": record.checksum,
    }
