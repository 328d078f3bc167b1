"""The flag lifecycle over the store: read, create, edit, publish, withdraw, audit."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from advisor.errors import Conflict, InvalidFlag, InvalidQuery, NotFound
from advisor.risk.model import Flag, FlagStatus, utcnow
from advisor.risk.parse import (
    FLAG_ID_RE,
    MAX_ID_CHARS,
    flag_from_dict,
    flag_to_dict,
    validate_against,
)
from advisor.services.accounts import Principal, require_role
from advisor.store import AuditEntry, Role, Store, current_revision
from advisor.text import check_text

__all__ = ["API_FLAG_FIELDS", "ActiveFlags", "FlagUseCases"]

# The lifecycle draft → published → withdrawn: for each target state, the states it is
# reached from.
_MOVES_TO = {
    FlagStatus.PUBLISHED: frozenset({FlagStatus.DRAFT}),
    FlagStatus.WITHDRAWN: frozenset({FlagStatus.DRAFT, FlagStatus.PUBLISHED}),
}
API_FLAG_FIELDS = frozenset(
    {"id", "level", "target", "reason_uk", "reason_en", "source", "active_from", "active_until",
     "caps_baseline"}
)



@dataclass(frozen=True)
class ActiveFlags:
    """The flags in force at a moment, and how fresh the flag data behind them is."""

    at: datetime
    flags: tuple[Flag, ...]
    updated_at: datetime | None
    available: bool = True
    stale: bool = False
    origin: str = "source"  # see DataFreshness.flags_origin



class FlagUseCases:
    """Flag and audit use cases (a part of :class:`Operations`)."""

    store: Store

    # --- flags: reading ------------------------------------------------------------------

    def list_active_flags(self, at: datetime | None = None) -> ActiveFlags:
        """Published flags in force at *at* (default now), from the very snapshot routing
        uses: a passenger sees the flags the advice applies, and the last known ones (said
        to be stale) while the store is unreachable."""
        at = at or utcnow()
        if self.services is None:
            flags = self.store.list_flags(FlagStatus.PUBLISHED)
            return ActiveFlags(at, tuple(f for f in flags if f.is_active_at(at)), utcnow())
        state = self.services.risk_state
        active = tuple(f for f in state.flags if f.is_active_at(at))
        return ActiveFlags(
            at, active, state.updated_at, state.available, state.stale, state.origin
        )

    def list_flags(self, principal: Principal | None, status: str | None = None) -> list[Flag]:
        """Every flag (or those of one status), for viewers and up."""
        require_role(principal, Role.VIEWER)
        return self.store.list_flags(_status_filter(status))

    def get_flag(self, flag_id: str, principal: Principal | None = None) -> Flag:
        """The current version of a flag; drafts and withdrawn flags only for viewers and up."""
        flag = self.store.find_flag(_existing_id(flag_id))
        if flag is None or (flag.status is not FlagStatus.PUBLISHED and principal is None):
            raise NotFound(f"no flag {flag_id!r}", field="id", value=flag_id)
        if flag.status is not FlagStatus.PUBLISHED:
            require_role(principal, Role.VIEWER)
        return flag

    def flag_history(self, flag_id: str, principal: Principal | None) -> list[Flag]:
        """Every version of a flag, oldest first."""
        require_role(principal, Role.VIEWER)
        return self.store.list_flag_versions(_existing_id(flag_id))

    def list_audit(
        self, principal: Principal | None, object_id: str | None = None, limit: int = 100,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """Audit entries, newest first (operators and admins)."""
        require_role(principal, Role.OPERATOR)
        if not 1 <= limit <= 1000:
            raise InvalidQuery(f"limit {limit} must be 1–1000", field="limit", value=limit)
        if object_id is not None:
            object_id = check_text(object_id, "object")[:200]
        return self.store.list_audit(object_id=object_id, limit=limit, before_id=before_id)

    # --- flags: writing ------------------------------------------------------------------

    def create_flag(self, data: Mapping, principal: Principal | None) -> Flag:
        """Validate and store a new flag as a draft or published (``status``), version 1."""
        require_role(principal, Role.OPERATOR)
        fields = _writable(data, API_FLAG_FIELDS | {"status"})
        fields.setdefault("id", "f-" + secrets.token_hex(6))
        flag = self._checked_flag({"status": "draft", **fields, "author": principal.name})
        if flag.status is FlagStatus.WITHDRAWN:
            raise InvalidFlag(
                "a new flag is a draft or published", field="status", value="withdrawn"
            )
        flag = self.store.add_flag(flag, actor=principal.actor, address=principal.address)
        if flag.status is FlagStatus.PUBLISHED:
            self._flags_changed()
        return flag

    def update_flag(
        self, flag_id: str, data: Mapping, expected_version: int, principal: Principal | None,
        replace_all: bool = False,
    ) -> Flag:
        """Edit a draft or published flag: merge *data* (or replace all fields), new version."""
        require_role(principal, Role.OPERATOR)
        fields = _writable(data)
        if "id" in fields and fields["id"] != flag_id:
            raise InvalidFlag("a flag's id cannot change", field="id", value=fields["id"])

        def change(current: Flag) -> Flag:
            if current.status is FlagStatus.WITHDRAWN:
                raise Conflict(f"flag {flag_id!r} is withdrawn; create a new flag instead")
            base = {} if replace_all else _subset(flag_to_dict(current), API_FLAG_FIELDS)
            merged = {**base, **fields, "id": flag_id}
            merged = {k: v for k, v in merged.items() if v is not None}
            return self._checked_flag(
                {**merged, "status": current.status.value, "author": principal.name}
            )

        flag = self._change(flag_id, expected_version, change, principal, "flag.update")
        if flag.status is FlagStatus.PUBLISHED:
            self._flags_changed()
        return flag

    def publish_flag(
        self, flag_id: str, expected_version: int, principal: Principal | None
    ) -> Flag:
        """Draft → published. Routing in this process sees it before this returns."""
        return self._move(flag_id, expected_version, principal, FlagStatus.PUBLISHED)

    def withdraw_flag(
        self, flag_id: str, expected_version: int, principal: Principal | None,
        reason: str = "",
    ) -> Flag:
        """Draft or published → withdrawn; kept for history, no effect on routing. The
        *reason* is written to the audit log."""
        reason = check_text(str(reason or ""), "reason", multiline=True).strip()[:500]
        return self._move(flag_id, expected_version, principal, FlagStatus.WITHDRAWN, reason)

    def _move(self, flag_id, expected_version, principal, to: FlagStatus, note="") -> Flag:
        require_role(principal, Role.OPERATOR)
        change = _transition(to, _MOVES_TO[to], principal)
        action = "flag.publish" if to is FlagStatus.PUBLISHED else "flag.withdraw"
        flag = self._change(flag_id, expected_version, change, principal, action, note)
        if flag.published_at is not None:  # a draft withdrawn never reached routing
            self._flags_changed()
        return flag

    def _change(self, flag_id, expected_version, change, principal, action, note="") -> Flag:
        return self.store.change_flag(
            _existing_id(flag_id), _version(expected_version), change, actor=principal.actor,
            address=principal.address, action=action, note=note,
        )

    def _checked_flag(self, data: Mapping) -> Flag:
        flag = flag_from_dict(data)
        if self.services is not None:
            validate_against(flag, self.services.network)
        return flag

    def _flags_changed(self) -> None:
        # Other processes are told first, through the change bus (Redis pub/sub, else
        # PostgreSQL NOTIFY): they re-read while this one does, and see the change within
        # flags_refresh_seconds (the poll) in any case. Then this process swaps routing's
        # snapshot, before the write is even acknowledged.
        if getattr(self, "change_bus", None) is not None:
            self.change_bus.announce()
        if self.services is not None:
            self.services.refresh_flags()

    def schema_revision(self) -> str:
        """The migration the database is at."""
        return current_revision(self.store.engine)



def _writable(data: Mapping, allowed=API_FLAG_FIELDS) -> dict:
    """*data* if it has only fields an operator may write; else all unknown ones are named."""
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise InvalidFlag(
            f"unknown field(s): {', '.join(unknown)}", field=unknown[0],
            extra={"unknown_fields": unknown},
        )
    return dict(data)


def _existing_id(flag_id: str) -> str:
    """*flag_id* if a stored flag could have it; else :class:`NotFound` at once (a NUL or
    a surrogate would otherwise reach the database, which refuses it with an error)."""
    if not FLAG_ID_RE.fullmatch(str(flag_id)) or len(flag_id) > MAX_ID_CHARS:
        raise NotFound(f"no flag {flag_id!r}", field="id", value=ascii(flag_id)[:60])
    return flag_id


def _subset(data: Mapping, names) -> dict:
    return {k: v for k, v in data.items() if k in names}


def _transition(to: FlagStatus, allowed_from: frozenset[FlagStatus], principal: Principal):
    def change(current: Flag) -> Flag:
        if current.status not in allowed_from:
            raise Conflict(
                f"flag {current.id!r} is {current.status.value}; it cannot become {to.value}",
                field="status", value=current.status.value,
                extra={"current_version": current.version},
            )
        return replace(current, status=to, author=principal.name)

    return change


def _status_filter(value) -> FlagStatus | None:
    if not value:
        return None
    names = [status.value for status in FlagStatus]
    if value not in names:
        raise InvalidQuery(
            f"status {value!r} is not one of {', '.join(names)}", field="status", value=value
        )
    return FlagStatus(value)


def _version(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidFlag(
            f"version {value!r} must be the positive integer version you edited",
            field="version", value=str(value),
        )
    return value

