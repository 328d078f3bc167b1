"""What each partner alert entity proposed: (feed, entity, target) → the flag it drafted.

One row per proposal of a partner GTFS-realtime alert entity (an entity naming two
stations proposes two flags, one per target, unless they make one section of a line;
``part`` tells them apart, ``unmatched`` is the row of selectors that matched nothing).
``fingerprint`` is the digest of what the proposal would write, so an unchanged entity is
recognised and never drafted twice; ``state`` is where the proposal stands (see
:class:`EntityState`). The flags themselves, their versions and their audit entries are the
flag store's (:class:`~advisor.store.Store`); the feed's health and poll lease are
:class:`~advisor.store.AlertStore`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Engine, Index, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker

from advisor.store.db import translated
from advisor.store.repository import audit_row
from advisor.store.tables import Base, UTCDateTime

__all__ = ["EntityState", "PartnerEntity", "PartnerEntityRow", "PartnerFeedStore"]


class EntityState(StrEnum):
    """Where one partner-entity proposal stands."""

    OPEN = "open"
    """The entity is in the feed; its flag is a draft for review, or published."""
    UNMATCHED = "unmatched"
    """Selectors of the entity matched nothing on the network: reported, no flag."""
    WITHDRAWAL_PROPOSED = "withdrawal_proposed"
    """The entity left the feed (or its active period ended) while its flag is published:
    an operator confirms the withdrawal (or keeps the flag); nothing is withdrawn alone."""
    CLOSED = "closed"
    """Done: the entity left and its draft was discarded, or its flag was withdrawn or kept."""


class PartnerEntityRow(Base):
    """One proposal of a partner alert entity (see the module docstring)."""

    __tablename__ = "partner_alert_entities"
    __table_args__ = (Index("ix_partner_alert_entities_flag_id", "flag_id"),)

    feed: Mapped[str] = mapped_column(String(64), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    part: Mapped[str] = mapped_column(String(120), primary_key=True)
    flag_id: Mapped[str | None] = mapped_column(String(80))
    previous_flag_id: Mapped[str | None] = mapped_column(String(80))
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    state: Mapped[str] = mapped_column(String(24), nullable=False)
    generation: Mapped[int] = mapped_column(Integer, nullable=False)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    data: Mapped[dict] = mapped_column(JSON, nullable=False)


@dataclass(frozen=True)
class PartnerEntity:
    """A proposal row as the use cases see it.

    ``flag_id`` is the flag this proposal drafted (None when unmatched);
    ``previous_flag_id`` the published flag a changed entity's new draft would replace;
    ``generation`` counts the drafts proposed for this key (part of the next flag id);
    ``data`` is the entity summary the console shows.
    """

    feed: str
    entity_id: str
    part: str
    flag_id: str | None
    previous_flag_id: str | None
    fingerprint: str
    state: EntityState
    generation: int
    first_seen_at: datetime
    last_seen_at: datetime
    updated_at: datetime
    data: dict = field(default_factory=dict, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """``(entity_id, part)``: one proposal of a feed."""
        return self.entity_id, self.part


_translated = translated("reading or writing partner alert proposals")
_FIELDS = tuple(f.name for f in fields(PartnerEntity))


class PartnerFeedStore:
    """Partner-entity proposal rows over the flag store's engine."""

    def __init__(self, engine: Engine):
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(advisor_write=True), expire_on_commit=False
        )

    @_translated
    def list_entities(
        self, feed: str | None = None, states: tuple[EntityState, ...] = ()
    ) -> list[PartnerEntity]:
        """Proposals (of one feed, of some states), last seen first."""
        query = select(PartnerEntityRow)
        if feed is not None:
            query = query.where(PartnerEntityRow.feed == feed)
        if states:
            query = query.where(PartnerEntityRow.state.in_([s.value for s in states]))
        query = query.order_by(PartnerEntityRow.last_seen_at.desc(), PartnerEntityRow.feed,
                               PartnerEntityRow.entity_id, PartnerEntityRow.part)  # fmt: skip
        with self._read() as session:
            return [_entity(row) for row in session.scalars(query)]

    @_translated
    def find_by_flag(self, flag_id: str) -> PartnerEntity | None:
        """The proposal that drafted (or would replace) flag *flag_id*, or None."""
        query = select(PartnerEntityRow).where(
            (PartnerEntityRow.flag_id == flag_id) | (PartnerEntityRow.previous_flag_id == flag_id)
        )
        with self._read() as session:
            row = session.scalars(query.order_by(PartnerEntityRow.updated_at.desc())).first()
            return None if row is None else _entity(row)

    @_translated
    def save(self, entity: PartnerEntity, *, audit: tuple[str, str, str] | None = None) -> None:
        """Insert or replace the row of *entity*'s (feed, entity id, part); with *audit*
        ``(actor, action, note)`` an audit row on its flag in the same transaction."""
        self.save_all([entity], audit=audit)

    @_translated
    def save_all(self, entities, prune: tuple[str, datetime] | None = None,
                 audit: tuple[str, str, str] | None = None) -> None:
        """Insert or replace the rows of *entities* in one transaction; with *prune*
        ``(feed, before)`` also forget that feed's closed proposals last seen before."""
        entities = list(entities)
        with self._write.begin() as session:
            feeds = {entity.feed for entity in entities}
            rows = {(r.feed, r.entity_id, r.part): r for r in session.scalars(
                select(PartnerEntityRow).where(PartnerEntityRow.feed.in_(feeds)))}  # fmt: skip
            for entity in entities:
                _put(session, rows.get((entity.feed, entity.entity_id, entity.part)), entity)
                if audit is not None:
                    actor, action, note = audit
                    audit_row(session, entity.updated_at, actor, "", action, "flag",
                              entity.flag_id, None, _proposal(entity), note)  # fmt: skip
            if prune is not None:
                feed, before = prune
                session.execute(
                    delete(PartnerEntityRow).where(
                        PartnerEntityRow.feed == feed,
                        PartnerEntityRow.state == EntityState.CLOSED.value,
                        PartnerEntityRow.last_seen_at < before,
                    )
                )


def _put(session, row: PartnerEntityRow | None, entity: PartnerEntity) -> None:
    values = {name: getattr(entity, name) for name in _FIELDS}
    values["state"] = EntityState(entity.state).value
    if row is None:
        session.add(PartnerEntityRow(**values))
        return
    for name, value in values.items():
        setattr(row, name, value)


def _entity(row: PartnerEntityRow) -> PartnerEntity:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["state"] = EntityState(row.state)
    values["data"] = dict(row.data or {})
    return PartnerEntity(**values)


def _proposal(entity: PartnerEntity) -> dict:
    """What the audit log keeps of a proposal: where it came from and its state."""
    return {"feed": entity.feed, "entity_id": entity.entity_id, "state": str(entity.state),
            "previous_flag_id": entity.previous_flag_id}
